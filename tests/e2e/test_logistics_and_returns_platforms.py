"""Issue 12 through `oms up`, as its operators run it: one system on a fresh data dir, tokens from
`oms token`, a fake ShipBob and a fake Loop in their published shapes. A third-party warehouse
connected to ShipBob gets its order once although ShipBob fails first, and ShipBob's signed
order.shipped webhook ships it; a ShipBob pull of 0 where we hold 500 takes them off sale at once,
and accepting the difference writes it off; a return created in Loop is routed to the hub near
the drop-off point, scanned, inspected and refunded through Loop once across an outage; a parcel
too light is reported to Loop with its flags and not refunded; one of an unknown order is parked
and listed for the back office."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from launcher.ports import free_port
from tests.e2e.test_launcher import RunningOms
from tests.e2e.test_returns_loop import Client, mint
from tests.integration.conftest import eventually
from tests.integration.test_channels_shipbob import (
    BERLIN_FREE as LOUISVILLE,
)
from tests.integration.test_channels_shipbob import (
    CONNECT as CONNECT_NODE,
)
from tests.integration.test_channels_shipbob import (
    DISCREPANCIES,
    ORDER,
    PULL,
    shipped_body,
)
from tests.integration.test_returns_platforms import CONNECT as CONNECT_PLATFORM
from tests.integration.test_returns_platforms import RETURN, loop_payload, told
from tests.support.graphql import GraphQLClient
from tests.support.returns_platforms import SECRET, TOKEN, FakeReturnsPlatform, signed_headers
from tests.support.shipbob import CHANNEL_ID, FakeShipBob, webhook_headers
from tests.support.shipbob import SECRET as SHIPBOB_SECRET
from tests.support.shipbob import TOKEN as SHIPBOB_TOKEN

pytestmark = pytest.mark.timeout(600)

NODE, CENTRE, GADGET = "3PL-LOU", "8", "IPOD2008GREEN"
LOCATIONS = (
    {"code": NODE, "kind": "THIRD_PARTY_WAREHOUSE", "latitude": 38.25, "longitude": -85.76},
    {"code": "DC-LIS", "kind": "DISTRIBUTION_CENTER", "latitude": 38.72, "longitude": -9.14},
    {"code": "HUB-BER", "kind": "RETURN_HUB", "latitude": 52.50, "longitude": 13.45},
    {"code": "HUB-MUC", "kind": "RETURN_HUB", "latitude": 48.14, "longitude": 11.58},
)
SKUS = (
    {"code": GADGET, "title": "iPod", "unitCostCents": 800, "weightGrams": 150},
    {"code": "TEE", "title": "Tee", "unitCostCents": 800, "weightGrams": 200},
)
BERLIN = {"name": "Ada", "city": "Berlin", "latitude": 52.52, "longitude": 13.40}
# The Loop payload's drop-off point is in Munich; its orders ship to Berlin.
DROP_OFF_HUB = "HUB-MUC"
# Workers quick and retries short, so outages of a few seconds are ridden out in seconds.
FAST = {
    "OMS_REFUND_RETRY_BASE_SECONDS": "0.1",
    "OMS_REFUND_RETRY_MAX_SECONDS": "0.5",
    "OMS_REFUND_WORKER_INTERVAL_SECONDS": "0.1",
    "OMS_REFUND_LEASE_SECONDS": "5",
}


@dataclass
class System:
    graphql: GraphQLClient
    backoffice: Client
    storefront: Client
    scanner: Client
    shipbob: FakeShipBob
    loop: FakeReturnsPlatform

    async def outside_contract(self, document: str, **variables: Any) -> Any:
        """The one root field's answer to a back-office document outside the contract."""
        token = self.backoffice.token
        (answer,) = (await self.graphql.data(document, variables, token=token)).values()
        return answer

    async def place(self, external_id: str, sku: str, units: int, ship_to: Any) -> dict[str, Any]:
        order = {
            "channel": "web",
            "externalId": external_id,
            "email": "ada@example.com",
            "shipTo": ship_to,
            "lines": [{"sku": sku, "quantity": units, "unitPriceCents": 2500}],
        }
        return dict((await self.storefront.ok("PlaceOrder", input=order))["order"])

    async def available(self, sku: str) -> int:
        answer = await self.storefront.data("Availability", skus=[sku], channel="web")
        return int(answer[0]["available"])

    async def the_return(self, return_id: str) -> dict[str, Any]:
        return dict(await self.outside_contract(RETURN, id=return_id))

    async def loop_return(self, platform_return_id: str, external_id: str) -> str:
        """An order of two tees shipped to Berlin, then returned through Loop: our return's id."""
        order = await self.place(external_id, "TEE", 2, BERLIN)
        for shipment in order["shipments"]:
            await self.backoffice.ok("ShipShipment", id=shipment["id"], trackingNumber="T1")
        body = loop_payload(platform_return_id, external_id)
        answer = await self.graphql.http.post(
            "/webhooks/loop", content=body, headers=signed_headers("LOOP", body)
        )
        assert answer.status_code == 200 and answer.text.startswith("CREATED"), answer.text
        return answer.text.split()[1]

    async def scanned_and_inspected(self, return_id: str, grams: int) -> dict[str, Any]:
        scanned = await self.scanner.ok("ReceiveReturn", id=return_id, locationCode=DROP_OFF_HUB)
        assert scanned["return"]["status"] == "RECEIVED"
        inspection = {
            "returnId": return_id,
            "lines": [{"sku": "TEE", "grade": "NEW"}] * 2,
            "measuredWeightGrams": grams,
        }
        return dict((await self.scanner.ok("InspectReturn", input=inspection))["return"])


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    shipbob, loop = FakeShipBob(free_port()), FakeReturnsPlatform("LOOP", free_port())
    await shipbob.start()
    await loop.start()
    data_dir = tmp_path / "data"
    running = RunningOms(data_dir, free_port(), FAST)
    try:
        await asyncio.to_thread(running.wait_ready)
        async with GraphQLClient(running.base_url, timeout=30) as graphql:
            shop = ("--role", "storefront", "--subject", "shop-eu", "--channel", "web")
            system = System(
                graphql,
                Client(graphql, mint(data_dir, "--role", "backoffice")),
                Client(graphql, mint(data_dir, *shop)),
                Client(graphql, mint(data_dir, "--role", "scanner", "--location", DROP_OFF_HUB)),
                shipbob,
                loop,
            )
            await seed(system)
            yield system
        assert await asyncio.to_thread(running.terminate) == 0, running.output
    finally:
        running.kill_all()
        await shipbob.stop()
        await loop.stop()


async def seed(system: System) -> None:
    """Places and SKUs; 502 gadgets at the 3PL only (so orders for them go there), as ShipBob
    counts them too; 50 tees in Lisbon only; the node and Loop connected."""
    for location in LOCATIONS:
        await system.backoffice.ok("UpsertLocation", input=location | {"name": location["code"]})
    for sku in SKUS:
        await system.backoffice.ok("UpsertSku", input=sku)
    for gadget, code, units in ((GADGET, NODE, 502), ("TEE", "DC-LIS", 50)):
        stock = {"sku": gadget, "locationCode": code, "delta": units, "reason": "count"}
        await system.backoffice.ok("AdjustStock", input=stock)
    ShipBobCounts(system.shipbob).say(502)
    node = {
        "locationCode": NODE,
        "shipbobChannelId": CHANNEL_ID,
        "fulfillmentCenterId": CENTRE,
        "apiToken": SHIPBOB_TOKEN,
        "webhookSecret": SHIPBOB_SECRET,
        "apiBaseUrl": system.shipbob.base_url,
    }
    connected = await system.outside_contract(CONNECT_NODE, input=node)
    assert connected["userErrors"] == [], connected
    platform = {
        "code": "loop-eu",
        "platform": "LOOP",
        "channel": "web",
        "webhookSecret": SECRET,
        "apiBaseUrl": system.loop.url,
        "accessToken": TOKEN,
    }
    connected = await system.outside_contract(CONNECT_PLATFORM, input=platform)
    assert connected["userErrors"] == [], connected


@dataclass
class ShipBobCounts:
    shipbob: FakeShipBob

    def say(self, units: int) -> None:
        """ShipBob's fulfillment centre now counts `units` gadgets."""
        for item in self.shipbob.levels["items"]:
            for place in item["locations"]:
                if item["sku"] == GADGET and str(place["location_id"]) == CENTRE:
                    place["on_hand_quantity"] = place["fulfillable_quantity"] = units


async def test_shipbob_nodes_stock_drift_and_loop_returns_through_oms_up(system: System) -> None:
    await an_order_at_the_node_is_created_once_and_shipped_by_webhook(system)
    await a_pull_of_zero_takes_500_off_sale_until_accepted(system)
    await a_loop_return_is_refunded_through_loop_once_across_an_outage(system)
    await a_light_parcel_is_flagged_on_loop_and_not_refunded(system)
    await a_return_of_an_unknown_order_is_parked_for_the_back_office(system)


async def an_order_at_the_node_is_created_once_and_shipped_by_webhook(system: System) -> None:
    system.shipbob.fail_next = 1  # ShipBob answers 500 to the first attempt
    order = await system.place("sb-1", GADGET, 2, LOUISVILLE)
    (shipment,) = order["shipments"]
    assert shipment["location"]["code"] == NODE

    async def created() -> bool:
        found = await system.outside_contract(ORDER, id=order["id"])
        history = found["shipments"][0]["thirdPartyHistory"]
        return [x["status"] for x in history] == ["CREATED"]

    await eventually(created, timeout=30, what="the order created at ShipBob")
    assert list(system.shipbob.orders) == [shipment["id"]]
    assert system.shipbob.answers == [500, 201]

    body = shipped_body(shipment["id"])
    for _ in range(2):  # delivered twice, shipped once
        answer = await system.graphql.http.post(
            "/webhooks/shipbob", content=body, headers=webhook_headers(body, "msg-1")
        )
        assert answer.status_code == 200, answer.text
    shipped = await system.outside_contract(ORDER, id=order["id"])
    assert shipped["status"] == "SHIPPED"
    (after,) = shipped["shipments"]
    assert (after["trackingNumber"], after["carrier"]) == ("9400111899223197428490", "USPS")
    assert [x["status"] for x in after["thirdPartyHistory"]] == ["CREATED", "SHIPPED"]
    assert system.shipbob.answers == [500, 201]


async def a_pull_of_zero_takes_500_off_sale_until_accepted(system: System) -> None:
    """The face cream of the issue: our books say 500 at the node, ShipBob says 0."""
    assert await system.available(GADGET) == 500
    ShipBobCounts(system.shipbob).say(0)

    pulled = await system.outside_contract(PULL, code=NODE)
    assert pulled["userErrors"] == [], pulled
    # Off sale when the pull answers, not a poll later.
    assert await system.available(GADGET) == 0
    (drift,) = (await system.outside_contract(DISCREPANCIES, code=NODE))["items"]
    assert (drift["sku"], drift["ours"], drift["theirs"], drift["difference"]) == (
        GADGET,
        500,
        0,
        -500,
    )
    assert (drift["valueCents"], drift["source"], drift["holds"]) == (-500 * 800, "SHIPBOB", True)

    (found,) = (await system.outside_contract(OPEN_IDS, code=NODE))["items"]
    accepted = await system.outside_contract(RESOLVE, id=found["id"])
    assert accepted["userErrors"] == [], accepted
    assert accepted["discrepancy"]["status"] == "ACCEPTED"
    levels = await system.backoffice.data("StockLevels", sku=GADGET)
    (level,) = [x for x in levels if x["location"]["code"] == NODE]
    assert (level["onHand"], level["available"]) == (0, 0)
    assert (await system.outside_contract(OPEN_IDS, code=NODE))["items"] == []


OPEN_IDS = """
query Open($code: String!) { stockDiscrepancies(locationCode: $code, status: OPEN) { items { id } } }
"""
RESOLVE = """
mutation Accept($id: ID!) {
  resolveStockDiscrepancy(id: $id, decision: ACCEPT) {
    discrepancy { status }
    userErrors { field message code }
  }
}"""


async def a_loop_return_is_refunded_through_loop_once_across_an_outage(system: System) -> None:
    return_id = await system.loop_return("1673", "loop-order-1")
    found = await system.the_return(return_id)
    assert found["destination"]["code"] == DROP_OFF_HUB  # not Berlin, where the order went
    assert (found["platformReturnId"], found["trackingNumber"]) == ("1673", "JJD000390007726514")

    # Loop answers 500 from the scan on: the updates and the refund wait until it is back.
    system.loop.down()
    inspected = await system.scanned_and_inspected(return_id, grams=400)
    assert inspected["status"] in ("INSPECTED", "CLOSED")

    async def outage_met() -> bool:
        return any(c.status == 500 and "/process" in c.path for c in system.loop.calls)

    await eventually(outage_met, timeout=60, what="the refund tried during the outage")
    system.loop.up()

    async def refunded_and_told() -> bool:
        found = await system.the_return(return_id)
        return found["refund"]["status"] == "ISSUED" and all(
            u["status"] == "SENT" for u in found["platformUpdates"] if u["direction"] == "OUT"
        )

    await eventually(refunded_and_told, timeout=60, what="the refund through Loop, all told")
    await asyncio.sleep(0.5)  # time for a wrongful second refund to show
    loop = system.loop
    assert loop.refunded == ["1673"] and len(loop.taken("/process")) == 1
    assert any(c.status == 500 for c in loop.calls)  # the outage was met
    notes = [c.body["note"] for c in loop.taken("/warehouse/return/1673/note")]
    assert notes == ["OMS: RECEIVED", "OMS: INSPECTED"]  # in the order they happened
    assert told(await system.the_return(return_id)) == [
        ("IN", "RETURN_CREATED", "ACCEPTED"),
        ("OUT", "RECEIVED", "SENT"),
        ("OUT", "INSPECTED", "SENT"),
        ("OUT", "REFUNDED", "SENT"),
    ]


async def a_light_parcel_is_flagged_on_loop_and_not_refunded(system: System) -> None:
    return_id = await system.loop_return("1674", "loop-order-2")
    # Two tees weigh 400 g; this parcel 40 g.
    inspected = await system.scanned_and_inspected(return_id, grams=40)
    assert (inspected["status"], inspected["fraudFlags"]) == ("REJECTED", ["WEIGHT_MISMATCH"])
    loop = system.loop

    async def reported() -> bool:
        return len(loop.taken("/warehouse/return/1674/note")) == 2

    await eventually(reported, timeout=30, what="the rejection reported to Loop")
    notes = [c.body["note"] for c in loop.taken("/warehouse/return/1674/note")]
    assert notes == ["OMS: RECEIVED", "OMS: REJECTED (WEIGHT_MISMATCH)"]
    assert len(loop.taken("/warehouse/return/1674/flag")) == 1
    assert loop.refunded == ["1673"]  # the first return's only
    found = await system.the_return(return_id)
    assert found["refund"]["status"] == "WITHHELD"
    assert ("OUT", "REJECTED", "SENT") in told(found)
    assert json.dumps(found).count("REFUNDED") == 0


PARKED = """
query { parkedPlatformReturns(first: 10) { platform platformReturnId problemCode problem } }
"""


async def a_return_of_an_unknown_order_is_parked_for_the_back_office(system: System) -> None:
    body = loop_payload("1675", "no-such-order")
    answer = await system.graphql.http.post(
        "/webhooks/loop", content=body, headers=signed_headers("LOOP", body)
    )
    assert answer.status_code == 200 and answer.text.startswith("PARKED"), answer.text
    (parked,) = await system.outside_contract(PARKED)
    assert (parked["platform"], parked["platformReturnId"], parked["problemCode"]) == (
        "LOOP",
        "1675",
        "NOT_FOUND",
    )
    assert "no-such-order" in parked["problem"]
