"""Events survive crashes: the broker and the producing service are killed mid-stream, and
every ledger movement still reaches a durable consumer exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import ConsumerInfo
from sqlalchemy import func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from launcher.embedded_nats import EmbeddedNats
from launcher.ports import free_port
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.inventory_pb2 import StockLevelChanged
from oms.inventory.v1 import inventory_pb2 as pb
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from services.inventory.tables import StockMovementRow
from services.kernel.db import Database
from services.kernel.events import EventConsumer, Subscription, ensure_stream, stream_name
from services.kernel.outbox import OutboxMessage
from services.kernel.settings import normalize_database_url
from services.kernel.unit_of_work import ProcessedEvent, SqlStore, SqlUnitOfWork
from tests.integration.conftest import InventoryClient, consumer_idle, eventually
from tests.support.databases import create_test_tables
from tests.support.processes import ServiceProcess

SUBJECT = "oms.inventory.stock_level_changed"


class AppliedMovement(SQLModel, table=True):
    """A deliberately non-idempotent projection: one row per application of an event."""

    __tablename__ = "test_applied_movement"

    id: int | None = Field(default=None, primary_key=True)
    movement_id: int


class ProjectionStore(SqlStore):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, "test")


async def apply_movement(store: ProjectionStore, change: StockLevelChanged) -> None:
    store.session.add(AppliedMovement(movement_id=change.movement_id))


ACK_WAIT_SECONDS = 2


@contextlib.asynccontextmanager
async def consuming(db: Database, nats_url: str, durable: str) -> AsyncIterator[asyncio.Task[None]]:
    """A durable consumer applying movements to `db`, running until the block ends: its task,
    which must still be running then (whatever ended it early fails the test)."""
    client = await nats.connect(nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.25)
    consumer = EventConsumer(
        client,
        SqlUnitOfWork(db, ProjectionStore),
        Subscription(
            durable, SUBJECT, {StockLevelChanged: apply_movement}, ack_wait_seconds=ACK_WAIT_SECONDS
        ),
    )
    task = asyncio.create_task(consumer.run())
    try:
        yield task
        require_alive(task)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 5)
        await client.close()


def require_alive(task: asyncio.Task[None]) -> None:
    """Fails when the consumer has ended: with the error that ended it, if one did."""
    if task.done():
        task.result()
        raise AssertionError("the consumer stopped before it was told to")


async def settled(js: JetStreamContext, durable: str, consumer: asyncio.Task[None]) -> None:
    """Waits for the consumer to have acknowledged everything on the stream, then for longer
    than its ack wait, so that a redelivery of anything it left unacknowledged would be here;
    it is still idle then."""
    require_alive(consumer)

    async def idle() -> bool:
        require_alive(consumer)
        return await consumer_idle(js, "inventory", durable)

    await eventually(idle, timeout=30, what=f"consumer {durable} idle")
    await asyncio.sleep(ACK_WAIT_SECONDS + 1)  # room for a wrongful redelivery to show
    assert await idle(), "nothing was redelivered after the consumer went idle"


async def applied(db: Database) -> list[int]:
    async with db.snapshot() as session:
        return list((await session.exec(select(AppliedMovement.movement_id))).all())


@pytest.fixture
async def projection(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'projection.sqlite'}")
    await create_test_tables(db, [AppliedMovement, ProcessedEvent])
    yield db
    await db.dispose()


async def test_a_redelivered_event_is_applied_once(
    nats_server: EmbeddedNats, projection: Database
) -> None:
    client = await nats.connect(nats_server.url)
    js = client.jetstream()
    await ensure_stream(js, "inventory")
    envelope = EventEnvelope(event_id=str(uuid.uuid4()), event_type="StockLevelChanged")
    envelope.payload.Pack(StockLevelChanged(sku="S", location_code="L", movement_id=7))
    # Two copies under different message ids get past JetStream's de-duplication, as a
    # re-publish after the duplicate window would.
    for _ in range(2):
        await js.publish(
            SUBJECT, envelope.SerializeToString(), headers={"Nats-Msg-Id": str(uuid.uuid4())}
        )
    try:
        async with consuming(projection, nats_server.url, "test-once") as consumer:
            await settled(js, "test-once", consumer)
            info: ConsumerInfo = await js.consumer_info(stream_name("inventory"), "test-once")
    finally:
        await client.close()
    assert info.delivered is not None and info.delivered.stream_seq == 2, "both were delivered"
    assert await applied(projection) == [7]


@dataclass
class Traffic:
    """Stock changes sent one after another until stopped; how many were sent, answered and
    succeeded (a call refused or cut off by a crash is answered, not succeeded)."""

    stub: InventoryClient
    started: int = 0
    answered: int = 0
    succeeded: int = 0
    stopping: bool = False

    @property
    def in_flight(self) -> int:
        return self.started - self.answered

    async def run(self) -> None:
        while not self.stopping:
            self.started += 1
            try:
                await self.stub.AdjustStock(
                    pb.AdjustStockRequest(sku="S", location_code="L", delta=1, reason="count")
                )
                self.succeeded += 1
            except grpc.aio.AioRpcError:
                await asyncio.sleep(0.05)  # the service is away: try again shortly
            finally:
                self.answered += 1
            await asyncio.sleep(0.005)


async def unsent(db: Database) -> int:
    """Outbox rows the producing service has not relayed yet."""
    async with db.snapshot() as session:
        return (await session.exec(select(func.count()).select_from(OutboxMessage))).one()


async def ledger(db: Database) -> list[int | None]:
    async with db.snapshot() as session:
        statement = select(StockMovementRow.id).order_by(col(StockMovementRow.id))
        return list((await session.exec(statement)).all())


async def test_no_event_lost_or_applied_twice_across_broker_and_service_crashes(
    db_url: str, nats_server: EmbeddedNats, projection: Database, tmp_path: Path
) -> None:
    port = free_port()
    inventory = ServiceProcess(
        "inventory",
        {
            "OMS_INVENTORY_DATABASE_URL": db_url,
            "OMS_INVENTORY_GRPC_LISTEN": f"127.0.0.1:{port}",
            "OMS_NATS_URL": nats_server.url,
        },
        tmp_path / "logs",
        port,
    )
    inventory.start()
    await inventory.wait_serving()
    inventory_db = Database(normalize_database_url(db_url))
    channel = inventory.channel(deadline_seconds=2)
    stub = InventoryServiceStub(channel)
    await stub.UpsertSku(
        pb.UpsertSkuRequest(code="S", title="s", unit_cost_cents=1, weight_grams=1)
    )
    await stub.UpsertLocation(
        pb.UpsertLocationRequest(
            code="L", name="l", kind=pb.LOCATION_KIND_STORE, latitude=1, longitude=1
        )
    )
    traffic = Traffic(stub)
    changes = asyncio.create_task(traffic.run())

    async def relayed_more_than(count: int) -> bool:
        return len(await applied(projection)) > count

    async def backlog_of(rows: int) -> bool:
        return await unsent(inventory_db) >= rows

    async def drained() -> bool:
        return await unsent(inventory_db) == 0

    async def relay_paused() -> bool:
        return "outbox relay paused" in inventory.log_path.read_text()

    async def sent_unanswered_since(started: int) -> bool:
        return traffic.started > started and traffic.in_flight > 0

    async def accepted_more_than(count: int) -> bool:
        return traffic.succeeded > count

    try:
        async with consuming(projection, nats_server.url, "test-chaos") as consumer:
            await eventually(lambda: relayed_more_than(20), what="events flowing")

            # The broker crashes under a live service: rows wait in the outbox ...
            nats_server.kill()
            await eventually(lambda: backlog_of(20), what="rows waiting in the outbox")
            await eventually(relay_paused, what="the relay hit by the crash")
            # ... and leave once it is back on the same port and store.
            delivered = len(await applied(projection))
            nats_server.start()
            await eventually(lambda: relayed_more_than(delivered + 20), what="events flowing again")

            # The producing service crashes with rows unsent (the broker is away again) and
            # calls unanswered (frozen first, so both are seen before the kill) ...
            nats_server.kill()
            await eventually(lambda: backlog_of(20), what="rows waiting in the outbox")
            inventory.freeze()
            frozen_at = traffic.started
            await eventually(lambda: sent_unanswered_since(frozen_at), what="a call in flight")
            assert await unsent(inventory_db) >= 20
            inventory.kill()
            nats_server.start()
            # ... and restarts on the same database, relaying what the crash left behind.
            inventory.start()
            await inventory.wait_serving()
            answered = traffic.succeeded
            await eventually(
                lambda: accepted_more_than(answered + 20), what="changes accepted after the restart"
            )
            traffic.stopping = True
            await asyncio.wait_for(changes, 5)
            require_alive(consumer)
        # The consumer restarts too: it resumes from its durable position.
        client = await nats.connect(nats_server.url)
        try:
            async with consuming(projection, nats_server.url, "test-chaos") as consumer:
                await eventually(drained, what="outbox drained")
                await settled(client.jetstream(), "test-chaos", consumer)
        finally:
            await client.close()
        movements = await ledger(inventory_db)
        assert len(movements) >= traffic.succeeded > 60
        assert sorted(await applied(projection)) == movements, "every movement applied once"
    finally:
        inventory.thaw()
        traffic.stopping = True
        await asyncio.wait_for(changes, 5)
        await channel.close()
        inventory.terminate()
        await inventory_db.dispose()
