"""Fixtures for integration tests: real services on port 0 over a real database and broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

import nats
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from nats.js import JetStreamContext
from nats.js.api import ConsumerInfo
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
from services.kernel.outbox import OutboxMessage, subject_for
from services.kernel.runtime import RunningService
from services.orders.bootstrap import SERVICE as ORDERS
from services.returns.bootstrap import SERVICE as RETURNS
from services.workorders.bootstrap import SERVICE as WORKORDERS
from tests.support.databases import database_url
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.services import ServiceUnderTest, running_service

if TYPE_CHECKING:
    from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceAsyncStub
    from oms.orders.v1.orders_pb2_grpc import OrdersServiceAsyncStub
    from oms.returns.v1.returns_pb2_grpc import ReturnsServiceAsyncStub
    from oms.workorders.v1.workorders_pb2_grpc import WorkOrdersServiceAsyncStub

S = TypeVar("S")
# The stubs' asynchronous types, which the type checker alone knows (they are in the .pyi only).
InventoryClient: TypeAlias = "InventoryServiceAsyncStub"
OrdersClient: TypeAlias = "OrdersServiceAsyncStub"
ReturnsClient: TypeAlias = "ReturnsServiceAsyncStub"
WorkOrdersClient: TypeAlias = "WorkOrdersServiceAsyncStub"

InventoryUnderTest = ServiceUnderTest[InventoryClient]
WorkOrdersUnderTest = ServiceUnderTest[WorkOrdersClient]


@dataclass
class Calling(Generic[S]):
    """A service under test seen with clients of the services it calls."""

    service: ServiceUnderTest[S]

    @property
    def running(self) -> RunningService:
        return self.service.running

    @property
    def stub(self) -> S:
        return self.service.stub


@dataclass
class OrdersUnderTest(Calling[OrdersClient]):
    inventory: InventoryClient


@pytest.fixture
async def inventory(db_url: str, nats_server: EmbeddedNats) -> AsyncIterator[InventoryUnderTest]:
    """The inventory service started in-process on a free port, and a client for it."""
    async with running_service(INVENTORY, InventoryServiceStub, db_url, nats_server.url) as service:
        yield service


@pytest.fixture
async def orders(
    inventory: InventoryUnderTest, backend: str, nats_server: EmbeddedNats, tmp_path: Path
) -> AsyncIterator[OrdersUnderTest]:
    """The orders service, with its own database of the same backend, calling `inventory`."""
    calls = {"inventory": inventory.target}
    with database_url(backend, tmp_path, "orders") as url:
        async with running_service(
            ORDERS, OrdersServiceStub, url, nats_server.url, calls=calls
        ) as service:
            yield OrdersUnderTest(service, inventory.stub)


# The returns loop: events published as the returns and work orders services publish them, and
# the work orders service in-process.


@pytest.fixture
async def workorders(
    inventory: InventoryUnderTest, backend: str, nats_server: EmbeddedNats, tmp_path: Path
) -> AsyncIterator[WorkOrdersUnderTest]:
    """The work orders service, with its own database of the test's backend, calling
    `inventory`."""
    calls = {"inventory": inventory.target}
    with database_url(backend, tmp_path, "workorders") as url:
        async with running_service(
            WORKORDERS, WorkOrdersServiceStub, url, nats_server.url, calls=calls
        ) as service:
            yield service


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
        # nats.py leaves `consumer_info` unannotated; it returns a ConsumerInfo.
        info: ConsumerInfo = await js.consumer_info(stream_name(domain), durable)
    except NotFoundError:
        return False
    return info.num_pending == 0 and info.num_ack_pending == 0


async def outbox_drained(running: RunningService) -> bool:
    """Everything the service recorded has been relayed to JetStream."""
    async with running.db.snapshot() as session:
        return (await session.exec(select(func.count()).select_from(OutboxMessage))).one() == 0


@dataclass
class ReturnsUnderTest(Calling[ReturnsClient]):
    orders: OrdersClient
    inventory: InventoryClient

    async def restart(self) -> None:
        """Stops the service gracefully and starts it again on the same database."""
        await self.service.restart()


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
    calls = {"inventory": inventory.target, "orders": orders.service.target}
    with database_url(backend, tmp_path, "returns") as url:
        async with running_service(
            RETURNS, ReturnsServiceStub, url, nats_server.url, calls=calls, env=returns_env
        ) as service:
            yield ReturnsUnderTest(service, orders.stub, inventory.stub)


@pytest.fixture
def gateway_settings() -> dict[str, Any]:
    """Further `GatewaySettings` fields for `loop_gateway`; a module overrides this fixture."""
    return {}


@pytest.fixture
async def loop_gateway(
    inventory: InventoryUnderTest,
    orders: OrdersUnderTest,
    returns: ReturnsUnderTest,
    nats_server: EmbeddedNats,
    gateway_settings: dict[str, Any],
) -> AsyncIterator[str]:
    """The gateway under uvicorn over the inventory, orders and returns services: its URL."""
    targets = {s.definition.name: s.target for s in (inventory, orders.service, returns.service)}
    async with serving_gateway(targets, nats_server.url, SIGNING_KEY, **gateway_settings) as url:
        yield url
