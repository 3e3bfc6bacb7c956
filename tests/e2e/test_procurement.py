"""Procurement as its users run it: `oms up` on a fresh data dir, tokens from `oms token`, and
the contract's own documents. A purchase order of 100 tees for the Berlin hub is in transit,
received 60 by the hub's scanner then 40, sellable at once, and the 101st unit is refused;
its supplier's invoices are matched three ways, once per number. A return on its way back
shows in the replenishment plan as expected supply."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

# The returns loop's system (`oms up` on a fresh data dir, DC-LIS with 10 tees, HUB-BER, tokens).
from tests.e2e.test_returns_loop import System
from tests.e2e.test_returns_loop import system as running_system  # noqa: F401

pytestmark = pytest.mark.timeout(600)

HUB = "HUB-BER"
POLL_SECONDS = 15.0
EXPLAINED = """
query Explained($locationCode: String) {
  replenishmentPlan(locationCode: $locationCode) { sku explanation { dailyDemand } }
}"""


async def hub_tee(system: System) -> dict[str, int]:
    levels = await system.backoffice.data("StockLevels", sku="TEE")
    return next((x for x in levels if x["location"]["code"] == HUB), {})


async def until_hub(system: System, what: str, expected: dict[str, int]) -> None:
    """Inventory applies procurement's events asynchronously: polls the hub's TEE level."""
    deadline = time.monotonic() + POLL_SECONDS
    while {k: (await hub_tee(system)).get(k, 0) for k in expected} != expected:
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def receipt(order_id: str, units: int) -> dict[str, Any]:
    return {"purchaseOrderId": order_id, "lines": [{"sku": "TEE", "quantity": units}]}


def invoice(order_id: str, number: str, units: int, cents: int) -> dict[str, Any]:
    return {
        "purchaseOrderId": order_id,
        "invoiceNumber": number,
        "lines": [{"sku": "TEE", "quantity": units, "unitCostCents": cents}],
    }


async def test_a_purchase_order_is_received_in_parts_and_invoiced_three_ways(
    running_system: System,  # noqa: F811  (the fixture imported above)
) -> None:
    system = running_system
    supplier = {"code": "ACME", "name": "Acme Textiles", "leadTimeDays": 10}
    upserted = await system.backoffice.ok("UpsertSupplier", input=supplier)
    assert upserted["supplier"] == supplier

    lines = [{"sku": "TEE", "quantity": 100, "unitCostCents": 800}]
    created = await system.backoffice.ok(
        "CreatePurchaseOrder", input={"supplierCode": "ACME", "locationCode": HUB, "lines": lines}
    )
    order = created["purchaseOrder"]
    assert (order["status"], order["number"][:3], order["location"]) == (
        "OPEN",
        "PO-",
        {"code": HUB},
    )
    await until_hub(system, "100 in transit", {"inTransit": 100, "onHand": 0})

    partly = await system.scanner.ok("ReceivePurchaseOrder", input=receipt(order["id"], 60))
    assert partly["purchaseOrder"]["status"] == "PARTIALLY_RECEIVED"
    await until_hub(system, "60 sellable", {"inTransit": 40, "onHand": 60, "available": 60})
    done = await system.backoffice.ok("ReceivePurchaseOrder", input=receipt(order["id"], 40))
    assert done["purchaseOrder"]["status"] == "RECEIVED"
    assert done["purchaseOrder"]["lines"] == [
        {"sku": "TEE", "quantityOrdered": 100, "quantityReceived": 100, "unitCostCents": 800}
    ]
    await until_hub(system, "100 sellable", {"inTransit": 0, "onHand": 100, "available": 100})
    refused = await system.scanner.data("ReceivePurchaseOrder", input=receipt(order["id"], 1))
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_QUANTITY", "input.lines.0.quantity")
    ]

    async def record(number: str, units: int, cents: int) -> dict[str, Any]:
        answer = await system.backoffice.ok(
            "RecordSupplierInvoice", input=invoice(order["id"], number, units, cents)
        )
        return dict(answer["invoice"])

    matched = await record("ACME-1001", 100, 800)
    assert (matched["status"], matched["totalCents"], matched["discrepancies"]) == (
        "MATCHED",
        80_000,
        [],
    )
    priced = await record("ACME-1002", 100, 850)
    assert (priced["status"], priced["discrepancies"]) == (
        "ON_HOLD",
        [{"sku": "TEE", "kind": "PRICE", "expected": 800, "actual": 850}],
    )
    counted = await record("ACME-1003", 120, 800)
    assert (counted["status"], counted["discrepancies"]) == (
        "ON_HOLD",
        [{"sku": "TEE", "kind": "QUANTITY", "expected": 100, "actual": 120}],
    )
    assert await record("ACME-1001", 1, 1) == matched


async def test_a_return_on_its_way_back_is_expected_supply_in_the_plan(
    running_system: System,  # noqa: F811  (the fixture imported above)
) -> None:
    system = running_system
    order = await system.shipped_order("w-1")
    await system.request_return(order["id"])

    async def hub_line() -> dict[str, Any]:
        plan = await system.backoffice.data("ReplenishmentPlan", locationCode=HUB)
        return next((x for x in plan if x["sku"] == "TEE"), {})

    deadline = time.monotonic() + POLL_SECONDS
    while (line := await hub_line()).get("expectedReturns") != 1:
        assert time.monotonic() < deadline, f"timed out waiting for the return in the plan: {line}"
        await asyncio.sleep(0.1)
    # One unit requested back, 0.85 of it expected sellable before there is history.
    assert (line["onHand"], line["inTransit"], line["location"]) == (0, 0, {"code": HUB})

    # The order that shipped from Lisbon is demand there: one unit over the 28 days.
    async def lisbon_demand() -> float:
        explained = await system.backoffice.graphql.data(
            EXPLAINED, {"locationCode": "DC-LIS"}, token=system.backoffice.token
        )
        return float(explained["replenishmentPlan"][0]["explanation"]["dailyDemand"])

    while await lisbon_demand() != round(1 / 28, 3):
        assert time.monotonic() < deadline, "timed out waiting for the order's demand"
        await asyncio.sleep(0.1)
