"""The kernel's database on SQLite: writers queue for the write lock, readers never take it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlmodel import Field, SQLModel, select

from services.kernel.db import Database
from tests.support.databases import create_test_tables


class Note(SQLModel, table=True):
    __tablename__ = "test_note"

    id: int | None = Field(default=None, primary_key=True)
    text: str = ""


async def test_writes_begin_immediate_and_reads_begin_deferred(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notes.sqlite'}")
    await create_test_tables(db, [Note])
    begins: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def record(_conn: Connection, _cursor: DBAPICursor, statement: str, *_args: object) -> None:
        if statement.startswith("BEGIN"):
            begins.append(statement)

    async with db.transaction() as session:
        session.add(Note(text="written"))
    async with db.snapshot() as session:
        assert [n.text for n in (await session.exec(select(Note))).all()] == ["written"]
    await db.dispose()
    assert begins == ["BEGIN IMMEDIATE", "BEGIN"]


async def test_statements_run_on_the_loop_thread(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'notes.sqlite'}")
    await create_test_tables(db, [Note])
    threads: list[int] = []

    def thread_id() -> int:
        threads.append(threading.get_ident())
        return 0

    @event.listens_for(db.engine.sync_engine, "connect")
    def thread_probe(dbapi_connection: Any, _record: object) -> None:
        # The raw sqlite3 connection under SQLAlchemy's and aiosqlite's adapters.
        raw = dbapi_connection.driver_connection._conn
        raw.create_function("thread_id", 0, thread_id)

    await db.engine.dispose()  # the next connection gets the probe
    async with db.snapshot() as session:
        await session.exec(text("SELECT thread_id()"))  # type: ignore[call-overload]
    async with db.transaction() as session:
        session.add(Note(text="written"))
        await session.flush()
        await session.exec(text("SELECT thread_id()"))  # type: ignore[call-overload]
    await db.dispose()
    assert threads == [threading.get_ident()] * 2


async def test_a_writer_waiting_for_another_process_lock_leaves_the_loop_running(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.sqlite"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await create_test_tables(db, [Note])
    other = sqlite3.connect(path, isolation_level=None)  # another process's writer, in effect
    other.execute("BEGIN IMMEDIATE")

    async def write() -> None:
        async with db.transaction() as session:
            session.add(Note(text="after the other writer"))

    writer = asyncio.create_task(write())
    for _ in range(20):  # the loop turns meanwhile
        await asyncio.sleep(0.01)
    assert not writer.done()  # still waiting for the lock ...
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writer, 10)
    await db.dispose()
