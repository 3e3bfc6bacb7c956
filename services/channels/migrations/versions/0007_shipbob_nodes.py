"""shipbob nodes: connections, last pulls, orders owed and their history (revision 0006)."""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "fulfillment_node",
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("shipbob_channel_id", sa.String(length=20), nullable=False),
        sa.Column("fulfillment_center_id", sa.String(length=20), nullable=False),
        sa.Column("api_token", sa.String(length=255), nullable=False),
        sa.Column("webhook_secret", sa.String(length=255), nullable=False),
        sa.Column("api_base_url", sa.String(length=255), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_pulled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("location_code"),
    )
    op.create_table(
        "fulfillment_node_history",
        sa.Column("shipment_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("shipment_id", "status"),
    )
    op.create_table(
        "fulfillment_node_level",
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("location_code", "sku"),
    )
    op.create_table(
        "fulfillment_node_order",
        sa.Column("shipment_id", sa.String(length=36), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("lines", sa.String(length=19200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("tracking_number", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("shipment_id"),
    )
    with op.batch_alter_table("fulfillment_node_order", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fulfillment_node_order_due", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fulfillment_node_order", schema=None) as batch_op:
        batch_op.drop_index("ix_fulfillment_node_order_due")

    op.drop_table("fulfillment_node_order")
    op.drop_table("fulfillment_node_level")
    op.drop_table("fulfillment_node_history")
    op.drop_table("fulfillment_node")
