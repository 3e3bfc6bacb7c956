"""Schema migrations: every database's schema is built and changed only by Alembic revisions,
run at start-up and by `oms migrate`, so a data directory outlives the version that made it.

A database holds two streams of revisions, each with its own version table: the kernel's
(`services/kernel/migrations/`: the outbox and the processed-event guard, shared by every
service) and its service's (`services/<name>/migrations/`). Each stream's `env.py` is one call to
`run_env`. Replicas starting together take turns: PostgreSQL through an advisory lock held for
the migration's transaction, SQLite through its single writer (`BEGIN IMMEDIATE`).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from services.kernel.db import Database, UTCDateTime
from services.kernel.dead_letters import DeadLetterRow
from services.kernel.outbox import OutboxMessage
from services.kernel.unit_of_work import ProcessedEvent

# Any constant: the advisory lock that serialises migrations between replicas.
MIGRATION_LOCK_KEY = 7_243_118
KERNEL_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class MigrationStream:
    """One line of revisions: where its scripts live, the tables it owns, its version table."""

    name: str
    script_location: Path
    tables: Sequence[type[SQLModel]]
    version_table: str

    def metadata(self) -> MetaData:
        """The stream's own tables only: autogenerate compares against nothing else."""
        own = MetaData()
        for table in self.tables:
            table.__table__.to_metadata(own)  # type: ignore[attr-defined]  # undeclared by SQLModel
        return own

    @property
    def table_names(self) -> frozenset[str]:
        return frozenset(str(t.__tablename__) for t in self.tables)


KERNEL_STREAM = MigrationStream(
    "kernel",
    KERNEL_MIGRATIONS,
    (OutboxMessage, ProcessedEvent, DeadLetterRow),
    "alembic_version_kernel",
)


def service_stream(name: str, tables: Sequence[type[SQLModel]]) -> MigrationStream:
    """A service's own stream, in `services/<name>/migrations/`."""
    location = Path(__file__).resolve().parents[1] / name / "migrations"
    return MigrationStream(name, location, tables, "alembic_version")


def streams(name: str, tables: Sequence[type[SQLModel]]) -> list[MigrationStream]:
    """What a service's database is migrated with, in order: the kernel's, then its own (a
    service with no tables yet has no stream of its own)."""
    return [KERNEL_STREAM, service_stream(name, tables)] if tables else [KERNEL_STREAM]


def _config(stream: MigrationStream, connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(stream.script_location))
    config.attributes["connection"] = connection
    config.attributes["stream"] = stream
    return config


async def migrate(
    db: Database, to_migrate: Sequence[MigrationStream], target: str = "head"
) -> None:
    """Brings the database's streams to `target` (their newest revision by default), in one
    transaction that replicas take in turn."""
    await _with_migration_lock(db, lambda connection: _upgrade_all(connection, to_migrate, target))


def _upgrade_all(
    connection: Connection, to_migrate: Sequence[MigrationStream], target: str
) -> None:
    for stream in to_migrate:
        command.upgrade(_config(stream, connection), target)


async def current_revisions(db: Database, to_inspect: Sequence[MigrationStream]) -> dict[str, str]:
    """Each stream's revision in the database ("" for none)."""
    revisions: dict[str, str] = {}

    def read(connection: Connection) -> None:
        for stream in to_inspect:
            context = EnvironmentContext(
                _config(stream, connection), ScriptDirectory(str(stream.script_location))
            )
            context.configure(connection=connection, version_table=stream.version_table)
            revisions[stream.name] = context.get_context().get_current_revision() or ""

    async with _one_at_a_time(), db.engine.connect() as connection:
        await connection.run_sync(read)
    return revisions


# Alembic keeps its running context in module globals (`alembic.context`, `alembic.op`), and
# its database calls yield to the event loop here: one migration at a time per event loop.
_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _one_at_a_time() -> asyncio.Lock:
    return _TURNS.setdefault(asyncio.get_running_loop(), asyncio.Lock())


async def _with_migration_lock(db: Database, work: Callable[[Connection], None]) -> None:
    async with _one_at_a_time(), db.engine.begin() as connection:
        if not db.is_sqlite:
            await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        await connection.run_sync(work)


def run_env() -> None:
    """The body of every stream's `env.py`: runs its revisions on the connection `migrate`
    passes, after adopting a database made before migrations existed."""
    from alembic import context

    stream: MigrationStream = context.config.attributes["stream"]
    connection: Connection = context.config.attributes["connection"]
    own = stream.table_names
    context.configure(
        connection=connection,
        target_metadata=stream.metadata(),
        version_table=stream.version_table,
        # SQLite changes a table by copying it; Alembic's batch mode does that for us.
        render_as_batch=True,
        include_name=lambda name, kind, _parent: kind != "table" or name in own,
        render_item=_render_item,
        compare_type=True,
    )
    _adopt_unversioned(context, stream, connection)
    with context.begin_transaction():
        context.run_migrations()


def _adopt_unversioned(context: Any, stream: MigrationStream, connection: Connection) -> None:
    """A database whose tables were created before migrations existed (the first release made
    them with `create_all`) holds exactly the first revision's tables: it is stamped at that
    revision instead of created again. The first revision lists them in `ADOPTS`."""
    migration = context.get_context()
    if migration.get_current_revision() is not None:
        return
    script: ScriptDirectory = context.script
    base = script.get_base()
    if base is None:  # no revision written yet
        return
    first = script.get_revision(base)
    adopts = set(getattr(first.module, "ADOPTS", ()))
    if adopts and adopts <= set(inspect(connection).get_table_names()):
        migration.stamp(script, first.revision)


def _render_item(kind: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    """Plain SQLAlchemy types in generated revisions, so they never import our modules."""
    if kind == "type" and isinstance(item, AutoString):
        return f"sa.String(length={item.length})" if item.length else "sa.String()"
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def new_revision(
    stream: MigrationStream, connection: Connection, message: str, rev_id: str
) -> None:
    """Writes a revision that takes the stream from its newest revision to its tables as the
    code declares them (the connection's database must be at the newest revision)."""
    command.revision(_config(stream, connection), message=message, autogenerate=True, rev_id=rev_id)
