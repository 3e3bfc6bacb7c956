"""fulfillment failures: the reason a platform refused a shipment for good (revision 0006)."""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    # Null for every row owed before: none of them had been refused for good.
    with op.batch_alter_table("channel_fulfillment") as table:
        table.add_column(sa.Column("failure", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_fulfillment") as table:
        table.drop_column("failure")
