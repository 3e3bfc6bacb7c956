"""The returns schema of the first release (revision 0001)."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
# Tables a database made before migrations holds; it is stamped here (kernel/migrate.py).
ADOPTS = (
    "inspected_unit",
    "refund",
    "return_line",
    "returns",
)


def upgrade() -> None:
    op.create_table(
        "returns",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("placed_by", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("destination_code", sa.String(length=64), nullable=False),
        sa.Column("destination_kind", sa.String(length=32), nullable=False),
        sa.Column("estimated_cost_cents", sa.Integer(), nullable=False),
        sa.Column("centralized_cost_cents", sa.Integer(), nullable=False),
        sa.Column("customer_latitude", sa.Float(), nullable=False),
        sa.Column("customer_longitude", sa.Float(), nullable=False),
        sa.Column("fraud_flags", sa.JSON(), nullable=False),
        sa.Column("notes", sa.String(length=2000), nullable=False),
        sa.Column("measured_weight_grams", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_returns_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            "ix_returns_queue", ["status", "destination_code", "received_at"], unique=False
        )
        batch_op.create_index("ix_returns_requested_at", ["requested_at"], unique=False)

    op.create_table(
        "inspected_unit",
        sa.Column("return_id", sa.String(length=36), nullable=False),
        sa.Column("unit_number", sa.Integer(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("grade", sa.String(length=32), nullable=False),
        sa.Column("serial_number", sa.String(length=128), nullable=False),
        sa.Column("disposition", sa.String(length=32), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.id"],
        ),
        sa.PrimaryKeyConstraint("return_id", "unit_number"),
    )
    op.create_table(
        "refund",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("return_id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount_cents >= 0", name="refund_amount_not_negative"),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("return_id"),
    )
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.create_index("ix_refund_due", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "return_line",
        sa.Column("return_id", sa.String(length=36), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("unit_weight_grams", sa.Integer(), nullable=False),
        sa.Column("serialized", sa.Boolean(), nullable=False),
        sa.Column("shipped_quantity", sa.Integer(), nullable=False),
        sa.Column("shipped_serials", sa.JSON(), nullable=False),
        sa.CheckConstraint("quantity >= 1", name="return_line_quantity_positive"),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.id"],
        ),
        sa.PrimaryKeyConstraint("return_id", "line_number"),
    )


def downgrade() -> None:
    op.drop_table("return_line")
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_index("ix_refund_due")

    op.drop_table("refund")
    op.drop_table("inspected_unit")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index("ix_returns_requested_at")
        batch_op.drop_index("ix_returns_queue")
        batch_op.drop_index(batch_op.f("ix_returns_order_id"))

    op.drop_table("returns")
