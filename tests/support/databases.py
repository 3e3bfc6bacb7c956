"""Fresh databases for a test: a SQLite file, or a new database on the running PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlmodel import SQLModel

from services.kernel.db import Database

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    return os.environ.get("OMS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@contextmanager
def postgres_database() -> Iterator[str]:
    """Creates a uniquely named database, yields its URL and drops it afterwards."""
    admin = postgres_admin_url()
    name = f"oms_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database_url(backend: str, folder: Path, name: str = "service") -> Iterator[str]:
    """A URL for an empty database of the given backend ("sqlite" or "postgres")."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{name}.sqlite'}"
    elif backend == "postgres":
        with postgres_database() as url:
            yield url
    else:
        raise ValueError(backend)


async def create_test_tables(db: Database, tables: list[type[SQLModel]]) -> None:
    """Creates tables only a test uses (a service's own tables come from its migrations)."""
    async with db.engine.begin() as connection:
        await connection.run_sync(
            SQLModel.metadata.create_all,
            tables=[t.__table__ for t in tables],  # type: ignore[attr-defined]  # SQLModel does not declare it
        )
