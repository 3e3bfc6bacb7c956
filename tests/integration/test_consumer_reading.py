"""How a consumer reads and applies events, against a real NATS server: events that arrive
together are applied together unless one fails (then one at a time, so it holds back no
other); a consumer deleted under a running service is created again; and a commit that records
events wakes the outbox relay at once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from launcher.embedded_nats import EmbeddedNats
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.inventory_pb2 import StockLevelChanged
from services.kernel.db import Database
from services.kernel.events import (
    EventConsumer,
    EventHandler,
    Subscription,
    ensure_stream,
    stream_name,
)
from services.kernel.outbox import OutboxMessage
from services.kernel.relay import OutboxRelay
from services.kernel.unit_of_work import ProcessedEvent, SqlStore, SqlUnitOfWork
from tests.integration.conftest import consumer_idle, eventually
from tests.support.databases import create_test_tables

SUBJECT = "oms.inventory.stock_level_changed"


class Applied(SQLModel, table=True):
    __tablename__ = "test_consumer_reading_applied"

    id: int | None = Field(default=None, primary_key=True)
    movement_id: int


class ProjectionStore(SqlStore):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, "inventory")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'projection.sqlite'}")
    await create_test_tables(database, [Applied, ProcessedEvent, OutboxMessage])
    yield database
    await database.dispose()


@pytest.fixture
async def client(nats_server: EmbeddedNats) -> AsyncIterator[NatsClient]:
    connection = await nats.connect(nats_server.url)
    await ensure_stream(connection.jetstream(), "inventory")
    yield connection
    await connection.close()


async def publish(client: NatsClient, movement_ids: range) -> None:
    for movement_id in movement_ids:
        envelope = EventEnvelope(event_id=str(uuid.uuid4()), event_type="StockLevelChanged")
        envelope.payload.Pack(
            StockLevelChanged(sku="S", location_code="L", movement_id=movement_id)
        )
        await client.jetstream().publish(SUBJECT, envelope.SerializeToString())


async def applied(db: Database) -> list[int]:
    async with db.snapshot() as session:
        return sorted((await session.exec(select(Applied.movement_id))).all())


@contextlib.asynccontextmanager
async def consuming(
    client: NatsClient, db: Database, name: str, apply: EventHandler[ProjectionStore]
) -> AsyncIterator[str]:
    """A consumer of its own durable applying with `apply` until the block ends; its name."""
    durable = f"{name}-{uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(
        client,
        SqlUnitOfWork(db, ProjectionStore),
        Subscription(durable, SUBJECT, {StockLevelChanged: apply}),
    )
    task = asyncio.create_task(consumer.run())
    try:
        yield durable
        assert not task.done(), "the consumer stopped before it was told to"
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 5)


async def test_events_arriving_together_are_applied_once_each_though_one_keeps_failing(
    client: NatsClient, db: Database
) -> None:
    broken = {5}

    async def apply(store: ProjectionStore, change: StockLevelChanged) -> None:
        store.session.add(Applied(movement_id=change.movement_id))
        if change.movement_id in broken:
            raise RuntimeError("a handler failing, as while a service it needs is away")

    # Published before the consumer starts, so that they arrive together.
    await publish(client, range(10))
    async with consuming(client, db, "test-batch", apply) as durable:
        others = [m for m in range(10) if m != 5]
        await eventually(lambda: _applied_are(db, others), timeout=10, what="the others applied")
        broken.clear()  # mended: its redelivery applies it
        await eventually(lambda: _applied_are(db, list(range(10))), timeout=15, what="all applied")
        await eventually(
            lambda: consumer_idle(client.jetstream(), "inventory", durable),
            timeout=10,
            what="all acknowledged",
        )
        assert await applied(db) == list(range(10)), "each applied once"


async def test_a_consumer_deleted_while_read_is_created_again_and_reading_goes_on(
    client: NatsClient, db: Database
) -> None:
    async def apply(store: ProjectionStore, change: StockLevelChanged) -> None:
        store.session.add(Applied(movement_id=change.movement_id))

    async with consuming(client, db, "test-deleted", apply) as durable:
        await publish(client, range(3))
        await eventually(lambda: _applied_are(db, [0, 1, 2]), timeout=10, what="first applied")
        await client.jetstream().delete_consumer(stream_name("inventory"), durable)
        await publish(client, range(3, 6))
        # A consumer created again starts from the stream's beginning: the guard absorbs the
        # first three, the last three are applied once.
        await eventually(lambda: _applied_are(db, list(range(6))), timeout=15, what="reading on")


async def _applied_are(db: Database, expected: list[int]) -> bool:
    return await applied(db) == expected


async def test_a_commit_that_records_events_wakes_the_relay_and_one_that_records_none_does_not(
    client: NatsClient, db: Database
) -> None:
    # Polling so rarely that only a wake-up can publish within the test.
    relay = OutboxRelay(db, client.jetstream(), "inventory", poll_seconds=60)
    running = asyncio.create_task(relay.run())
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def on_message(message: Msg) -> None:
        await received.put(message.data)

    subscription = await client.subscribe(SUBJECT, cb=on_message)
    try:
        await asyncio.sleep(0.2)  # the relay's first look at the empty outbox
        async with db.transaction() as session:
            session.add(Applied(movement_id=1))  # no event recorded: nothing to wake for
        assert not relay._wake.is_set()  # the only sign of a needless look at the outbox
        async with db.transaction() as session:
            ProjectionStore(session).record(StockLevelChanged(sku="S", movement_id=2))
        data = await asyncio.wait_for(received.get(), 5)
        envelope = EventEnvelope.FromString(data)
        payload = StockLevelChanged()
        envelope.payload.Unpack(payload)
        assert payload.movement_id == 2
    finally:
        await subscription.unsubscribe()
        relay.stop()
        await asyncio.wait_for(running, 5)
