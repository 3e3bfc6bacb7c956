"""Idempotency keys on return requests; money figures that outgrow 32 bits (revision 0002)."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

# SQLite's INTEGER already holds 64 bits, and changing a column's type there means copying its
# table — which foreign keys from the lines and refunds forbid for `returns` — so only
# PostgreSQL's columns change type.
MONEY = {"returns": ("estimated_cost_cents", "centralized_cost_cents"), "refund": ("amount_cents",)}


def _widen(to: sa.types.TypeEngine[int], was: sa.types.TypeEngine[int]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in MONEY.items():
        for column in columns:
            op.alter_column(table, column, type_=to, existing_type=was, existing_nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=128), nullable=True))
    # An index rather than a table constraint: SQLite adds one without copying the table.
    op.create_index("one_return_per_key", "returns", ["order_id", "idempotency_key"], unique=True)
    _widen(sa.BigInteger(), sa.Integer())


def downgrade() -> None:
    _widen(sa.Integer(), sa.BigInteger())
    op.drop_index("one_return_per_key", table_name="returns")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_column("idempotency_key")
