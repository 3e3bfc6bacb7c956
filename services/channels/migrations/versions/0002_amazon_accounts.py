"""Amazon accounts: marketplace, LWA client and polling watermark per channel (revision 0002)."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "amazon_account",
        sa.Column("channel_code", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=32), nullable=False),
        sa.Column("lwa_client_id", sa.String(length=255), nullable=False),
        sa.Column("lwa_client_secret", sa.String(length=255), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("channel_code"),
    )


def downgrade() -> None:
    op.drop_table("amazon_account")
