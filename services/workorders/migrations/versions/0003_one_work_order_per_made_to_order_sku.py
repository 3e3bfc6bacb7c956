"""One work order per SKU an order makes to order at a location (revision 0003)."""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "one_work_order_per_made_to_order_sku", ["order_id", "sku", "location_code"]
        )


def downgrade() -> None:
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.drop_constraint("one_work_order_per_made_to_order_sku", type_="unique")
