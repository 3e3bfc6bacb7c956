"""The workorders schema of the first release

Revision 0001, the first: the schema as the first release created it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A database made before migrations existed holds exactly these tables: it is stamped at this
# revision rather than created again (services/kernel/migrate.py).
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
