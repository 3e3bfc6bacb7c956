"""pushes: SKUs owed to channels, last availability sync, fulfillments owed (revision 0004)."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "pending_push",
        sa.Column("channel_code", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_code", "sku"),
    )
    op.create_table(
        "availability_sync",
        sa.Column("channel_code", sa.String(length=64), nullable=False),
        sa.Column("last_pushed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_code"),
    )
    op.create_table(
        "channel_fulfillment",
        sa.Column("shipment_id", sa.String(length=36), nullable=False),
        sa.Column("channel_code", sa.String(length=64), nullable=False),
        sa.Column("external_order_id", sa.String(length=64), nullable=False),
        sa.Column("tracking_number", sa.String(length=128), nullable=False),
        sa.Column("created", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("shipment_id"),
    )
    op.create_index(
        "ix_channel_fulfillment_created",
        "channel_fulfillment",
        ["created", "next_attempt_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_channel_fulfillment_created", table_name="channel_fulfillment")
    op.drop_table("channel_fulfillment")
    op.drop_table("availability_sync")
    op.drop_table("pending_push")
