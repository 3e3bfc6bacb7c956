"""Made to order as its users run it: `oms up` on a fresh data dir, tokens from `oms token`, the
contract's documents, and `madeFromSku` (beyond the contract) on upsertSku. A made-to-order
hoodie: ordered, embroidered, shipped; cancelled before, with nothing left reserved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from launcher.ports import free_port
from tests.e2e.test_launcher import RunningOms
from tests.e2e.test_returns_loop import BERLIN, BERLIN_HUB, LISBON_DC, Client, mint
from tests.e2e.test_work_orders import until
from tests.support.graphql import GraphQLClient

pytestmark = pytest.mark.timeout(600)

HUB = "HUB-BER"
BLANK = {"code": "HOODIE", "title": "Plain hoodie", "unitCostCents": 1500, "weightGrams": 600}
MADE = {
    "code": "HOODIE-EMB",
    "title": "Embroidered hoodie",
    "unitCostCents": 2500,
    "weightGrams": 600,
    "madeFromSku": "HOODIE",
}


class Bench:
    def __init__(self, backoffice: Client, storefront: Client, scanner: Client) -> None:
        self.backoffice, self.storefront, self.scanner = backoffice, storefront, scanner

    async def held(self, sku: str) -> tuple[int, int, int]:
        """(on hand, reserved, available) of `sku` at the hub."""
        levels = await self.backoffice.data("StockLevels", sku=sku)
        level: dict[str, int] = next((x for x in levels if x["location"]["code"] == HUB), {})
        return level.get("onHand", 0), level.get("reserved", 0), level.get("available", 0)

    async def order_hoodie(self, external_id: str) -> dict[str, Any]:
        line = {"sku": "HOODIE-EMB", "quantity": 1, "unitPriceCents": 6000}
        placed = {
            "channel": "web",
            "externalId": external_id,
            "email": "ada@example.com",
            "shipTo": BERLIN,
            "lines": [line],
        }
        return dict((await self.storefront.ok("PlaceOrder", input=placed))["order"])

    async def opened(self) -> dict[str, Any]:
        """The one open VALUE_ADD work order at the hub, once workorders opened it."""

        async def listed() -> list[dict[str, Any]]:
            return list(await self.scanner.data("WorkOrders", status="OPEN", locationCode=HUB))

        [work_order] = await until("the VALUE_ADD work order", listed)
        return dict(work_order)

    async def complete(self, work_order_id: str, operation: str) -> dict[str, Any]:
        done = {"workOrderId": work_order_id, "operation": operation, "laborMinutes": 10}
        return dict(await self.scanner.data("CompleteWorkOrderOperation", input=done))

    async def ship(self, shipment_id: str) -> dict[str, Any]:
        return dict(await self.backoffice.data("ShipShipment", id=shipment_id, trackingNumber="T1"))


def codes(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def test_a_made_to_order_hoodie_is_embroidered_and_shipped_or_cancelled_before(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    running = RunningOms(data_dir, free_port())
    try:
        running.wait_ready()
        async with GraphQLClient(running.base_url, timeout=30) as graphql:
            bench = Bench(
                Client(graphql, mint(data_dir, "--role", "backoffice")),
                Client(
                    graphql,
                    mint(data_dir, "--role", "storefront", "--subject", "shop", "--channel", "web"),
                ),
                Client(graphql, mint(data_dir, "--role", "scanner", "--location", HUB)),
            )
            for location in (LISBON_DC, BERLIN_HUB):
                await bench.backoffice.ok(
                    "UpsertLocation", input=location | {"name": location["code"]}
                )
            for sku in (BLANK, MADE):
                await bench.backoffice.ok("UpsertSku", input=sku)
            adjustment = {"sku": "HOODIE", "locationCode": HUB, "delta": 2, "reason": "count"}
            await bench.backoffice.ok("AdjustStock", input=adjustment)

            await ordered_embroidered_and_shipped(bench)
            await cancelled_before_completion(bench)
        assert running.terminate() == 0, running.output
    finally:
        running.kill_all()


async def ordered_embroidered_and_shipped(bench: Bench) -> None:
    order = await bench.order_hoodie("mto-1")
    [shipment] = order["shipments"]
    assert (shipment["location"]["code"], shipment["lines"]) == (
        HUB,
        [{"sku": "HOODIE-EMB", "quantity": 1}],
    )
    work_order = await bench.opened()
    assert (work_order["kind"], work_order["sku"]) == ("VALUE_ADD", "HOODIE-EMB")
    assert codes(await bench.ship(shipment["id"])) == [("INVALID_STATE", "id")]

    assert (await bench.complete(work_order["id"], "EMBROIDER"))["userErrors"] == []
    checked = await bench.complete(work_order["id"], "QC")
    assert checked["userErrors"] == [] and checked["workOrder"]["status"] == "COMPLETED"

    async def shipped() -> bool:
        answer = await bench.ship(shipment["id"])
        return bool(answer["userErrors"] == [] and answer["shipment"]["status"] == "SHIPPED")

    await until("the embroidered hoodie shipped", shipped)
    assert await bench.held("HOODIE") == (1, 0, 1)
    assert await bench.held("HOODIE-EMB") == (0, 0, 0)


async def cancelled_before_completion(bench: Bench) -> None:
    order = await bench.order_hoodie("mto-2")
    assert await bench.held("HOODIE") == (1, 1, 0)
    work_order = await bench.opened()
    assert (await bench.complete(work_order["id"], "EMBROIDER"))["userErrors"] == []

    cancelled = await bench.storefront.ok("CancelOrder", id=order["id"])
    assert cancelled["order"]["status"] == "CANCELLED"

    async def work_order_cancelled() -> bool:
        listed = await bench.backoffice.data("WorkOrders", status="CANCELLED", locationCode=HUB)
        return [w["id"] for w in listed] == [work_order["id"]]

    await until("the work order cancelled with its order", work_order_cancelled)
    assert await bench.held("HOODIE") == (1, 0, 1)
    assert await bench.held("HOODIE-EMB") == (0, 0, 0)
