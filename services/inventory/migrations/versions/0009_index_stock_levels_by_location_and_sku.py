"""index stock levels by location and SKU (revision 0009)."""

from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.create_index(
        "ix_stock_level_location_sku", "stock_level", ["location_code", "sku"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_stock_level_location_sku", table_name="stock_level")
