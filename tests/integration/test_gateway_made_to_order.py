"""Made to order through the gateway over the real inventory, orders, returns and work orders
services, on SQLite and PostgreSQL, with the contract's documents: an embroidered hoodie made
from a plain blank held at the hub near the customer. Its VALUE_ADD work order opens from
OrderPlaced, the shipment waits for it (INVALID_STATE), ships once it is made; cancelled before,
the work order is cancelled and the blank is available again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from launcher.embedded_nats import EmbeddedNats
from tests.integration.conftest import (
    InventoryUnderTest,
    OrdersUnderTest,
    ReturnsUnderTest,
    WorkOrdersUnderTest,
    eventually,
)
from tests.integration.test_gateway_orders import order_input
from tests.support.contract import operation
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient
from tests.support.stock import UPSERT_SKU, levels, seed

LOCATIONS = {
    "DC-LIS": ("DISTRIBUTION_CENTER", 38.72, -9.14),
    "HUB-BER": ("RETURN_HUB", 52.50, 13.45),
}
HUB = "HUB-BER"
COSTS = """
query Costs($status: WorkOrderStatus) { workOrders(status: $status) { sku costCents } }"""


@pytest.fixture
async def gateway(
    inventory: InventoryUnderTest,
    orders: OrdersUnderTest,
    returns: ReturnsUnderTest,
    workorders: WorkOrdersUnderTest,
    nats_server: EmbeddedNats,
) -> AsyncIterator[GraphQLClient]:
    """The gateway over the four services; two plain hoodies (800 cents) at the Berlin hub, and
    the embroidered hoodie declared made from them."""
    services = (inventory, orders.service, returns.service, workorders)
    targets = {s.definition.name: s.target for s in services}
    async with serving_gateway(targets, nats_server.url, SIGNING_KEY) as url:
        async with GraphQLClient(url, SIGNING_KEY, scanner_location=HUB, timeout=10) as gateway:
            await seed(gateway, LOCATIONS, ["HOODIE"], {("HOODIE", HUB): 2})
            made = {
                "code": "HOODIE-EMB",
                "title": "Embroidered hoodie",
                "unitCostCents": 2000,
                "weightGrams": 200,
                "madeFromSku": "HOODIE",
            }
            declared = await gateway.data(UPSERT_SKU, {"input": made})
            assert declared["upsertSku"]["userErrors"] == []
            yield gateway


async def place(gateway: GraphQLClient, external_id: str) -> dict[str, Any]:
    placed = await gateway.data(
        operation("PlaceOrder"), order_input(external_id, {"HOODIE-EMB": 1})
    )
    assert placed["placeOrder"]["userErrors"] == [], placed
    return dict(placed["placeOrder"]["order"])


async def work_orders(gateway: GraphQLClient, status: str | None = None) -> list[dict[str, Any]]:
    listed = await gateway.data(operation("WorkOrders"), {"status": status, "locationCode": HUB})
    return list(listed["workOrders"])


async def opened(gateway: GraphQLClient) -> dict[str, Any]:
    """The one VALUE_ADD work order the placement opened (workorders consumes OrderPlaced)."""

    async def one() -> bool:
        return len(await work_orders(gateway, "OPEN")) == 1

    await eventually(one, what="the VALUE_ADD work order")
    [work_order] = await work_orders(gateway, "OPEN")
    return work_order


async def complete(gateway: GraphQLClient, work_order_id: str, name: str) -> dict[str, Any]:
    done = {"workOrderId": work_order_id, "operation": name, "laborMinutes": 6}
    answer = await gateway.data(operation("CompleteWorkOrderOperation"), {"input": done})
    return dict(answer["completeWorkOrderOperation"])


async def ship(gateway: GraphQLClient, shipment_id: str) -> dict[str, Any]:
    shipped = await gateway.data(operation("ShipShipment"), {"id": shipment_id})
    return dict(shipped["shipShipment"])


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def held(gateway: GraphQLClient, sku: str) -> tuple[int, int]:
    """(on hand, reserved) of `sku` at the hub."""
    level = (await levels(gateway, sku)).get(HUB, {"onHand": 0, "reserved": 0})
    return level["onHand"], level["reserved"]


async def test_a_made_to_order_hoodie_ships_only_once_embroidered_and_checked(
    gateway: GraphQLClient,
) -> None:
    order = await place(gateway, "mto-1")
    [shipment] = order["shipments"]
    assert (shipment["location"]["code"], shipment["lines"]) == (
        HUB,
        [{"sku": "HOODIE-EMB", "quantity": 1}],
    )
    assert await held(gateway, "HOODIE") == (2, 1)
    work_order = await opened(gateway)
    assert (work_order["kind"], work_order["sku"], work_order["quantity"]) == (
        "VALUE_ADD",
        "HOODIE-EMB",
        1,
    )
    assert [x["name"] for x in work_order["operations"]] == ["EMBROIDER", "QC"]

    assert codes(await ship(gateway, shipment["id"])) == [("INVALID_STATE", "id")]
    embroidered = await complete(gateway, work_order["id"], "EMBROIDER")
    assert embroidered["workOrder"]["status"] == "IN_PROGRESS"
    assert codes(await ship(gateway, shipment["id"])) == [("INVALID_STATE", "id")]
    checked = await complete(gateway, work_order["id"], "QC")
    assert checked["userErrors"] == [] and checked["workOrder"]["status"] == "COMPLETED"
    # The blank at its unit cost and 12 minutes at 3,000 cents an hour.
    costs = (await gateway.data(COSTS, {"status": "COMPLETED"}))["workOrders"]
    assert costs == [{"sku": "HOODIE-EMB", "costCents": 800 + 600}]

    async def shipped() -> bool:
        answer = await ship(gateway, shipment["id"])
        return bool(answer["userErrors"] == [] and answer["shipment"]["status"] == "SHIPPED")

    # Inventory makes the unit when it consumes WorkOrderCompleted; until then it refuses.
    await eventually(shipped, what="the made hoodie shipped")
    assert await held(gateway, "HOODIE") == (1, 0)
    assert await held(gateway, "HOODIE-EMB") == (0, 0)


async def test_cancelling_before_completion_cancels_the_work_order_and_frees_the_blank(
    gateway: GraphQLClient,
) -> None:
    order = await place(gateway, "mto-2")
    work_order = await opened(gateway)
    assert (await complete(gateway, work_order["id"], "EMBROIDER"))["userErrors"] == []

    cancelled = await gateway.data(operation("CancelOrder"), {"id": order["id"]})
    assert cancelled["cancelOrder"]["order"]["status"] == "CANCELLED"

    async def work_order_cancelled() -> bool:
        return [w["id"] for w in await work_orders(gateway, "CANCELLED")] == [work_order["id"]]

    await eventually(work_order_cancelled, what="the work order cancelled with its order")
    assert codes(await complete(gateway, work_order["id"], "QC")) == [
        ("INVALID_STATE", "input.workOrderId")
    ]
    assert await held(gateway, "HOODIE") == (2, 0)
    assert (await levels(gateway, "HOODIE"))[HUB]["available"] == 2
    assert await held(gateway, "HOODIE-EMB") == (0, 0)
