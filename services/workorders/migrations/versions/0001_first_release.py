"""The workorders schema of the first release (revision 0001)."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
# Tables a database made before migrations holds; it is stamped here (kernel/migrate.py).
ADOPTS = (
    "work_order",
    "work_order_operation",
)


def upgrade() -> None:
    op.create_table(
        "work_order",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("source_return_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_return_id", "sku", name="one_work_order_per_returned_sku"),
    )
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.create_index(
            "ix_work_order_status_location", ["status", "location_code"], unique=False
        )

    op.create_table(
        "work_order_operation",
        sa.Column("work_order_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("labor_minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("work_order_id", "position"),
    )


def downgrade() -> None:
    op.drop_table("work_order_operation")
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.drop_index("ix_work_order_status_location")

    op.drop_table("work_order")
