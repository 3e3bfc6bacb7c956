"""Internal trust: only holders of a certificate from the system's CA reach a service, only the
gateway may say whom a call is for, reflection is off unless asked for, and on the broker each
process may publish only its own events and read only what it consumes."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any

import grpc
import nats
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError

from gateway.availability import SUBJECTS as GATEWAY_SUBJECTS
from launcher.embedded_nats import EmbeddedNats
from launcher.nats_access import CONSUMES, PARTIES, NatsUser
from launcher.pki import issue_all
from launcher.ports import free_port
from oms.events.v1.inventory_pb2 import BackorderFilled
from oms.events.v1.orders_pb2 import OrderPlaced
from oms.events.v1.procurement_pb2 import PurchaseOrderCancelled
from oms.events.v1.returns_pb2 import ReturnInspected
from oms.events.v1.workorders_pb2 import WorkOrderCompleted
from oms.inventory.v1 import inventory_pb2 as inv
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from oms.orders.v1 import orders_pb2 as pb
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from services.channels.bootstrap import SERVICE as CHANNELS
from services.inventory.bootstrap import SERVICE as INVENTORY
from services.kernel import events
from services.kernel.caller import Caller, Role
from services.kernel.db import Database
from services.kernel.errors import ErrorCode, from_rpc_error
from services.kernel.events import stream_name
from services.kernel.grpc_client import open_channel
from services.kernel.runtime import ServiceContext, start_service
from services.kernel.settings import SERVICE_NAMES, ServiceSettings
from services.kernel.tls import GATEWAY, Credentials
from services.orders.bootstrap import SERVICE as ORDERS
from services.procurement.bootstrap import SERVICE as PROCUREMENT
from services.returns.bootstrap import SERVICE as RETURNS
from services.workorders.bootstrap import SERVICE as WORKORDERS
from tests.integration.conftest import (
    InventoryUnderTest,
    OrdersUnderTest,
    event_envelope,
    publish_event,
)
from tests.support.services import running_service
from tests.support.trust import credentials, gateway_channel

DEFINITIONS = {d.name: d for d in (INVENTORY, ORDERS, RETURNS, PROCUREMENT, WORKORDERS, CHANNELS)}
SHOP_A = Caller("shop-a", Role.STOREFRONT, channels=("web",))
SHOP_B = Caller("shop-b", Role.STOREFRONT, channels=("web",))

# What these tests check does not depend on the database.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def order_request(external_id: str) -> pb.PlaceOrderRequest:
    return pb.PlaceOrderRequest(
        channel="web",
        external_id=external_id,
        email="ada@example.com",
        ship_to=pb.Address(latitude=52.52, longitude=13.40),
        lines=[pb.OrderLine(sku="TEE", quantity=1, unit_price_cents=2500)],
    )


async def placed_by_shop_a(orders: OrdersUnderTest) -> pb.Order:
    """An order shop-a placed through the gateway."""
    await orders.inventory.UpsertLocation(
        inv.UpsertLocationRequest(
            code="DC", name="DC", kind=inv.LOCATION_KIND_DISTRIBUTION_CENTER, latitude=52.5,
            longitude=13.4,
        )
    )  # fmt: skip
    await orders.inventory.UpsertSku(
        inv.UpsertSkuRequest(code="TEE", title="Tee", unit_cost_cents=500, weight_grams=200)
    )
    await orders.inventory.AdjustStock(
        inv.AdjustStockRequest(sku="TEE", location_code="DC", delta=5, reason="count")
    )
    return await orders.stub.PlaceOrder(order_request("a-1"), metadata=SHOP_A.metadata())


async def refusal_of(call: Awaitable[object]) -> grpc.StatusCode:
    """The status a call that must fail failed with."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code()
    raise AssertionError("the call went through")


@pytest.fixture
def foreign_gateway(tmp_path: Path) -> Credentials:
    """A certificate named `gateway` from a CA that is not ours, as an intruder would mint it;
    the intruder knows our CA's certificate (it is no secret), so it trusts our servers."""
    issue_all(tmp_path / "foreign", [GATEWAY])
    forged = Credentials.load(tmp_path / "foreign" / GATEWAY)
    return dataclasses.replace(forged, ca=credentials(GATEWAY).ca)


# gRPC


@SQLITE_ONLY
async def test_only_holders_of_a_certificate_from_our_ca_reach_a_service(
    orders: OrdersUnderTest, foreign_gateway: Credentials
) -> None:
    order = await placed_by_shop_a(orders)
    target = orders.service.target
    request = pb.GetOrderRequest(id=order.id)

    plaintext = grpc.aio.insecure_channel(target)
    # TLS that trusts our server, but presents no certificate of its own.
    anonymous = grpc.aio.secure_channel(
        target,
        grpc.ssl_channel_credentials(credentials(GATEWAY).ca),
        options=[("grpc.ssl_target_name_override", "orders")],
    )
    forged = open_channel(target, "orders", foreign_gateway)
    channels = {"plaintext": plaintext, "anonymous": anonymous, "forged": forged}
    try:
        for name, channel in channels.items():
            stub = OrdersServiceStub(channel)
            call = stub.GetOrder(request, metadata=SHOP_A.metadata(), timeout=5)
            assert await refusal_of(call) is grpc.StatusCode.UNAVAILABLE, name
    finally:
        for channel in channels.values():
            await channel.close()
    # The real gateway's certificate gets through, speaking for shop-a.
    assert (await orders.stub.GetOrder(request, metadata=SHOP_A.metadata())).id == order.id


@SQLITE_ONLY
async def test_a_channel_refuses_a_server_that_is_not_the_service_it_called(
    orders: OrdersUnderTest, inventory: InventoryUnderTest
) -> None:
    # The orders service's address, dialled as if it were inventory's.
    channel = gateway_channel(orders.service.target, "inventory")
    try:
        stub = OrdersServiceStub(channel)
        call = stub.GetOrder(pb.GetOrderRequest(id="x"), timeout=5)
        assert await refusal_of(call) is grpc.StatusCode.UNAVAILABLE
    finally:
        await channel.close()


@SQLITE_ONLY
async def test_only_the_gateway_may_speak_for_a_user(orders: OrdersUnderTest) -> None:
    order = await placed_by_shop_a(orders)
    request = pb.GetOrderRequest(id=order.id)
    # Another service of ours: it may call, for no one in particular, but not name a user.
    channel = open_channel(orders.service.target, "orders", credentials("procurement"))
    try:
        as_a_service = OrdersServiceStub(channel)
        assert (await as_a_service.GetOrder(request)).id == order.id
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await as_a_service.GetOrder(request, metadata=SHOP_B.metadata())
        assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED
        refusal = from_rpc_error(raised.value)
        assert refusal is not None and refusal.code is ErrorCode.FORBIDDEN
    finally:
        await channel.close()
    # Through the gateway, shop-b does not see shop-a's order.
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await orders.stub.GetOrder(request, metadata=SHOP_B.metadata())
    assert hidden.value.code() is grpc.StatusCode.NOT_FOUND


def list_services(channel: grpc.Channel) -> reflection_pb2.ServerReflectionResponse:
    stub: Any = reflection_pb2_grpc.ServerReflectionStub(channel)  # its stubs lack the method
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    answer: reflection_pb2.ServerReflectionResponse = next(
        iter(stub.ServerReflectionInfo(iter([request]), timeout=5))
    )
    return answer


def secure_sync_channel(target: str, service: str) -> grpc.Channel:
    gateway = credentials(GATEWAY)
    return grpc.secure_channel(
        target,
        gateway.for_channel(),
        options=[("grpc.ssl_target_name_override", service)],
    )


@SQLITE_ONLY
async def test_reflection_is_off_unless_asked_for(
    inventory: InventoryUnderTest, nats_server: EmbeddedNats
) -> None:
    with secure_sync_channel(inventory.target, "inventory") as channel:
        with pytest.raises(grpc.RpcError) as raised:
            await asyncio.to_thread(list_services, channel)
    assert raised.value.code() is grpc.StatusCode.UNIMPLEMENTED

    settings = dataclasses.replace(inventory.running.settings, grpc_reflection=True)
    running = await start_service(INVENTORY, settings, {})
    try:
        with secure_sync_channel(f"127.0.0.1:{running.port}", "inventory") as channel:
            answer = await asyncio.to_thread(list_services, channel)
        names = {service.name for service in answer.list_services_response.service}
        assert "oms.inventory.v1.InventoryService" in names
    finally:
        await running.stop()


@SQLITE_ONLY
async def test_the_plaintext_health_port_answers_health_and_nothing_else(
    inventory: InventoryUnderTest,
) -> None:
    settings = dataclasses.replace(inventory.running.settings, health_listen="127.0.0.1:0")
    running = await start_service(INVENTORY, settings, {})
    try:
        assert running.grpc.health_port is not None
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.grpc.health_port}") as channel:
            health: health_pb2_grpc.HealthStub = health_pb2_grpc.HealthStub(channel)
            answer = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)  # type: ignore[attr-defined]  # the stubs lack its methods
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
            data = InventoryServiceStub(channel)
            call = data.ListLocations(inv.ListLocationsRequest(), timeout=5)
            assert await refusal_of(call) is grpc.StatusCode.UNIMPLEMENTED
    finally:
        await running.stop()


# NATS


@pytest.fixture
def users() -> dict[str, NatsUser]:
    return {party: NatsUser(party, secrets.token_urlsafe(16)) for party in PARTIES}


@pytest.fixture
def broker(tmp_path: Path, users: dict[str, NatsUser]) -> Iterator[EmbeddedNats]:
    """A broker that lets each part in under its own user, as `oms up`'s does."""
    server = EmbeddedNats(tmp_path / "secured-nats", users=list(users.values()))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def login(
    broker: EmbeddedNats, users: dict[str, NatsUser]
) -> AsyncIterator[dict[str, NatsClient]]:
    """A connection as each service, made as the services make theirs."""
    clients: dict[str, NatsClient] = {}
    try:
        for name in SERVICE_NAMES:
            clients[name] = await events.connect(broker.url_for(users[name]), f"oms-{name}")
            await events.ensure_stream(clients[name].jetstream(), name)
        yield clients
    finally:
        for client in clients.values():
            await client.close()


async def stored(client: NatsClient, domain: str) -> int:
    info = await client.jetstream().stream_info(stream_name(domain))
    return int(info.state.messages)


async def test_a_service_cannot_publish_another_services_event(
    login: dict[str, NatsClient],
) -> None:
    """Forged `ReturnInspected` events would create stock at a hub: only returns may say so."""
    forged = event_envelope("returns", ReturnInspected(return_id="r-1", location_code="HUB"))
    inventory = login["inventory"]
    # Through JetStream the publish is dropped, so no acknowledgement ever comes.
    with pytest.raises(nats.errors.TimeoutError):
        await inventory.jetstream().publish(
            "oms.returns.return_inspected", forged.SerializeToString(), timeout=2
        )
    # Nor through core NATS, which the stream would record; the flush makes sure the broker
    # has dealt with it before the count below.
    await inventory.publish("oms.returns.return_inspected", forged.SerializeToString())
    await inventory.flush(timeout=5)
    # Returns itself may: its event is the one stored.
    await publish_event(login["returns"].jetstream(), forged)
    assert await stored(login["returns"], "returns") == 1


async def test_the_gateway_hears_every_subject_its_feed_and_read_model_listen_to(
    broker: EmbeddedNats, users: dict[str, NatsUser], login: dict[str, NatsClient]
) -> None:
    gateway = await events.connect(broker.url_for(users[GATEWAY]), "oms-gateway")
    try:
        heard: asyncio.Queue[str] = asyncio.Queue()

        async def hear(message: Msg) -> None:
            await heard.put(message.subject)

        for subject in GATEWAY_SUBJECTS:
            await gateway.subscribe(subject, cb=hear)
        await gateway.flush(timeout=5)
        for subject in GATEWAY_SUBJECTS:
            await login["inventory"].publish(subject, b"x")
        got = {await asyncio.wait_for(heard.get(), 5) for _ in GATEWAY_SUBJECTS}
        assert got == set(GATEWAY_SUBJECTS)
    finally:
        await gateway.close()


async def test_anyone_without_a_user_is_turned_away(broker: EmbeddedNats) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization"):
        await nats.connect(broker.url, allow_reconnect=False, connect_timeout=2)


async def test_a_service_reads_only_what_it_consumes_and_through_its_own_consumer(
    login: dict[str, NatsClient],
) -> None:
    inventory = login["inventory"].jetstream()
    # Its own durable on the returns stream: allowed.
    await inventory.pull_subscribe("oms.returns.>", "inventory-returns", stream="OMS_RETURNS")
    # The work orders service's durable on the same stream: refused (it could ack them away).
    with pytest.raises(Exception):  # noqa: B017
        await inventory.pull_subscribe("oms.returns.>", "workorders-returns", stream="OMS_RETURNS")
    # A stream it does not consume at all.
    with pytest.raises(Exception):  # noqa: B017
        await inventory.pull_subscribe("oms.orders.>", "inventory-orders", stream="OMS_ORDERS")


async def test_every_service_runs_under_its_own_user(
    broker: EmbeddedNats, users: dict[str, NatsUser], tmp_path: Path
) -> None:
    """The permissions are enough to run: each service makes its streams and consumers, and
    its consumers fetch and acknowledge what the others publish."""
    async with contextlib.AsyncExitStack() as stack:
        for name, definition in DEFINITIONS.items():
            await stack.enter_async_context(
                running_service(
                    definition,
                    lambda channel: channel,
                    f"sqlite:///{tmp_path / name}.sqlite",
                    broker.url_for(users[name]),
                )
            )
        clients: dict[str, NatsClient] = {}
        for name in SERVICE_NAMES:
            clients[name] = await events.connect(broker.url_for(users[name]), f"oms-{name}")
            stack.push_async_callback(clients[name].close)
        # One event on every stream a service consumes, none a handler acts on (no lines; not
        # a refurbishment): each is simply applied.
        nothing_to_do = {
            "returns": ReturnInspected(),
            "workorders": WorkOrderCompleted(),
            "orders": OrderPlaced(),
            "procurement": PurchaseOrderCancelled(),
            "inventory": BackorderFilled(),
        }
        consumed_streams = {domain for consumed in CONSUMES.values() for domain, _ in consumed}
        assert consumed_streams == set(nothing_to_do)
        for domain, event in nothing_to_do.items():
            await publish_event(clients[domain].jetstream(), event_envelope(domain, event))
        for name, consumed in CONSUMES.items():
            for domain, durable in consumed:
                await consumed_everything(clients[name], domain, durable)


async def consumed_everything(client: NatsClient, domain: str, durable: str) -> None:
    """Waits until the durable consumer exists, has fetched its stream's one event and
    acknowledged it."""
    deadline = asyncio.get_running_loop().time() + 20
    state = "missing"
    while asyncio.get_running_loop().time() < deadline:
        try:
            info = await client.jetstream().consumer_info(stream_name(domain), durable)
        except NotFoundError:
            await asyncio.sleep(0.1)
            continue
        state = f"delivered {info.delivered.stream_seq}, unacknowledged {info.num_ack_pending}"
        if info.delivered.stream_seq >= 1 and info.num_ack_pending == 0 == info.num_pending:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"consumer {durable} on {domain}: {state}")


async def test_the_brokers_permissions_name_every_consumer_the_services_declare(
    tmp_path: Path,
) -> None:
    for name, definition in DEFINITIONS.items():
        db = Database(f"sqlite+aiosqlite:///{tmp_path / name}.sqlite")
        channels = {other: open_channel("127.0.0.1:1", other, None) for other in definition.calls}
        try:
            settings = ServiceSettings.from_env(name, {"OMS_DATA_DIR": str(tmp_path)})
            parts = definition.build(ServiceContext(settings, db, channels, {}))
            declared = {(s.subject.split(".")[1], s.durable) for s in parts.subscriptions}
            assert declared == set(CONSUMES[name]), name
        finally:
            for channel in channels.values():
                await channel.close()
            await db.dispose()


def test_a_lone_service_without_its_certificate_does_not_start(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OMS_")},
        "OMS_DATA_DIR": str(tmp_path),
        "OMS_INVENTORY_GRPC_LISTEN": f"127.0.0.1:{free_port()}",
    }
    started = subprocess.run(
        [sys.executable, "-m", "services.inventory"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2, started.stderr
    assert "no TLS credentials in" in started.stderr
    assert "OMS_INSECURE_PLAINTEXT=1" in started.stderr
    assert "Traceback" not in started.stderr
    assert not (tmp_path / "inventory.sqlite").exists(), "it stops before touching anything"
