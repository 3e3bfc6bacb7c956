"""Events survive crashes: the broker and the producing service are killed mid-stream, and
every ledger movement still reaches a durable consumer exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import nats
import pytest
from nats.js.errors import NotFoundError
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
from services.kernel.events import EventConsumer, Subscription, ensure_stream
from services.kernel.settings import normalize_database_url
from services.kernel.unit_of_work import ProcessedEvent, SqlStore, SqlUnitOfWork
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


@contextlib.asynccontextmanager
async def consuming(
    db: Database, nats_url: str, durable: str
) -> AsyncIterator[EventConsumer[ProjectionStore]]:
    client = await nats.connect(nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.25)
    consumer = EventConsumer(
        client.jetstream(),
        SqlUnitOfWork(db, ProjectionStore),
        Subscription(durable, SUBJECT, {StockLevelChanged: apply_movement}, ack_wait_seconds=2),
    )
    task = asyncio.create_task(consumer.run())
    try:
        yield consumer
    finally:
        consumer.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)
        await client.close()


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
    async with consuming(projection, nats_server.url, "test-once"):
        for _ in range(100):
            await asyncio.sleep(0.05)
            with contextlib.suppress(NotFoundError):  # not created yet
                info = await js.consumer_info("OMS_INVENTORY", "test-once")
                if info.num_ack_pending == 0 and info.num_pending == 0:
                    break
    await client.close()
    assert await applied(projection) == [7]


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

    async def stream_of_changes(count: int) -> int:
        succeeded = 0
        for _ in range(count):
            with contextlib.suppress(grpc.aio.AioRpcError):
                await stub.AdjustStock(
                    pb.AdjustStockRequest(sku="S", location_code="L", delta=1, reason="count")
                )
                succeeded += 1
            await asyncio.sleep(0.005)
        return succeeded

    try:
        async with consuming(projection, nats_server.url, "test-chaos"):
            changes = asyncio.create_task(stream_of_changes(600))
            await asyncio.sleep(0.5)
            nats_server.kill()  # the broker crashes mid-stream ...
            await asyncio.sleep(3.0)  # longer than the relay's publish timeout
            nats_server.start()  # ... and comes back on the same port and store
            await asyncio.sleep(0.5)
            inventory.kill()  # the producing service crashes mid-stream ...
            await asyncio.sleep(0.3)
            inventory.start()  # ... and restarts on the same database
            await inventory.wait_serving()
            succeeded = await changes
        # The consumer restarts too: it resumes from its durable position.
        async with consuming(projection, nats_server.url, "test-chaos"):
            inventory_db = Database(normalize_database_url(db_url))
            async with inventory_db.snapshot() as session:
                ledger = list(
                    (
                        await session.exec(
                            select(StockMovementRow.id).order_by(col(StockMovementRow.id))
                        )
                    ).all()
                )
            await inventory_db.dispose()
            for _ in range(300):
                if len(await applied(projection)) >= len(ledger):
                    break
                await asyncio.sleep(0.1)
        got = await applied(projection)
        assert len(ledger) >= succeeded > 100
        assert sorted(got) == ledger, "every movement applied, exactly once"
        assert "outbox relay paused" in inventory.log_path.read_text(), "the crash hit the relay"
    finally:
        await channel.close()
        inventory.terminate()
