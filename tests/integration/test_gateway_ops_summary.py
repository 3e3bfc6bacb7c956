"""The operations summary through the gateway over the real inventory, orders, returns and work
orders services, on SQLite and PostgreSQL, with the contract's OpsSummary document: every figure
from stock set up in each state (on hand, reserved by an order, pending inspection from a
received return, in repair from a REFURBISH work order), inRepair equal to the repair report's
value in repair; and a refurbishment scrapped: the return closes and the value is written off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from launcher.embedded_nats import EmbeddedNats
from services.kernel.caller import Role
from tests.integration.conftest import (
    InventoryUnderTest,
    OrdersUnderTest,
    ReturnsUnderTest,
    WorkOrdersUnderTest,
    eventually,
)
from tests.integration.test_gateway_orders import order_input
from tests.integration.test_gateway_returns import Gateway
from tests.support.contract import operation
from tests.support.gateway import SIGNING_KEY, serving_gateway

TEE_CENTS = 800
SEEDED = 50
REPORT = """
query Report {
  repairReport {
    valueInRepairCents
    locations { locationCode unitsInRepair scrappedUnits writtenOffCents }
  }
}"""
SCRAP = """
mutation Scrap($id: ID!) {
  cancelWorkOrder(id: $id, reason: "beyond repair") {
    workOrder { status } userErrors { code field }
  }
}"""


@pytest.fixture
async def gateway(
    inventory: InventoryUnderTest,
    orders: OrdersUnderTest,
    returns: ReturnsUnderTest,
    workorders: WorkOrdersUnderTest,
    nats_server: EmbeddedNats,
) -> AsyncIterator[Gateway]:
    """The gateway over the four services, 50 tees (800 cents each) at the Lisbon DC."""
    services = (inventory, orders.service, returns.service, workorders)
    targets = {s.definition.name: s.target for s in services}
    async with serving_gateway(targets, nats_server.url, SIGNING_KEY) as url:
        async with Gateway(url, SIGNING_KEY, scanner_location="HUB-BER", timeout=10) as gateway:
            await gateway.seed()
            yield gateway


async def summary(gateway: Gateway) -> dict[str, Any]:
    return dict((await gateway.data(operation("OpsSummary")))["opsSummary"])


async def received_return(gateway: Gateway, external_id: str) -> str:
    """A shipped tee's return, received at the Berlin hub: its id."""
    order_id = await gateway.shipped_order(external_id)
    requested = await gateway.request(order_id, role=Role.STOREFRONT, subject="storefront-a")
    return_id = str(requested["return"]["id"])
    assert (await gateway.receive(return_id))["userErrors"] == []
    return return_id


async def in_repair(gateway: Gateway) -> dict[str, Any]:
    """A tee's return inspected GOOD: its REFURBISH work order, once inventory counts the unit
    in repair (work orders and inventory consume the inspection independently)."""
    return_id = await received_return(gateway, "refurbished")
    inspected = await gateway.inspect(return_id, "GOOD", grams=200)
    assert [x["disposition"] for x in inspected["return"]["lines"]] == ["REFURBISH"]

    async def counted() -> bool:
        bench = await gateway.data(operation("WorkOrders"), {"status": "OPEN"})
        hub = (await gateway.levels()).get("HUB-BER", {})
        return len(bench["workOrders"]) == 1 and hub.get("inRepair") == 1

    await eventually(counted, what="the refurbishment open and its unit in repair")
    [work_order] = (await gateway.data(operation("WorkOrders"), {"status": "OPEN"}))["workOrders"]
    assert work_order["sourceReturnId"] == return_id
    return dict(work_order)


async def test_every_figure_of_the_summary_from_known_stock(gateway: Gateway) -> None:
    await in_repair(gateway)
    await received_return(gateway, "awaiting-inspection")
    placed = await gateway.data(operation("PlaceOrder"), order_input("pending", {"TEE": 2}))
    assert placed["placeOrder"]["userErrors"] == []

    async def pending_counted() -> bool:
        hub = (await gateway.levels()).get("HUB-BER", {})
        return hub.get("pendingInspection") == 1

    await eventually(pending_counted, what="the received tee pending inspection")
    figures = await summary(gateway)
    assert figures["oldestPendingMinutes"] >= 0
    # Two tees shipped (both came back to the hub), two reserved by the pending order.
    on_hand = SEEDED - 2
    assert figures | {"oldestPendingMinutes": 0} == {
        "pendingOrders": 1,
        "oldestPendingMinutes": 0,
        "returnsAwaitingInspection": 1,
        "openWorkOrders": 1,
        "inventoryValueCents": {
            "sellable": (on_hand - 2) * TEE_CENTS,
            "reserved": 2 * TEE_CENTS,
            "inTransit": 0,
            "pendingInspection": TEE_CENTS,
            "inRepair": TEE_CENTS,
        },
    }
    report = (await gateway.data(REPORT))["repairReport"]
    assert report["valueInRepairCents"] == figures["inventoryValueCents"]["inRepair"]


async def test_a_scrapped_refurbishment_closes_the_return_and_writes_the_value_off(
    gateway: Gateway,
) -> None:
    work_order = await in_repair(gateway)
    scrapped = (await gateway.data(SCRAP, {"id": work_order["id"]}))["cancelWorkOrder"]
    assert scrapped == {"workOrder": {"status": "CANCELLED"}, "userErrors": []}

    async def closed() -> bool:
        found = await gateway.data(operation("Return"), {"id": work_order["sourceReturnId"]})
        return bool(found["return"]["status"] == "CLOSED")

    await eventually(closed, what="the return closed by the scrapped line")

    async def off_the_bench() -> bool:
        return bool((await gateway.levels())["HUB-BER"]["inRepair"] == 0)

    await eventually(off_the_bench, what="the scrapped tee out of repair")
    [hub] = (await gateway.data(REPORT))["repairReport"]["locations"]
    assert hub == {
        "locationCode": "HUB-BER",
        "unitsInRepair": 0,
        "scrappedUnits": 1,
        "writtenOffCents": TEE_CENTS,
    }
    figures = await summary(gateway)
    assert (figures["openWorkOrders"], figures["inventoryValueCents"]["inRepair"]) == (0, 0)
    # Nothing became sellable: only the 49 tees left at the DC.
    assert figures["inventoryValueCents"]["sellable"] == (SEEDED - 1) * TEE_CENTS
