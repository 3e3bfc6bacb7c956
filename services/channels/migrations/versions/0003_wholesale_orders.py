"""Wholesale orders: whether a channel order ships complete, and its requested ship date
(revision 0003)."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("channel_order") as table:
        table.add_column(
            sa.Column("ship_complete", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("requested_ship_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_order") as table:
        table.drop_column("requested_ship_date")
        table.drop_column("ship_complete")
