"""Backorders: when a backordered order's units are expected in (revision 0002)."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("orders") as table:
        table.add_column(
            sa.Column("backorder_expected_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as table:
        table.drop_column("backorder_expected_at")
