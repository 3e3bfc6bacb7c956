"""The returns loop as its users run it: `oms up` on a fresh data dir, tokens from `oms token`,
and the contract's own documents. An order ships from a far distribution centre; its return goes
to the hub near the customer, is scanned, inspected and refunded there, and the unit is sold again
from that hub. A unit in good condition goes to repair; a parcel too light is rejected."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from launcher.ports import free_port
from tests.e2e.test_launcher import RunningOms, oms, user_env
from tests.support.contract import operation
from tests.support.graphql import GraphQLClient

pytestmark = pytest.mark.timeout(600)

# The customer is in Berlin. The distribution centre is in Lisbon, 2,300 km away; the hub is in
# Berlin. Only the distribution centre holds stock at first.
LISBON_DC = {"code": "DC-LIS", "kind": "DISTRIBUTION_CENTER", "latitude": 38.72, "longitude": -9.14}
BERLIN_HUB = {"code": "HUB-BER", "kind": "RETURN_HUB", "latitude": 52.50, "longitude": 13.45}
BERLIN = {"name": "Ada", "city": "Berlin", "latitude": 52.52, "longitude": 13.40}
TEE = {"code": "TEE", "title": "Tee", "unitCostCents": 800, "weightGrams": 200}
PRICE_CENTS = 2500
SHOP = "shop-eu"
POLL_SECONDS = 15.0


@dataclass
class Client:
    """One role's view of the gateway, with a token minted by `oms token`."""

    graphql: GraphQLClient
    token: str

    async def data(self, name: str, **variables: Any) -> Any:
        """The answer of the contract's operation `name`, which has one root field."""
        (answer,) = (await self.graphql.data(operation(name), variables, token=self.token)).values()
        return answer

    async def ok(self, name: str, **variables: Any) -> Any:
        """The mutation's payload, which must carry no userErrors."""
        payload = await self.data(name, **variables)
        assert payload["userErrors"] == [], payload
        return payload


@dataclass
class System:
    backoffice: Client
    storefront: Client
    scanner: Client

    async def hub_level(self) -> dict[str, int]:
        levels = await self.backoffice.data("StockLevels", sku="TEE")
        return next((x for x in levels if x["location"]["code"] == "HUB-BER"), {})

    async def wait_for_hub(
        self, what: str, holds: Callable[[dict[str, int]], bool]
    ) -> dict[str, int]:
        """Inventory applies the returns' events asynchronously: polls the hub's TEE level."""
        deadline = time.monotonic() + POLL_SECONDS
        while not holds(level := await self.hub_level()):
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {level}"
            await asyncio.sleep(0.1)
        return level

    async def shipped_order(self, external_id: str) -> dict[str, Any]:
        order = await self.place(external_id)
        for shipment in order["shipments"]:
            shipped = await self.backoffice.ok(
                "ShipShipment", id=shipment["id"], trackingNumber="T1"
            )
            assert shipped["shipment"]["status"] == "SHIPPED"
        return order

    async def place(self, external_id: str) -> dict[str, Any]:
        line = {"sku": "TEE", "quantity": 1, "unitPriceCents": PRICE_CENTS}
        order = {
            "channel": "web",
            "externalId": external_id,
            "email": "ada@example.com",
            "shipTo": BERLIN,
            "lines": [line],
        }
        return dict((await self.storefront.ok("PlaceOrder", input=order))["order"])

    async def request_return(self, order_id: str) -> dict[str, Any]:
        line = {"sku": "TEE", "quantity": 1, "reason": "SIZE_TOO_SMALL"}
        requested = await self.storefront.ok(
            "RequestReturn", input={"orderId": order_id, "lines": [line]}
        )
        return dict(requested["return"])

    async def received(self, order_id: str) -> dict[str, Any]:
        requested = await self.request_return(order_id)
        scanned = await self.scanner.ok("ReceiveReturn", id=requested["id"], locationCode="HUB-BER")
        return dict(scanned["return"])

    async def inspect(self, return_id: str, grade: str, grams: int) -> dict[str, Any]:
        inspection = {
            "returnId": return_id,
            "lines": [{"sku": "TEE", "grade": grade}],
            "measuredWeightGrams": grams,
        }
        return dict((await self.scanner.ok("InspectReturn", input=inspection))["return"])


def mint(data_dir: Path, *args: str) -> str:
    result = subprocess.run(
        oms("token", "--data-dir", str(data_dir), *args),
        env=user_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()[-1]


async def seeded(graphql: GraphQLClient, data_dir: Path) -> System:
    """The roles' clients of the system in `data_dir`, with the Lisbon DC holding 10 TEEs and
    the Berlin hub, set up through the back-office documents."""
    system = System(
        backoffice=Client(graphql, mint(data_dir, "--role", "backoffice")),
        storefront=Client(
            graphql, mint(data_dir, "--role", "storefront", "--subject", SHOP, "--channel", "web")
        ),
        scanner=Client(graphql, mint(data_dir, "--role", "scanner", "--location", "HUB-BER")),
    )
    for location in (LISBON_DC, BERLIN_HUB):
        await system.backoffice.ok("UpsertLocation", input=location | {"name": location["code"]})
    await system.backoffice.ok("UpsertSku", input=TEE)
    stock = {"sku": "TEE", "locationCode": "DC-LIS", "delta": 10, "reason": "count"}
    await system.backoffice.ok("AdjustStock", input=stock)
    return system


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    """`oms up` on a fresh data dir and a free port, seeded through the back-office documents."""
    data_dir = tmp_path / "data"
    running = RunningOms(data_dir, free_port())
    try:
        running.wait_ready()
        async with GraphQLClient(running.base_url, timeout=30) as graphql:
            yield await seeded(graphql, data_dir)
        assert running.terminate() == 0, running.output
    finally:
        running.kill_all()


async def test_a_return_is_refunded_at_the_hub_and_sold_again_from_there(system: System) -> None:
    order = await system.shipped_order("w-1")
    assert [s["location"]["code"] for s in order["shipments"]] == ["DC-LIS"]

    requested = await system.request_return(order["id"])
    assert requested["status"] == "REQUESTED"
    assert requested["destination"] == {"code": "HUB-BER", "kind": "RETURN_HUB"}
    # Dropped off at the hub rather than shipped back to Lisbon: a fraction of the cost.
    assert 0 < requested["estimatedCostCents"] * 5 <= requested["centralizedCostCents"]

    scanned = await system.scanner.ok("ReceiveReturn", id=requested["id"], locationCode="HUB-BER")
    assert scanned["return"]["status"] == "RECEIVED"
    queue = await system.scanner.data("HubQueue", locationCode="HUB-BER")
    assert [r["id"] for r in queue] == [requested["id"]]
    await system.wait_for_hub(
        "a unit pending inspection", lambda x: x.get("pendingInspection") == 1
    )

    inspected = await system.inspect(requested["id"], "NEW", grams=195)
    assert inspected["status"] in ("INSPECTED", "CLOSED")
    assert [(x["grade"], x["disposition"]) for x in inspected["lines"]] == [("NEW", "RESTOCK")]
    assert inspected["refund"] == {"status": "ISSUED", "amountCents": PRICE_CENTS}
    assert inspected["fraudFlags"] == []
    assert await system.scanner.data("HubQueue", locationCode="HUB-BER") == []

    # Inspected once, refunded once: a second inspection is refused and the refund is the same.
    again = await system.scanner.data(
        "InspectReturn",
        input={"returnId": requested["id"], "lines": [{"sku": "TEE", "grade": "NEW"}]},
    )
    assert [(e["code"], e["field"]) for e in again["userErrors"]] == [
        ("INVALID_STATE", "input.returnId")
    ]
    later = await system.storefront.data("Return", id=requested["id"])
    assert later["refund"] == {"status": "ISSUED", "amountCents": PRICE_CENTS}

    hub = await system.wait_for_hub(
        "the unit sellable at the hub", lambda x: x.get("available") == 1
    )
    assert (hub["onHand"], hub["pendingInspection"], hub["inRepair"]) == (1, 0, 0)

    # The next customer near the hub gets the returned unit from the hub, not from Lisbon.
    next_order = await system.place("w-2")
    assert [s["location"]["code"] for s in next_order["shipments"]] == ["HUB-BER"]


async def test_a_good_unit_goes_to_repair_and_a_light_parcel_is_rejected(system: System) -> None:
    good = await system.received((await system.shipped_order("w-good"))["id"])
    light = await system.received((await system.shipped_order("w-light"))["id"])
    await system.wait_for_hub(
        "two units pending inspection", lambda x: x.get("pendingInspection") == 2
    )

    refurbished = await system.inspect(good["id"], "GOOD", grams=200)
    assert refurbished["status"] == "INSPECTED"
    assert [(x["grade"], x["disposition"]) for x in refurbished["lines"]] == [("GOOD", "REFURBISH")]
    assert refurbished["refund"] == {"status": "ISSUED", "amountCents": PRICE_CENTS}

    # A tee weighs 200 g; this parcel 20 g.
    rejected = await system.inspect(light["id"], "NEW", grams=20)
    assert rejected["status"] == "REJECTED"
    assert rejected["fraudFlags"] == ["WEIGHT_MISMATCH"]
    assert rejected["refund"] == {"status": "WITHHELD", "amountCents": PRICE_CENTS}

    # The REFURBISH work order holds the good unit at the hub; the rejected one is not stock.
    hub = await system.wait_for_hub(
        "one unit in repair and none pending",
        lambda x: x.get("inRepair") == 1 and x.get("pendingInspection") == 0,
    )
    assert (hub["onHand"], hub["available"]) == (0, 0)
