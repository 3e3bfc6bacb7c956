"""index shipments by location and status for the ship backlog (revision 0003)."""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shipment_location_status", ["location_code", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.drop_index("ix_shipment_location_status")
