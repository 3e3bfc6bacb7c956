"""What must hold of a gauntlet's system once its requests are answered, read from each service's
database: every outbox drained, no dead letter but those expected, and the inventory ledger
replaying to the stored stock levels; and what a refused request must not have changed."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Mapping
from contextlib import closing

from sqlmodel import func, select

from services.inventory.bootstrap import bootstrap as inventory_bootstrap
from services.inventory.store import SqlInventoryStore
from services.kernel.dead_letters import dead_letters
from services.kernel.outbox import OutboxMessage
from services.kernel.settings import SERVICE_NAMES
from services.kernel.unit_of_work import SqlUnitOfWork
from tests.gauntlet.load import until
from tests.gauntlet.system import System

# Longer than a relay takes to publish a backlog of a few hundred events on a busy machine.
DRAIN_TIMEOUT_SECONDS = 30.0


async def undrained(system: System) -> dict[str, int]:
    """The outbox rows left in each service that has any."""
    left = {}
    for service in SERVICE_NAMES:
        db = system.database(service)
        try:
            async with db.snapshot() as session:
                query = select(func.count()).select_from(OutboxMessage)
                left[service] = (await session.exec(query)).one()
        finally:
            await db.dispose()
    return {service: rows for service, rows in left.items() if rows}


async def set_aside(system: System) -> Counter[tuple[str, str]]:
    """The dead letters waiting in every service, counted by (service, event type)."""
    found: Counter[tuple[str, str]] = Counter()
    for service in SERVICE_NAMES:
        db = system.database(service)
        try:
            found.update((service, s.letter.event_type) for s in await dead_letters(db))
        finally:
            await db.dispose()
    return found


async def ledger_discrepancies(system: System) -> list[object]:
    db = system.database("inventory")
    try:
        inventory = inventory_bootstrap(SqlUnitOfWork(db, SqlInventoryStore))
        return list(await inventory.ledger_discrepancies())
    finally:
        await db.dispose()


async def assert_consistent(
    system: System, expected_dead_letters: Mapping[tuple[str, str], int] | None = None
) -> None:
    async def drained() -> bool:
        return not await undrained(system)

    await until(drained, "every outbox drained", timeout=DRAIN_TIMEOUT_SECONDS)
    assert await set_aside(system) == Counter(expected_dead_letters or {})
    assert await ledger_discrepancies(system) == []


# Bookkeeping of the event machinery, not writes of a request.
MACHINERY = frozenset({"outbox", "processed_event", "dead_letter", "alembic_version"})


def row_counts(system: System) -> dict[tuple[str, str], int]:
    """Rows in every table of every service but the event machinery's, by (service, table):
    two equal counts around a refused request show it wrote nothing."""
    counts = {}
    for service in SERVICE_NAMES:
        path = system.data_dir / f"{service}.sqlite"
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            tables = [
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            for table in sorted(set(tables) - MACHINERY):
                counts[service, table] = db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    return counts
