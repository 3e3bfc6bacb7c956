"""Settling one reservation twice at once (a saga's release racing a retry, or a shipment) moves
its units once, on SQLite and PostgreSQL: other reservations keep what they hold."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from services.inventory.bootstrap import SERVICE as INVENTORY
from services.inventory.bootstrap import bootstrap
from services.inventory.domain.model import (
    LocationChange,
    LocationKind,
    ReservationLine,
    ReservationStatus,
    StockLevel,
)
from services.inventory.service import InventoryService
from services.inventory.store import SqlInventoryStore
from services.kernel.db import Database
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.migrate import migrate, streams
from services.kernel.settings import normalize_database_url
from services.kernel.unit_of_work import SqlUnitOfWork

ROUNDS = 12
Settle = Callable[[InventoryService, str], Awaitable[object]]


@pytest.fixture
async def service(db_url: str) -> AsyncIterator[InventoryService]:
    db = Database(normalize_database_url(db_url))
    await migrate(db, streams(INVENTORY.name, INVENTORY.tables))
    inventory = bootstrap(SqlUnitOfWork(db, SqlInventoryStore))
    await inventory.upsert_sku("S", "s", 1, 1, serialized=False)
    await inventory.upsert_location(
        LocationChange("L", "l", LocationKind.DISTRIBUTION_CENTER, 1, 1)
    )
    await inventory.adjust_stock("S", "L", 100, "count")
    yield inventory
    await db.dispose()


async def release(service: InventoryService, key: str) -> object:
    return await service.release(key)


async def commit(service: InventoryService, key: str) -> object:
    return await service.commit(key)


@pytest.mark.parametrize(
    ("first", "second", "endings"),
    [
        (release, release, {ReservationStatus.RELEASED}),
        (commit, commit, {ReservationStatus.COMMITTED}),
        # Whichever comes first wins: a released reservation refuses to ship.
        (commit, release, {ReservationStatus.COMMITTED, ReservationStatus.RELEASED}),
    ],
    ids=["release-twice", "commit-twice", "commit-and-release"],
)
async def test_a_reservation_settled_twice_at_once_moves_its_units_once(
    service: InventoryService, first: Settle, second: Settle, endings: set[ReservationStatus]
) -> None:
    line = ReservationLine("S", "L", 1)
    shipped = 0
    for round_ in range(ROUNDS):
        key = f"key-{round_}"
        # Another order's hold on the same level: a double settlement would spend it.
        await service.reserve(f"other-{round_}", [line], "order")
        await service.reserve(key, [line], "order")
        outcomes = await asyncio.gather(
            first(service, key), second(service, key), return_exceptions=True
        )
        ending = (await service.reservation(key)).status
        assert ending in endings
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                assert isinstance(outcome, DomainError), outcome
                assert (outcome.code, ending) == (
                    ErrorCode.INVALID_STATE,
                    ReservationStatus.RELEASED,
                )
        shipped += ending is ReservationStatus.COMMITTED
    assert await service.stock_levels() == [StockLevel("S", "L", 100 - shipped, ROUNDS)]
    assert await service.ledger_discrepancies() == []
