"""index returns by destination and by status, newest requested first (revision 0005)."""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_index(
        "ix_returns_destination_requested",
        "returns",
        ["destination_code", "requested_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_returns_status_requested", "returns", ["status", "requested_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_returns_status_requested", table_name="returns")
    op.drop_index("ix_returns_destination_requested", table_name="returns")
