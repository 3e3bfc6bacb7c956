"""SKUs made to order from a blank (revision 0004)."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("sku") as table:
        table.add_column(sa.Column("made_from_sku", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sku") as table:
        table.drop_column("made_from_sku")
