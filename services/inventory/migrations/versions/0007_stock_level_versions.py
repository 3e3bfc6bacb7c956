"""A version on each stock level, one more with every update of its row, so a reader that loads
levels and also applies their events keeps the newest (revision 0007)."""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("stock_level") as table:
        table.add_column(
            sa.Column("version", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("stock_level") as table:
        table.drop_column("version")
