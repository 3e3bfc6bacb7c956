"""The inventory schema of the first release (revision 0001)."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
# Tables a database made before migrations holds; it is stamped here (kernel/migrate.py).
ADOPTS = (
    "channel",
    "channel_safety_stock",
    "location",
    "reservation",
    "reservation_line",
    "sku",
    "stock_level",
    "stock_movement",
)


def upgrade() -> None:
    op.create_table(
        "channel",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("default_safety_stock", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "location",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("ships_orders", sa.Boolean(), nullable=False),
        sa.Column("accepts_returns", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "reservation",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("holder_type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "sku",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("unit_cost_cents", sa.Integer(), nullable=False),
        sa.Column("weight_grams", sa.Integer(), nullable=False),
        sa.Column("serialized", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "stock_level",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("in_transit", sa.Integer(), nullable=False),
        sa.Column("pending_inspection", sa.Integer(), nullable=False),
        sa.Column("in_repair", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "in_transit >= 0 AND pending_inspection >= 0 AND in_repair >= 0",
            name="states_not_negative",
        ),
        sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        sa.CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
        sa.PrimaryKeyConstraint("sku", "location_code"),
    )
    op.create_table(
        "stock_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("on_hand_delta", sa.Integer(), nullable=False),
        sa.Column("reserved_delta", sa.Integer(), nullable=False),
        sa.Column("in_transit_delta", sa.Integer(), nullable=False),
        sa.Column("pending_inspection_delta", sa.Integer(), nullable=False),
        sa.Column("in_repair_delta", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("source_type", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_movement_level", ["sku", "location_code", "id"], unique=False
        )

    op.create_table(
        "channel_safety_stock",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel"],
            ["channel.code"],
        ),
        sa.PrimaryKeyConstraint("channel", "sku"),
    )
    op.create_table(
        "reservation_line",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["key"],
            ["reservation.key"],
        ),
        sa.PrimaryKeyConstraint("key", "sku", "location_code"),
    )


def downgrade() -> None:
    op.drop_table("reservation_line")
    op.drop_table("channel_safety_stock")
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movement_level")

    op.drop_table("stock_movement")
    op.drop_table("stock_level")
    op.drop_table("sku")
    op.drop_table("reservation")
    op.drop_table("location")
    op.drop_table("channel")
