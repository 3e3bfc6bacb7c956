"""The one place that builds a service's database engine and hands out transactions.

SQLite (the embedded default) and PostgreSQL behave alike for the rules we rely on: a write
transaction is serialised against other writers (SQLite: `BEGIN IMMEDIATE`, so two processes
sharing a file never deadlock on a lock upgrade) and conditional updates are atomic.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
import stat
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy import DateTime, bindparam, event
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 15_000
READ_ONLY_OPTION = "oms_read_only"
# SQLite gives its -wal and -shm files the mode of the database file.
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enter_wal(cursor: Any) -> None:
    """Switches the file to WAL. SQLite refuses the switch at once, without its busy handler,
    while another connection writes to a file still in rollback mode (two replicas creating a
    new file), so the switch is retried for as long as a writer would wait."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)  # only ever while a new file is being created


def keep_private(database: Path) -> None:
    """The SQLite file holds customer data: readable by the service's own user only.

    A new file (and its folder, when new) is created private; an existing one, made before this
    rule or by a looser umask, is made private too. A folder that exists is left as it is: it
    may be shared (`/tmp`), and the file's own mode is what protects it.
    """
    database.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    os.close(os.open(database, os.O_RDONLY | os.O_CREAT, PRIVATE_FILE_MODE))
    for path in (database, *(Path(f"{database}{suffix}") for suffix in ("-wal", "-shm"))):
        try:
            if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
                path.chmod(PRIVATE_FILE_MODE)
        except OSError as error:  # not ours to change: say so rather than refuse to serve
            log.warning("cannot make %s private: %s", path, error)


class InlineSqliteConnection(aiosqlite.Connection):
    """aiosqlite's connection with its statements run on the event loop's own thread.

    SQLite's statements take microseconds, while handing each one to aiosqlite's worker
    thread and back costs far more CPU (a queue, a future, a thread switch and a loop wake-up)
    than the statement. `BEGIN IMMEDIATE` is the one statement that can wait (for another
    process's write lock, up to the busy timeout), and a wait must not stop the loop: it is
    tried on the loop without waiting, and only when the lock is taken does it go to the worker
    thread to wait there. Inside the transaction it opens, nothing waits: this process holds
    the write lock, and in WAL mode readers never wait for a writer.
    """

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if args and isinstance(args[0], str) and args[0].startswith("BEGIN IMMEDIATE"):
            return await self._begin_immediate(self._connection, fn, *args, **kwargs)
        return fn(*args, **kwargs)

    async def _begin_immediate(
        self, raw: sqlite3.Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Any:
        """Takes the write lock at once on the loop when it is free (this process's writers
        queue before they get here, so it nearly always is); else waits on the worker."""
        raw.execute("PRAGMA busy_timeout=0")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
        finally:
            raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]  # aiosqlite leaves it untyped


def _inline_sqlite(database: str) -> Callable[[], Any]:
    """The engine's `async_creator`: an `InlineSqliteConnection` to the file, opened."""
    # Used from two threads (the loop's and, for BEGIN IMMEDIATE, the worker's), never at once.
    connector = partial(
        sqlite3.connect, database, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, check_same_thread=False
    )

    async def connect() -> InlineSqliteConnection:
        connection = InlineSqliteConnection(connector, iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does for its own aiosqlite connections
        await connection
        return connection

    return connect


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself, so that it can be BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _enter_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        # Writers take the write lock up front; readers take none (WAL lets them read beside
        # the writer), or they would queue behind every write in SQLite's busy handler.
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


async def insert_ignoring_conflict(
    session: AsyncSession, table: type[SQLModel], values: dict[str, object]
) -> bool:
    """Inserts the row unless one with the same key exists; True when this call inserted it.

    One statement, so a concurrent insert of the same key never raises: on PostgreSQL the
    second waits for the first to commit and then inserts nothing.
    """
    connection = await session.connection()
    statement = _insert_ignoring_conflict(connection.dialect.name, table)
    return (await connection.execute(statement, values)).first() is not None


def dialect_insert(dialect: str) -> Any:
    """The `insert` construct of the dialect (`"postgresql"` or SQLite's), for its ON CONFLICT."""
    return postgres_insert if dialect == "postgresql" else sqlite_insert


@functools.cache
def _insert_ignoring_conflict(dialect: str, table: type[SQLModel]) -> Any:
    """The statement of `insert_ignoring_conflict`, built once per table: the values go as
    parameters (building it for every event consumed cost a quarter of the transaction)."""
    insert = dialect_insert(dialect)
    columns = table.__table__  # type: ignore[attr-defined]  # SQLModel does not declare it
    # RETURNING, not the row count: psycopg's async cursor reports -1 for an INSERT.
    return insert(columns).on_conflict_do_nothing().returning(*columns.primary_key.columns)


Row = TypeVar("Row", bound=SQLModel)


def select_in(row: type[Row], column: Any, parameter: str, *order_by: Any) -> SelectOfScalar[Row]:
    """The rows whose `column` is one of the values executed as `parameter` (a list), ordered
    by `order_by`: a query to build once for any number of values (an expanding parameter)."""
    return (
        select(row).where(col(column).in_(bindparam(parameter, expanding=True))).order_by(*order_by)
    )


class Database:
    """A service's database: write transactions, read snapshots and commit hooks."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                keep_private(Path(parsed.database))
            self.engine = create_async_engine(
                url, async_creator=_inline_sqlite(parsed.database or ":memory:")
            )
            _configure_sqlite(self.engine)
        else:
            self.engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
        # SQLite admits one writer: queue this process's writers here rather than
        # in SQLite's busy handler, which sleeps and retries.
        self._writer_turn = asyncio.Lock() if self.is_sqlite else None
        self._reader = self.engine.execution_options(**{READ_ONLY_OPTION: True})
        self._after_commit: list[Callable[[dict[Any, Any]], None]] = []

    def after_commit(self, callback: Callable[[dict[Any, Any]], None]) -> None:
        """Calls `callback` after every committed write transaction with the session's `info`,
        where the transaction's code left notes (e.g. that it recorded events: wake the relay)."""
        self._after_commit.append(callback)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: commits on success, rolls back on any exception."""
        if self._writer_turn is not None:
            await self._writer_turn.acquire()
        try:
            async with AsyncSession(self.engine, expire_on_commit=False) as session:
                async with session.begin():
                    yield session
                notes = session.info
        finally:
            if self._writer_turn is not None:
                self._writer_turn.release()
        for callback in self._after_commit:
            callback(notes)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSession]:
        """A read-only session; nothing it does is committed."""
        async with AsyncSession(self._reader, expire_on_commit=False) as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
