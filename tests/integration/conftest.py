"""Fixtures for integration tests: real services on port 0 over a real database and broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import nats
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import func
from sqlmodel import select

from launcher.embedded_nats import EmbeddedNats
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from oms.returns.v1.returns_pb2_grpc import ReturnsServiceStub
from oms.workorders.v1.workorders_pb2_grpc import WorkOrdersServiceStub
from services.inventory.bootstrap import SERVICE as INVENTORY
from services.kernel.db import utcnow
from services.kernel.events import ensure_stream, stream_name
from services.kernel.grpc_client import open_channel
from services.kernel.outbox import OutboxMessage, subject_for
from services.kernel.runtime import RunningService, start_service
from services.kernel.settings import ServiceSettings, normalize_database_url
from services.orders.bootstrap import SERVICE as ORDERS
from services.returns.bootstrap import SERVICE as RETURNS
from services.workorders.bootstrap import SERVICE as WORKORDERS
from tests.support.databases import database_url


@dataclass
class InventoryUnderTest:
    running: RunningService
    stub: InventoryServiceStub


@pytest.fixture
async def inventory(db_url: str, nats_server: EmbeddedNats) -> AsyncIterator[InventoryUnderTest]:
    """The inventory service started in-process on a free port, and a client for it."""
    settings = ServiceSettings(
        name="inventory",
        database_url=normalize_database_url(db_url),
        nats_url=nats_server.url,
        grpc_listen="127.0.0.1:0",
        shutdown_grace_seconds=2,
    )
    running = await start_service(INVENTORY, settings)
    channel = open_channel(f"127.0.0.1:{running.port}")
    try:
        yield InventoryUnderTest(running, InventoryServiceStub(channel))
    finally:
        await channel.close()
        await running.stop()


@dataclass
class OrdersUnderTest:
    running: RunningService
    stub: OrdersServiceStub
    inventory: InventoryServiceStub


@pytest.fixture
async def orders(
    inventory: InventoryUnderTest, backend: str, nats_server: EmbeddedNats, tmp_path: Path
) -> AsyncIterator[OrdersUnderTest]:
    """The orders service, with its own database of the same backend, calling `inventory`."""
    with database_url(backend, tmp_path, "orders") as url:
        settings = ServiceSettings(
            name="orders",
            database_url=normalize_database_url(url),
            nats_url=nats_server.url,
            grpc_listen="127.0.0.1:0",
            shutdown_grace_seconds=2,
            grpc_targets={"inventory": f"127.0.0.1:{inventory.running.port}"},
        )
        running = await start_service(ORDERS, settings)
        channel = open_channel(f"127.0.0.1:{running.port}")
        try:
            yield OrdersUnderTest(running, OrdersServiceStub(channel), inventory.stub)
        finally:
            await channel.close()
            await running.stop()


# The returns loop: events published as the returns and work orders services publish them, and
# the work orders service in-process.


@dataclass
class WorkOrdersUnderTest:
    running: RunningService
    stub: WorkOrdersServiceStub


@pytest.fixture
async def workorders(
    backend: str, nats_server: EmbeddedNats, tmp_path: Path
) -> AsyncIterator[WorkOrdersUnderTest]:
    """The work orders service, with its own database of the test's backend."""
    with database_url(backend, tmp_path, "workorders") as url:
        settings = ServiceSettings(
            name="workorders",
            database_url=normalize_database_url(url),
            nats_url=nats_server.url,
            grpc_listen="127.0.0.1:0",
            shutdown_grace_seconds=2,
        )
        running = await start_service(WORKORDERS, settings)
        channel = open_channel(f"127.0.0.1:{running.port}")
        try:
            yield WorkOrdersUnderTest(running, WorkOrdersServiceStub(channel))
        finally:
            await channel.close()
            await running.stop()


@pytest.fixture
async def jetstream(nats_server: EmbeddedNats) -> AsyncIterator[JetStreamContext]:
    """JetStream on the test's broker, with the returns and work orders streams in place (their
    services create them when they run; a test that publishes for them may run without them)."""
    client = await nats.connect(nats_server.url)
    js = client.jetstream()
    for domain in ("returns", "workorders"):
        await ensure_stream(js, domain)
    try:
        yield js
    finally:
        await client.close()


def event_envelope(producer: str, payload: Message, event_id: str = "") -> EventEnvelope:
    """The envelope `record_event` writes for `payload`, under `event_id` when given."""
    occurred_at = Timestamp()
    occurred_at.FromDatetime(utcnow())
    envelope = EventEnvelope(
        event_id=event_id or str(uuid.uuid4()),
        event_type=payload.DESCRIPTOR.name,
        occurred_at=occurred_at,
        producer=producer,
    )
    envelope.payload.Pack(payload)
    return envelope


async def publish_event(
    js: JetStreamContext, envelope: EventEnvelope, message_id: str = ""
) -> None:
    """Publishes as the outbox relay does; another `message_id` than the event id gets a copy
    past JetStream's de-duplication, as a re-publish after the duplicate window would."""
    await js.publish(
        subject_for(envelope.producer, envelope.event_type),
        envelope.SerializeToString(),
        headers={"Nats-Msg-Id": message_id or envelope.event_id},
    )


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 15.0, what: str = "condition"
) -> None:
    """Waits until `check()` holds, polling; fails after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def consumer_idle(js: JetStreamContext, domain: str, durable: str) -> bool:
    """The durable consumer exists and has acknowledged everything its stream holds."""
    try:
        info = await js.consumer_info(stream_name(domain), durable)
    except NotFoundError:
        return False
    return info.num_pending == 0 and info.num_ack_pending == 0


async def outbox_drained(running: RunningService) -> bool:
    """Everything the service recorded has been relayed to JetStream."""
    async with running.db.snapshot() as session:
        return (await session.exec(select(func.count()).select_from(OutboxMessage))).one() == 0


@dataclass
class ReturnsUnderTest:
    running: RunningService
    stub: ReturnsServiceStub
    orders: OrdersServiceStub
    inventory: InventoryServiceStub
    # The environment the service was started with (its policy and refund provider).
    env: dict[str, str]
    channel: grpc.aio.Channel

    async def restart(self) -> None:
        """Stops the service gracefully and starts it again on the same database."""
        await self.channel.close()
        await self.running.stop()
        self.running = await _start_returns(self.running.settings, self.env)
        self.channel = open_channel(f"127.0.0.1:{self.running.port}")
        self.stub = ReturnsServiceStub(self.channel)


async def _start_returns(settings: ServiceSettings, env: dict[str, str]) -> RunningService:
    # The service reads its policy from the environment once, while it is built.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return await start_service(RETURNS, settings)


@pytest.fixture
def returns_env() -> dict[str, str]:
    """The environment the returns service starts with; a test overrides it by parametrizing."""
    return {}


@pytest.fixture
async def returns(
    orders: OrdersUnderTest,
    inventory: InventoryUnderTest,
    backend: str,
    nats_server: EmbeddedNats,
    tmp_path: Path,
    returns_env: dict[str, str],
) -> AsyncIterator[ReturnsUnderTest]:
    """The returns service, with its own database of the same backend, calling `inventory`
    and `orders`."""
    with database_url(backend, tmp_path, "returns") as url:
        settings = ServiceSettings(
            name="returns",
            database_url=normalize_database_url(url),
            nats_url=nats_server.url,
            grpc_listen="127.0.0.1:0",
            shutdown_grace_seconds=2,
            grpc_targets={
                "inventory": f"127.0.0.1:{inventory.running.port}",
                "orders": f"127.0.0.1:{orders.running.port}",
            },
        )
        running = await _start_returns(settings, returns_env)
        channel = open_channel(f"127.0.0.1:{running.port}")
        under_test = ReturnsUnderTest(
            running, ReturnsServiceStub(channel), orders.stub, inventory.stub, returns_env, channel
        )
        try:
            yield under_test
        finally:
            await under_test.channel.close()
            await under_test.running.stop()
