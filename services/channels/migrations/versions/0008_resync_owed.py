"""channels owed a resync when their rules change (revision 0008)."""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "channel_resync_owed",
        sa.Column("channel_code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel_code"),
    )


def downgrade() -> None:
    op.drop_table("channel_resync_owed")
