"""Clear answers when a service is away, through the gateway: unreachable answers UNAVAILABLE,
past its deadline TIMEOUT, with HTTP 503 when nothing was answered — never a code-less
"Unexpected error" — and a service whose own call to another service fails passes the code on."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from launcher.embedded_nats import EmbeddedNats
from launcher.ports import free_port
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from services.kernel.caller import Role
from services.orders.bootstrap import SERVICE as ORDERS
from tests.integration.test_gateway_orders import order_input
from tests.support.contract import operation
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient
from tests.support.processes import ServiceProcess
from tests.support.services import running_service
from tests.support.stock import ADJUST_STOCK

AVAILABILITY = {"skus": ["TEE"], "channel": "web"}
ADJUSTMENT = {"input": {"sku": "TEE", "locationCode": "DC", "delta": 1, "reason": "count"}}


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors") or []]


async def test_an_unreachable_service_answers_unavailable_with_503(
    nats_server: EmbeddedNats,
) -> None:
    nowhere = f"127.0.0.1:{free_port()}"  # nothing listens there
    async with serving_gateway({"inventory": nowhere}, nats_server.url, SIGNING_KEY) as url:
        async with GraphQLClient(url, SIGNING_KEY, timeout=30) as gateway:
            query = await gateway.response(operation("Availability"), AVAILABILITY, Role.STOREFRONT)
            mutation = await gateway.response(ADJUST_STOCK, ADJUSTMENT)
    for response in (query, mutation):
        assert response.status_code == 503, response.text
        assert codes(response) == ["UNAVAILABLE"]
        assert "Unexpected error" not in response.text


@pytest.fixture
async def frozen_inventory(
    nats_server: EmbeddedNats, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    """A real inventory process, stopped (SIGSTOP) once serving: its port accepts connections
    and nothing answers, as a host that hangs."""
    port = free_port()
    env = {
        "OMS_INVENTORY_DATABASE_URL": f"sqlite:///{tmp_path / 'inventory.sqlite'}",
        "OMS_INVENTORY_GRPC_LISTEN": f"127.0.0.1:{port}",
        "OMS_NATS_URL": nats_server.url,
    }
    inventory = ServiceProcess("inventory", env, tmp_path / "logs", port)
    inventory.start()
    try:
        await inventory.wait_serving()
        assert inventory.process is not None
        inventory.process.send_signal(signal.SIGSTOP)
        yield inventory
    finally:
        if inventory.process is not None:
            inventory.process.send_signal(signal.SIGCONT)
        inventory.kill()


async def test_a_service_past_its_deadline_answers_timeout(
    frozen_inventory: ServiceProcess, nats_server: EmbeddedNats
) -> None:
    targets = {"inventory": frozen_inventory.target}
    async with serving_gateway(targets, nats_server.url, SIGNING_KEY) as url:
        async with GraphQLClient(url, SIGNING_KEY, timeout=30) as gateway:
            query = await gateway.response(operation("Availability"), AVAILABILITY, Role.STOREFRONT)
            mutation = await gateway.response(ADJUST_STOCK, ADJUSTMENT)
    for response in (query, mutation):
        assert response.status_code == 503, response.text
        assert codes(response) == ["TIMEOUT"]
        assert "may or may not" in response.json()["errors"][0]["message"]


async def test_a_service_whose_own_dependency_is_away_passes_the_code_on(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    # The orders service is up; the inventory it places orders through is not.
    calls = {"inventory": f"127.0.0.1:{free_port()}"}
    database = f"sqlite:///{tmp_path / 'orders.sqlite'}"
    async with running_service(
        ORDERS, OrdersServiceStub, database, nats_server.url, calls=calls
    ) as orders:
        targets = {"orders": orders.target, "inventory": calls["inventory"]}
        async with serving_gateway(targets, nats_server.url, SIGNING_KEY) as url:
            async with GraphQLClient(url, SIGNING_KEY, timeout=30) as gateway:
                variables: dict[str, Any] = order_input("w-1", {"TEE": 1})
                placed = await gateway.response(operation("PlaceOrder"), variables, Role.STOREFRONT)
    assert placed.status_code == 503, placed.text
    assert codes(placed) == ["UNAVAILABLE"]
