"""first release (revision 0001)."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "demand",
        sa.Column("shipment_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shipped", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("shipment_id", "sku"),
    )
    with op.batch_alter_table("demand", schema=None) as batch_op:
        batch_op.create_index("ix_demand_location_day", ["location_code", "day"], unique=False)
        batch_op.create_index(batch_op.f("ix_demand_order_id"), ["order_id"], unique=False)

    op.create_table(
        "expected_return",
        sa.Column("return_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("arrived", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("return_id", "sku"),
    )
    with op.batch_alter_table("expected_return", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_expected_return_location_code"), ["location_code"], unique=False
        )

    op.create_table(
        "inspection_outcome",
        sa.Column("return_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("inspected", sa.Integer(), nullable=False),
        sa.Column("restocked", sa.Integer(), nullable=False),
        sa.Column("refurbished", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("return_id", "sku"),
    )
    with op.batch_alter_table("inspection_outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_outcome_sku"), ["sku"], unique=False)

    op.create_table(
        "repair_outcome",
        sa.Column("work_order_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("scrapped", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("work_order_id"),
    )
    with op.batch_alter_table("repair_outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_repair_outcome_sku"), ["sku"], unique=False)

    op.create_table(
        "supplier",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("pack_size", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "purchase_order",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("supplier_code", sa.String(length=64), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_code"],
            ["supplier.code"],
        ),
        sa.PrimaryKeyConstraint("number"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("purchase_order", schema=None) as batch_op:
        batch_op.create_index(
            "ix_purchase_order_status_location", ["status", "location_code"], unique=False
        )

    op.create_table(
        "supplier_sku",
        sa.Column("supplier_code", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["supplier_code"],
            ["supplier.code"],
        ),
        sa.PrimaryKeyConstraint("supplier_code", "sku"),
    )
    with op.batch_alter_table("supplier_sku", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supplier_sku_sku"), ["sku"], unique=False)

    op.create_table(
        "purchase_order_line",
        sa.Column("purchase_order_id", sa.String(length=36), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("quantity_ordered", sa.Integer(), nullable=False),
        sa.Column("quantity_received", sa.Integer(), nullable=False),
        sa.Column(
            "unit_cost_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.CheckConstraint(
            "quantity_received >= 0 AND quantity_received <= quantity_ordered",
            name="received_within_ordered",
        ),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["purchase_order.id"],
        ),
        sa.PrimaryKeyConstraint("purchase_order_id", "sku"),
    )
    with op.batch_alter_table("purchase_order_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchase_order_line_sku"), ["sku"], unique=False)

    op.create_table(
        "receipt",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("purchase_order_id", sa.String(length=36), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["purchase_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("purchase_order_id", "idempotency_key", name="one_receipt_per_key"),
    )
    with op.batch_alter_table("receipt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_receipt_purchase_order_id"), ["purchase_order_id"], unique=False
        )

    op.create_table(
        "supplier_invoice",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("supplier_code", sa.String(length=64), nullable=False),
        sa.Column("invoice_number", sa.String(length=64), nullable=False),
        sa.Column("purchase_order_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["purchase_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("supplier_code", "invoice_number", name="one_invoice_per_number"),
    )
    op.create_table(
        "invoice_discrepancy",
        sa.Column("invoice_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("expected", sa.BigInteger(), nullable=False),
        sa.Column("actual", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["supplier_invoice.id"],
        ),
        sa.PrimaryKeyConstraint("invoice_id", "position"),
    )
    op.create_table(
        "supplier_invoice_line",
        sa.Column("invoice_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "unit_cost_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["supplier_invoice.id"],
        ),
        sa.PrimaryKeyConstraint("invoice_id", "position"),
    )


def downgrade() -> None:
    op.drop_table("supplier_invoice_line")
    op.drop_table("invoice_discrepancy")
    op.drop_table("supplier_invoice")
    with op.batch_alter_table("receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipt_purchase_order_id"))

    op.drop_table("receipt")
    with op.batch_alter_table("purchase_order_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchase_order_line_sku"))

    op.drop_table("purchase_order_line")
    with op.batch_alter_table("supplier_sku", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_sku_sku"))

    op.drop_table("supplier_sku")
    with op.batch_alter_table("purchase_order", schema=None) as batch_op:
        batch_op.drop_index("ix_purchase_order_status_location")

    op.drop_table("purchase_order")
    op.drop_table("supplier")
    with op.batch_alter_table("repair_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repair_outcome_sku"))

    op.drop_table("repair_outcome")
    with op.batch_alter_table("inspection_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_outcome_sku"))

    op.drop_table("inspection_outcome")
    with op.batch_alter_table("expected_return", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_expected_return_location_code"))

    op.drop_table("expected_return")
    with op.batch_alter_table("demand", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_demand_order_id"))
        batch_op.drop_index("ix_demand_location_day")

    op.drop_table("demand")
