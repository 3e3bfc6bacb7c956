"""What each caller may see, through the gateway over the real services, on SQLite and
PostgreSQL: a storefront places and reads orders of the channels its token names only, and sees
neither the routing cost model, nor fraud signals and inspectors' notes, nor why stock moved in
the stock feed; the back office sees all of it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from services.kernel.caller import Role
from tests.integration.test_gateway_orders import order_input
from tests.support.contract import operation
from tests.support.gateway import SIGNING_KEY
from tests.support.graphql import GraphQLClient, Requester
from tests.support.stock import ADJUST_STOCK, levels, seed

LOCATIONS = {
    "DC-LIS": ("DISTRIBUTION_CENTER", 38.72, -9.14),
    "HUB-BER": ("RETURN_HUB", 52.50, 13.45),
}
ORDER_DETAIL = """
query Order($id: ID!) {
  order(id: $id) { id channel routing { totalCents explanation parcels { totalCents } } }
}"""
RETURN_DETAIL = """
query Return($id: ID!) {
  return(id: $id) { id status fraudFlags notes measuredWeightGrams refund { status } }
}"""
FEED = """
subscription {
  inventoryChanged(skus: ["TEE"]) {
    sku location { code } available onHand reserved inTransit pendingInspection inRepair reason
  }
}"""
PROTOCOL = Subprotocol("graphql-transport-ws")
WEB_SHOP: Requester = {"role": Role.STOREFRONT, "subject": "shop", "channels": ("web",)}
MARKETPLACE: Requester = {"role": Role.STOREFRONT, "subject": "shop", "channels": ("amazon-de",)}


@pytest.fixture
async def gateway(loop_gateway: str) -> AsyncIterator[GraphQLClient]:
    async with GraphQLClient(
        loop_gateway, SIGNING_KEY, scanner_location="HUB-BER", timeout=30
    ) as gw:
        await seed(gw, LOCATIONS, ["TEE"], {("TEE", "DC-LIS"): 50})
        yield gw


async def place(
    gateway: GraphQLClient, external_id: str, channel: str = "web", **who: Any
) -> dict[str, Any]:
    variables = order_input(external_id, {"TEE": 1})
    variables["input"]["channel"] = channel
    placed: dict[str, Any] = (await gateway.data(operation("PlaceOrder"), variables, **who))[
        "placeOrder"
    ]
    return placed


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def test_a_storefront_places_and_reads_orders_of_its_own_channels_only(
    gateway: GraphQLClient,
) -> None:
    # A web shop cannot take the marketplace's order ids: the placement is refused, holds
    # nothing, and the marketplace's own order under that id is placed as new later.
    taken = await place(gateway, "AMZ-302-1", channel="amazon-de", **WEB_SHOP)
    assert (taken["order"], codes(taken)) == (None, [("FORBIDDEN", "input.channel")])
    assert (await levels(gateway, "TEE"))["DC-LIS"]["reserved"] == 0
    marketplace_order = await place(gateway, "AMZ-302-1", channel="amazon-de", **MARKETPLACE)
    assert marketplace_order["userErrors"] == []
    assert marketplace_order["order"]["channel"] == "amazon-de"

    mine = (await place(gateway, "w-1", **WEB_SHOP))["order"]
    by_id = {"id": mine["id"]}
    # The same subject under a token for other channels sees nothing of it, as if it did not
    # exist; nor does it in the list.
    assert (await gateway.data(operation("Order"), by_id, **MARKETPLACE)) == {"order": None}
    listed = await gateway.data(operation("Orders"), {"first": 10}, **MARKETPLACE)
    assert [e["node"]["id"] for e in listed["orders"]["edges"]] == [
        marketplace_order["order"]["id"]
    ]
    cancel = (await gateway.data(operation("CancelOrder"), by_id, **MARKETPLACE))["cancelOrder"]
    assert codes(cancel) == [("NOT_FOUND", "id")]
    assert (await gateway.data(operation("Order"), by_id, **WEB_SHOP))["order"]["id"] == mine["id"]


async def test_a_storefront_sees_no_routing_cost_model(gateway: GraphQLClient) -> None:
    order_id = (await place(gateway, "w-1", **WEB_SHOP))["order"]["id"]
    seen = await gateway.data(ORDER_DETAIL, {"id": order_id}, **WEB_SHOP)
    assert seen["order"]["routing"] is None
    complete = await gateway.data(ORDER_DETAIL, {"id": order_id}, Role.BACKOFFICE)
    routing = complete["order"]["routing"]
    assert routing["totalCents"] > 0 and "DC-LIS" in routing["explanation"]


async def test_a_storefront_sees_no_fraud_signals_or_inspectors_notes(
    gateway: GraphQLClient,
) -> None:
    placed = (await place(gateway, "w-1", **WEB_SHOP))["order"]
    for shipment in placed["shipments"]:
        await gateway.data(operation("ShipShipment"), {"id": shipment["id"]})
    request = {
        "input": {
            "orderId": placed["id"],
            "lines": [{"sku": "TEE", "quantity": 1, "reason": "DEFECTIVE"}],
        }
    }
    requested = (await gateway.data(operation("RequestReturn"), request, **WEB_SHOP))[
        "requestReturn"
    ]
    return_id = requested["return"]["id"]
    at = requested["return"]["destination"]["code"]
    scanner: Requester = {"role": Role.SCANNER, "location": at}
    await gateway.data(operation("ReceiveReturn"), {"id": return_id, "locationCode": at}, **scanner)
    # A brick in the box: far lighter than a tee, and the inspector says so.
    inspection = {
        "returnId": return_id,
        "lines": [{"sku": "TEE", "grade": "NEW"}],
        "measuredWeightGrams": 5,
        "notes": "a brick wrapped in a tee; customer flagged before",
    }
    inspected = await gateway.data(operation("InspectReturn"), {"input": inspection}, **scanner)
    assert inspected["inspectReturn"]["return"]["fraudFlags"] == ["WEIGHT_MISMATCH"]

    complete = (await gateway.data(RETURN_DETAIL, {"id": return_id}, Role.BACKOFFICE))["return"]
    assert complete["fraudFlags"] == ["WEIGHT_MISMATCH"]
    assert complete["notes"].startswith("a brick") and complete["measuredWeightGrams"] == 5
    seen = (await gateway.data(RETURN_DETAIL, {"id": return_id}, **WEB_SHOP))["return"]
    assert seen == {
        "id": return_id,
        "status": "REJECTED",
        "fraudFlags": [],
        "notes": None,
        "measuredWeightGrams": None,
        "refund": {"status": "WITHHELD"},
    }


class Feed:
    """One graphql-transport-ws connection with one subscription to the TEE's changes."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.changes: list[dict[str, Any]] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def of(cls, gateway: GraphQLClient, token: str) -> AsyncIterator[Feed]:
        async with connect(gateway.ws_url, subprotocols=[PROTOCOL]) as ws:
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            await ws.send(json.dumps(init))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": FEED}}))
            yield cls(ws)

    async def until(self, done: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not done():
                message = json.loads(await self.ws.recv())
                assert message["type"] == "next" and "errors" not in message["payload"], message
                self.changes.append(message["payload"]["data"]["inventoryChanged"])

    def has_changes(self) -> bool:
        return bool(self.changes)

    def saw_available(self, units: int) -> Callable[[], bool]:
        return lambda: any(change["available"] == units for change in self.changes)


async def test_a_storefronts_stock_feed_carries_no_reasons_or_other_states(
    gateway: GraphQLClient,
) -> None:
    def adjust(delta: int) -> dict[str, Any]:
        return {
            "input": {"sku": "TEE", "locationCode": "DC-LIS", "delta": delta, "reason": "count"}
        }

    async with (
        Feed.of(gateway, gateway.token(Role.STOREFRONT, subject="shop-a")) as storefront,
        Feed.of(gateway, gateway.token(Role.BACKOFFICE)) as backoffice,
    ):
        feeds = (storefront, backoffice)
        # A subscription starts listening some time after it is sent: change the TEE until
        # both feeds have seen a change; then one more, marked by its units, ends the warm-up.
        for _attempt in range(50):
            if all(feed.changes for feed in feeds):
                break
            await gateway.data(ADJUST_STOCK, adjust(1))
            for feed in feeds:
                with contextlib.suppress(TimeoutError):
                    await feed.until(feed.has_changes, timeout=0.2)
        else:
            pytest.fail("the subscriptions never started")
        marker = (await gateway.data(ADJUST_STOCK, adjust(1000)))["adjustStock"]["stockLevel"]
        for feed in feeds:
            await feed.until(feed.saw_available(marker["available"]), 5)
            feed.changes = []
        # Another storefront's order reserves a unit: its id is in the movement's reason.
        other = (await place(gateway, "w-other", role=Role.STOREFRONT, subject="shop-b"))["order"]
        for feed in feeds:
            await feed.until(feed.has_changes, 5)
    [held] = backoffice.changes
    assert other["id"] in held["reason"]
    assert (held["available"], held["reserved"]) == (marker["available"] - 1, 1)
    [seen] = storefront.changes
    hidden = ("onHand", "reserved", "inTransit", "pendingInspection", "inRepair", "reason")
    assert seen == {
        "sku": "TEE",
        "location": {"code": "DC-LIS"},
        "available": marker["available"] - 1,
        **dict.fromkeys(hidden),
    }
