"""amazon outbound: a shipment's lines and ship time on the fulfillment owed (revision 0005)."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    # Rows owed before this revision were Shopify's, which needs neither: defaults suffice.
    with op.batch_alter_table("channel_fulfillment") as table:
        table.add_column(
            sa.Column("lines", sa.String(length=19200), nullable=False, server_default="{}")
        )
        table.add_column(
            sa.Column(
                "shipped_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.func.now(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("channel_fulfillment") as table:
        table.drop_column("shipped_at")
        table.drop_column("lines")
