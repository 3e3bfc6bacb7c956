"""Stock counts: the discrepancies a count finds, and a level held back from sale while one
beyond the threshold is open (revision 0006)."""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "stock_discrepancy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_code", sa.String(length=64), nullable=False),
        sa.Column("ours", sa.Integer(), nullable=False),
        sa.Column("theirs", sa.Integer(), nullable=False),
        sa.Column("difference", sa.Integer(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("holds", sa.Boolean(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_stock_discrepancy_level", "stock_discrepancy", ["sku", "location_code", "status"]
    )
    op.create_index(
        "ix_stock_discrepancy_location", "stock_discrepancy", ["location_code", "status", "id"]
    )
    with op.batch_alter_table("stock_level") as table:
        table.add_column(
            sa.Column("on_hold", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("stock_level") as table:
        table.drop_column("on_hold")
    op.drop_index("ix_stock_discrepancy_location", table_name="stock_discrepancy")
    op.drop_index("ix_stock_discrepancy_level", table_name="stock_discrepancy")
    op.drop_table("stock_discrepancy")
