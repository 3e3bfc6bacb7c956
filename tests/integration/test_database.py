"""The kernel's database on SQLite: writers queue for the write lock, readers never take it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, event
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
