"""first release: channels, webhook deliveries, channel orders, refunds (revision 0001)."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "channel_connection",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("webhook_secret", sa.String(length=255), nullable=False),
        sa.Column("api_base_url", sa.String(length=255), nullable=False),
        sa.Column("access_token", sa.String(length=255), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
        sa.UniqueConstraint("platform", "account", name="one_channel_per_account"),
    )
    op.create_table(
        "channel_order",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("channel_code", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("ship_to", sa.JSON(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("problem_code", sa.String(length=32), nullable=False),
        sa.Column("problem_field", sa.String(length=128), nullable=False),
        sa.Column("problem", sa.String(length=1000), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_code", "external_id", name="one_order_per_platform_id"),
    )
    with op.batch_alter_table("channel_order", schema=None) as batch_op:
        batch_op.create_index(
            "ix_channel_order_status_updated", ["status", "updated_at"], unique=False
        )

    op.create_table(
        "channel_refund",
        sa.Column("channel_code", sa.String(length=64), nullable=False),
        sa.Column("refund_id", sa.String(length=64), nullable=False),
        sa.Column("external_order_id", sa.String(length=64), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_code", "refund_id"),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("channel_code", sa.String(length=64), nullable=False),
        sa.Column("webhook_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_code", "webhook_id"),
    )


def downgrade() -> None:
    op.drop_table("webhook_delivery")
    op.drop_table("channel_refund")
    with op.batch_alter_table("channel_order", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_order_status_updated")

    op.drop_table("channel_order")
    op.drop_table("channel_connection")
