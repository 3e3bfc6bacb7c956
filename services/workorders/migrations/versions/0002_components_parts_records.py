"""Work orders: components, parts and unit records per operation, when a work order finished
and what a scrapped one wrote off (revision 0002)."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "work_order_component",
        sa.Column("work_order_id", sa.String(length=36), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "unit_cost_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("work_order_id", "sku"),
    )
    op.create_table(
        "work_order_part",
        sa.Column("work_order_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "unit_cost_cents", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("work_order_id", "position", "sku"),
    )
    op.create_table(
        "work_order_record",
        sa.Column("work_order_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("serial_number", sa.String(length=128), nullable=False),
        sa.Column("result", sa.String(length=2000), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("work_order_id", "position", "sequence"),
    )
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("order_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        # Work orders made before: not scrapped, nothing written off.
        batch_op.add_column(
            sa.Column("scrapped", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "written_off_cents",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=False,
                server_default="0",
            )
        )

    with op.batch_alter_table("work_order_operation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_order_operation", schema=None) as batch_op:
        batch_op.drop_column("completed_at")

    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.drop_column("written_off_cents")
        batch_op.drop_column("scrapped")
        batch_op.drop_column("completed_at")
        batch_op.drop_column("order_id")

    op.drop_table("work_order_record")
    op.drop_table("work_order_part")
    op.drop_table("work_order_component")
