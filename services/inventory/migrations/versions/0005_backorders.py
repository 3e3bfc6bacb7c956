"""Backorders: units promised against purchase orders, per level, movement and reservation
line; channels that allow them; purchase order supply with its expected date (revision 0005)."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def _units(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def upgrade() -> None:
    with op.batch_alter_table("stock_level") as table:
        table.add_column(_units("promised"))
        table.create_check_constraint("promised_not_negative", "promised >= 0")
    with op.batch_alter_table("stock_movement") as table:
        table.add_column(_units("promised_delta"))
    with op.batch_alter_table("reservation_line") as table:
        table.add_column(_units("promised"))
    with op.batch_alter_table("channel") as table:
        table.add_column(
            sa.Column("allow_backorders", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "supply",
        sa.Column("purchase_order_id", sa.String(length=36), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("expected_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("purchase_order_id", "sku"),
    )
    op.create_index("ix_supply_level", "supply", ["sku", "location_code"])


def downgrade() -> None:
    op.drop_index("ix_supply_level", table_name="supply")
    op.drop_table("supply")
    with op.batch_alter_table("channel") as table:
        table.drop_column("allow_backorders")
    with op.batch_alter_table("reservation_line") as table:
        table.drop_column("promised")
    with op.batch_alter_table("stock_movement") as table:
        table.drop_column("promised_delta")
    with op.batch_alter_table("stock_level") as table:
        table.drop_constraint("promised_not_negative", type_="check")
        table.drop_column("promised")
