"""The returns platforms' notifier over a real database (SQLite and PostgreSQL) and a small real
HTTP server playing Loop: a return's status updates reach the platform in the order they happened,
also when an outage left the later one due before the earlier; and a return's long history is
shown cut to its first entries."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from launcher.ports import free_port
from services.kernel.db import Database
from services.kernel.settings import normalize_database_url
from services.kernel.unit_of_work import SqlUnitOfWork
from services.returns.domain.model import (
    Direction,
    Platform,
    PlatformConnection,
    PlatformUpdate,
    UpdateStatus,
)
from services.returns.notifier import PlatformNotifier
from services.returns.refunds import RetryPolicy
from services.returns.store import MAX_PLATFORM_UPDATES, TABLES, SqlReturnsStore
from services.returns.tables import ReturnRow
from tests.support.databases import create_test_tables
from tests.support.returns_platforms import TOKEN, FakeReturnsPlatform

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RETURN_ID = "00000000-0000-0000-0000-000000000001"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def loop() -> AsyncIterator[FakeReturnsPlatform]:
    fake = FakeReturnsPlatform("LOOP", free_port())
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def uow(
    db_url: str, loop: FakeReturnsPlatform
) -> AsyncIterator[SqlUnitOfWork[SqlReturnsStore]]:
    db = Database(normalize_database_url(db_url))
    await create_test_tables(db, list(TABLES))
    uow = SqlUnitOfWork(db, SqlReturnsStore)
    connection = PlatformConnection("loop-eu", Platform.LOOP, "web", "s", loop.url, TOKEN)
    async with uow.write() as store:
        await store.connect_platform(connection)
    try:
        yield uow
    finally:
        await db.dispose()


async def owe(uow: SqlUnitOfWork[SqlReturnsStore], kind: str, at: datetime) -> None:
    update = PlatformUpdate(
        str(uuid.uuid4()),
        "loop-eu",
        Direction.OUT,
        kind,
        UpdateStatus.PENDING,
        at,
        return_id=RETURN_ID,
        platform_return_id="1673",
    )
    async with uow.write() as store:
        assert await store.add_platform_update(update, f"{RETURN_ID}:{kind}", at)


async def test_updates_reach_the_platform_in_the_order_they_happened_after_an_outage(
    uow: SqlUnitOfWork[SqlReturnsStore], loop: FakeReturnsPlatform
) -> None:
    clock = Clock()
    policy = RetryPolicy(base_seconds=1, max_seconds=60, lease=timedelta(seconds=5))
    notifier = PlatformNotifier(uow, policy, clock)
    loop.down_for(3600)
    # Scanned while Loop is down: RECEIVED fails three times, its retry backs off to 4 s.
    await owe(uow, "RECEIVED", clock.now)
    for _ in range(3):
        await notifier.send_due()
        clock.now += timedelta(seconds=4)
    # Inspected: INSPECTED is due in 1 s, before RECEIVED's retry.
    clock.now -= timedelta(seconds=3)
    await owe(uow, "INSPECTED", clock.now + timedelta(seconds=1))
    assert [c.status for c in loop.calls] == [500] * 3

    loop.down_until = 0.0  # Loop is back
    clock.now += timedelta(seconds=1.5)  # INSPECTED is due, RECEIVED not yet
    await notifier.send_due()
    clock.now += timedelta(seconds=10)  # both due
    for _ in range(3):
        await notifier.send_due()

    notes = [c.body["note"] for c in loop.taken("/note")]
    assert notes == ["OMS: RECEIVED", "OMS: INSPECTED"]


async def test_a_returns_history_is_cut_to_its_first_entries_in_the_query(
    uow: SqlUnitOfWork[SqlReturnsStore],
) -> None:
    async with uow.write() as store:
        store.session.add(
            ReturnRow(
                id=RETURN_ID,
                order_id="o-1",
                placed_by="storefront-a",
                status="REQUESTED",
                destination_code="HUB-MUC",
                destination_kind="RETURN_HUB",
                estimated_cost_cents=500,
                centralized_cost_cents=2500,
                customer_latitude=48.14,
                customer_longitude=11.58,
                requested_at=START,
                platform_code="loop-eu",
                platform_return_id="1673",
            )
        )
    for n in range(MAX_PLATFORM_UPDATES + 5):
        await owe(uow, f"NOTE-{n:03}", START + timedelta(seconds=n))
    async with uow.read() as store:
        (found,) = await store.returns([RETURN_ID])
    kinds = [u.kind for u in found.platform_updates]
    assert kinds == [f"NOTE-{n:03}" for n in range(MAX_PLATFORM_UPDATES)]
