"""Returns platforms: their connections, the updates owed to and heard from them, and a
return's platform, platform return id and tracking number (revision 0003)."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "platform_update",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("connection_code", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("return_id", sa.String(length=36), nullable=True),
        sa.Column("platform_return_id", sa.String(length=128), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("platform_update", schema=None) as batch_op:
        batch_op.create_index("ix_platform_update_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_platform_update_return", ["return_id"], unique=False)
        batch_op.create_index(
            "one_platform_update_per_key", ["connection_code", "key"], unique=True
        )

    op.create_table(
        "returns_platform",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("webhook_secret", sa.String(length=200), nullable=False),
        sa.Column("api_base_url", sa.String(length=500), nullable=False),
        sa.Column("access_token", sa.String(length=500), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform_code", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("platform_return_id", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column("tracking_number", sa.String(length=128), nullable=False, server_default="")
        )
    # An index rather than a table constraint: SQLite adds one without copying the table.
    op.create_index(
        "one_return_per_platform_id",
        "returns",
        ["platform_code", "platform_return_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("one_return_per_platform_id", table_name="returns")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_column("tracking_number")
        batch_op.drop_column("platform_return_id")
        batch_op.drop_column("platform_code")

    op.drop_table("returns_platform")
    with op.batch_alter_table("platform_update", schema=None) as batch_op:
        batch_op.drop_index("one_platform_update_per_key")
        batch_op.drop_index("ix_platform_update_return")
        batch_op.drop_index("ix_platform_update_due")

    op.drop_table("platform_update")
