"""`oms migrate`: brings every service's database to the newest schema (what each service also
does when it starts), shows where each stands, or writes a new revision for a changed table."""

from __future__ import annotations

import asyncio
import importlib
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from services.kernel.db import Database
from services.kernel.migrate import (
    current_revisions,
    migrate,
    new_revision,
    service_stream,
    streams,
)
from services.kernel.runtime import ServiceDefinition
from services.kernel.settings import SERVICE_NAMES, ServiceSettings


def definition(name: str) -> ServiceDefinition:
    module = importlib.import_module(f"services.{name}.bootstrap")
    found: ServiceDefinition = module.SERVICE
    return found


async def migrate_services(
    names: Sequence[str], env: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """Migrates each named service's database (as its settings locate it); returns where each
    stream stands afterwards."""
    standing = {}
    for name in names:
        service = definition(name)
        db = Database(ServiceSettings.from_env(name, env).database_url)
        try:
            await migrate(db, streams(service.name, service.tables))
            standing[name] = await current_revisions(db, streams(service.name, service.tables))
        finally:
            await db.dispose()
    return standing


async def status(names: Sequence[str], env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    standing = {}
    for name in names:
        service = definition(name)
        db = Database(ServiceSettings.from_env(name, env).database_url)
        try:
            standing[name] = await current_revisions(db, streams(service.name, service.tables))
        finally:
            await db.dispose()
    return standing


async def write_revision(name: str, message: str) -> None:
    """Writes the revision that takes the service's schema to its tables as the code declares
    them, compared on a scratch SQLite database at the newest revision."""
    service = definition(name)
    stream = service_stream(service.name, service.tables)
    existing = sorted(p.name for p in (stream.script_location / "versions").glob("[0-9]*.py"))
    rev_id = f"{len(existing) + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite+aiosqlite:///{Path(scratch) / 'scratch.sqlite'}")
        try:
            await migrate(db, streams(service.name, service.tables))
            async with db.engine.begin() as connection:
                await connection.run_sync(lambda sync: new_revision(stream, sync, message, rev_id))
        finally:
            await db.dispose()


def run(names: Sequence[str], env: Mapping[str, str], show_only: bool, new: str | None) -> int:
    chosen = list(names) or list(SERVICE_NAMES)
    if new is not None:
        if len(chosen) != 1:
            print("oms migrate: --new needs exactly one --service")
            return 2
        asyncio.run(write_revision(chosen[0], new))
        return 0
    standing = asyncio.run((status if show_only else migrate_services)(chosen, env))
    for name, revisions in standing.items():
        shown = ", ".join(f"{stream} at {rev or 'nothing'}" for stream, rev in revisions.items())
        print(f"{name}: {shown}")
    return 0
