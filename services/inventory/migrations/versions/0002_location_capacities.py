"""Locations declare what they can ship and inspect in a day (revision 0002)."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.add_column(sa.Column("daily_ship_capacity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("daily_inspection_capacity", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.drop_column("daily_inspection_capacity")
        batch_op.drop_column("daily_ship_capacity")
