"""returns remember the destination capacity and expected inspection hours (revision 0004)."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("destination_capacity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("expected_inspection_hours", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_column("expected_inspection_hours")
        batch_op.drop_column("destination_capacity")
