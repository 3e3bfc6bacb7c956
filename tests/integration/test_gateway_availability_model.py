"""The gateway's availability read model over the real inventory and orders services and NATS:
after a placement, availability follows from the events alone (inventory's gRPC server stopped
proves no RPC is made); a gateway started late loads what happened before it and follows what
happens after; a model whose NATS connection came back starts over."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NatsClient

from gateway.availability import SETTLE_SECONDS, AvailabilityModel
from launcher.embedded_nats import EmbeddedNats
from oms.inventory.v1 import inventory_pb2 as pb
from services.kernel.caller import Role
from tests.integration.conftest import InventoryUnderTest, OrdersUnderTest
from tests.integration.test_gateway_orders import order_input
from tests.support.contract import operation
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient
from tests.support.stock import seed

LOCATIONS = {
    "3PL-BER": ("THIRD_PARTY_WAREHOUSE", 52.50, 13.45),
    "DC-LIS": ("DISTRIBUTION_CENTER", 38.72, -9.14),
}
STOCK = {("CREAM", "3PL-BER"): 4, ("CREAM", "DC-LIS"): 10, ("SOAP", "DC-LIS"): 7}
AVAILABILITY = """
query Availability($skus: [String!]!) { availability(skus: $skus, channel: "web") { sku available } }
"""


class Storefront(GraphQLClient):
    async def available(self, *skus: str) -> dict[str, int]:
        answer = await self.data(AVAILABILITY, {"skus": list(skus)}, role=Role.STOREFRONT)
        return {found["sku"]: found["available"] for found in answer["availability"]}


async def eventually(read: Callable[[], Awaitable[Any]], wanted: Any, seconds: float = 5) -> Any:
    """What `read` answers once it answers `wanted`, or its last answer after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        found = await read()
        if found == wanted or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.02)


async def adjust(inventory: InventoryUnderTest, sku: str, location: str, delta: int) -> None:
    request = pb.AdjustStockRequest(sku=sku, location_code=location, delta=delta, reason="count")
    await inventory.stub.AdjustStock(request)


@pytest.fixture
async def seeded(
    orders: OrdersUnderTest, inventory: InventoryUnderTest, nats_server: EmbeddedNats
) -> AsyncIterator[dict[str, str]]:
    targets = {"inventory": inventory.target, "orders": orders.service.target}
    async with serving_gateway(targets, nats_server.url, SIGNING_KEY) as url:
        async with Storefront(url, SIGNING_KEY, timeout=10) as client:
            await seed(client, LOCATIONS, ["CREAM", "SOAP"], STOCK)
    yield targets


@contextlib.asynccontextmanager
async def listening_model(nats_url: str) -> AsyncIterator[tuple[AvailabilityModel, NatsClient]]:
    """A model of its own, listening on a connection of its own, until the block ends."""
    connection = await nats.connect(nats_url)
    model = AvailabilityModel()
    await model.start(connection)
    try:
        yield model, connection
    finally:
        await model.stop()
        await connection.close()


async def test_after_a_placement_availability_follows_from_the_events_alone(
    seeded: dict[str, str], inventory: InventoryUnderTest, nats_server: EmbeddedNats
) -> None:
    async with serving_gateway(seeded, nats_server.url, SIGNING_KEY) as url:
        async with Storefront(url, SIGNING_KEY, timeout=10) as client:
            assert await client.available("CREAM", "SOAP") == {"CREAM": 14, "SOAP": 7}

            placed = await client.data(
                operation("PlaceOrder"), order_input("o-1", {"CREAM": 3}), role=Role.STOREFRONT
            )
            assert placed["placeOrder"]["userErrors"] == []
            # Read-your-writes: right after the placement this gateway asks inventory.
            assert await client.available("CREAM") == {"CREAM": 11}
            await asyncio.sleep(SETTLE_SECONDS)
            # A change made elsewhere reaches the model by its event.
            await adjust(inventory, "SOAP", "DC-LIS", -2)
            assert await eventually(lambda: client.available("SOAP"), {"SOAP": 5}) == {"SOAP": 5}

            # Inventory no longer answers: the model does, with every change so far.
            await inventory.running.grpc.stop(0)
            assert await client.available("CREAM", "SOAP") == {"CREAM": 11, "SOAP": 5}


async def test_a_gateway_started_late_loads_the_past_and_follows_the_present(
    seeded: dict[str, str], inventory: InventoryUnderTest, nats_server: EmbeddedNats
) -> None:
    # Before the gateway starts: units reserved by an order, units adjusted.
    async with serving_gateway(seeded, nats_server.url, SIGNING_KEY) as url:
        async with Storefront(url, SIGNING_KEY, timeout=10) as client:
            await client.data(operation("PlaceOrder"), order_input("o-2", {"CREAM": 5}))
    await adjust(inventory, "SOAP", "DC-LIS", 3)

    async with serving_gateway(seeded, nats_server.url, SIGNING_KEY) as url:
        async with Storefront(url, SIGNING_KEY, timeout=10) as client:
            assert await client.available("CREAM", "SOAP") == {"CREAM": 9, "SOAP": 10}
            await adjust(inventory, "CREAM", "3PL-BER", 6)
            await adjust(inventory, "SOAP", "DC-LIS", -10)
            wanted = {"CREAM": 15, "SOAP": 0}
            assert await eventually(lambda: client.available("CREAM", "SOAP"), wanted) == wanted
            await inventory.running.grpc.stop(0)
            assert await client.available("CREAM", "SOAP") == wanted


async def test_a_model_whose_connection_came_back_starts_over(
    seeded: dict[str, str], inventory: InventoryUnderTest, nats_server: EmbeddedNats
) -> None:
    async with listening_model(nats_server.url) as (model, connection):
        assert await model.availability(inventory.stub, ["CREAM"], "web") == [("CREAM", 14)]
        # Messages the model never gets (as when its connection is down while stock moves).
        for subscription in model._subscriptions:
            await subscription.unsubscribe()
        await adjust(inventory, "CREAM", "DC-LIS", -4)
        await asyncio.sleep(0.2)
        assert await model.availability(inventory.stub, ["CREAM"], "web") == [("CREAM", 14)]

        await connection.force_reconnect()

        async def connected() -> bool:
            return bool(connection.is_connected)

        assert await eventually(connected, True)
        assert await model.availability(inventory.stub, ["CREAM"], "web") == [("CREAM", 10)]


async def test_an_orders_shipment_locations_come_from_memory_once_loaded(
    seeded: dict[str, str], inventory: InventoryUnderTest, nats_server: EmbeddedNats
) -> None:
    async with serving_gateway(seeded, nats_server.url, SIGNING_KEY) as url:
        async with Storefront(url, SIGNING_KEY, timeout=10) as client:
            placed = await client.data(
                operation("PlaceOrder"), order_input("o-3", {"SOAP": 1}), role=Role.STOREFRONT
            )
            order = placed["placeOrder"]["order"]
            [shipment] = order["shipments"]
            assert shipment["location"] == {"code": "DC-LIS", "kind": "DISTRIBUTION_CENTER"}

            # Inventory no longer answers: the order's location still does, from memory.
            await inventory.running.grpc.stop(0)
            read = await client.data(operation("Order"), {"id": order["id"]}, role=Role.STOREFRONT)
            [shipment] = read["order"]["shipments"]
            assert shipment["location"] == {"code": "DC-LIS", "kind": "DISTRIBUTION_CENTER"}


async def test_a_changed_location_is_read_again_after_its_event(
    seeded: dict[str, str], inventory: InventoryUnderTest, nats_server: EmbeddedNats
) -> None:
    async with listening_model(nats_server.url) as (model, _):

        async def name_of(code: str) -> str | None:
            held = await model.locations(inventory.stub, [code])
            return held[code].name if held else None

        assert await model.locations(inventory.stub, ["NOWHERE"]) is None, "unknown: the RPC"
        before = await name_of("DC-LIS")
        renamed = pb.UpsertLocationRequest(
            code="DC-LIS",
            name="Lisbon south",
            kind=pb.LOCATION_KIND_DISTRIBUTION_CENTER,
            latitude=38.72,
            longitude=-9.14,
        )
        await inventory.stub.UpsertLocation(renamed)
        assert before != "Lisbon south"
        assert await eventually(lambda: name_of("DC-LIS"), "Lisbon south") == "Lisbon south"
