"""A ShipBob node through the real inventory, orders and channels services (SQLite and PostgreSQL,
NATS, gRPC) and the gateway: a shipment routed to the third-party warehouse is created at ShipBob
once across failures and a lost answer, its order.shipped webhook ships it with the tracking
number and carrier on the order, a bad signature changes nothing, and the inventory pull reads
the node's fulfillment centre. ShipBob is the one fake (tests/support/shipbob.py), answering in
its published shapes (tests/fixtures/shipbob/)."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from launcher.embedded_nats import EmbeddedNats
from launcher.ports import free_port
from services.channels import node_store
from services.channels.domain.shipbob import NewNode
from services.channels.shipbob_api import ShipBobApi
from services.channels.store import TABLES, SqlChannelsStore
from services.channels.third_party import ThirdPartyNodes
from services.kernel.db import Database
from services.kernel.unit_of_work import SqlUnitOfWork
from tests.integration.conftest import InventoryUnderTest, OrdersUnderTest, eventually
from tests.integration.test_channels_push import system
from tests.support.contract import operation
from tests.support.databases import create_test_tables, database_url
from tests.support.graphql import GraphQLClient
from tests.support.shipbob import CHANNEL_ID, SECRET, TOKEN, FakeShipBob, published
from tests.support.shipbob import webhook_headers as signed
from tests.support.stock import seed

NODE = "3PL-LOU"
CENTRE = "8"
SKU = "IPOD2008GREEN"
# Only the 3PL holds stock: every order is routed there.
PLACES = {
    NODE: ("THIRD_PARTY_WAREHOUSE", 38.25, -85.76),
    "DC-SEA": ("DISTRIBUTION_CENTER", 47.6, -122.3),
}
CONNECT = """
mutation Connect($input: ConnectFulfillmentNodeInput!) {
  connectFulfillmentNode(input: $input) {
    node { locationCode hasApiToken hasWebhookSecret fulfillmentCenterId }
    userErrors { field message code }
  }
}"""
NODES = """
query { fulfillmentNodes {
  locationCode pendingOrders failedOrders lastPulledAt lastPull { sku onHand }
  failures { shipmentId reason }
} }"""
PULL = """
mutation Pull($code: String!) {
  pullFulfillmentNodeInventory(locationCode: $code) {
    node { lastPulledAt lastPull { sku onHand } }
    userErrors { field message code }
  }
}"""
ORDER = """
query Order($id: ID!) {
  order(id: $id) {
    status
    shipments { id status trackingNumber carrier thirdPartyHistory { status detail } }
  }
}"""
BERLIN_FREE = {
    "name": "Ada Okafor",
    "line1": "410 W Main St",
    "city": "Louisville",
    "postalCode": "40202",
    "country": "US",
    "latitude": 38.25,
    "longitude": -85.76,
}


@pytest.fixture
async def shipbob() -> AsyncIterator[FakeShipBob]:
    fake = FakeShipBob(free_port())
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def client(
    orders: OrdersUnderTest,
    inventory: InventoryUnderTest,
    nats_server: EmbeddedNats,
    backend: str,
    tmp_path: Path,
    shipbob: FakeShipBob,
) -> AsyncIterator[GraphQLClient]:
    with database_url(backend, tmp_path, "channels") as url:
        async with system(orders, inventory, nats_server.url, url) as client:
            await seed(client, PLACES, [SKU], {(SKU, NODE): 5})
            node = {
                "locationCode": NODE,
                "shipbobChannelId": CHANNEL_ID,
                "fulfillmentCenterId": CENTRE,
                "apiToken": TOKEN,
                "webhookSecret": SECRET,
                "apiBaseUrl": shipbob.base_url,
            }
            connected = (await client.data(CONNECT, {"input": node}))["connectFulfillmentNode"]
            assert connected["userErrors"] == []
            assert connected["node"]["hasApiToken"] and connected["node"]["hasWebhookSecret"]
            yield client


async def place(client: GraphQLClient, external_id: str) -> dict[str, Any]:
    order = {
        "channel": "web",
        "externalId": external_id,
        "email": "ada@example.com",
        "shipTo": BERLIN_FREE,
        "lines": [{"sku": SKU, "quantity": 2, "unitPriceCents": 2500}],
    }
    placed = (await client.data(operation("PlaceOrder"), {"input": order}))["placeOrder"]
    assert placed["userErrors"] == [], placed
    found: dict[str, Any] = (await client.data(ORDER, {"id": placed["order"]["id"]}))["order"]
    return found | {"id": placed["order"]["id"]}


def shipped_body(shipment_id: str) -> bytes:
    body = copy.deepcopy(published("order_shipped"))
    body["reference_id"] = body["shipments"][0]["reference_id"] = shipment_id
    return json.dumps(body).encode()


async def test_a_shipment_at_the_node_is_created_once_and_shipped_by_its_webhook(
    client: GraphQLClient, shipbob: FakeShipBob
) -> None:
    shipbob.fail_next, shipbob.lose_next = 1, 1  # down once, then takes it but the answer is lost
    order = await place(client, "sb-1")
    (shipment,) = order["shipments"]

    async def created() -> bool:
        found = await client.data(ORDER, {"id": order["id"]})
        history = found["order"]["shipments"][0]["thirdPartyHistory"]
        return [x["status"] for x in history] == ["CREATED"]

    await eventually(created, what="the order created at ShipBob")
    assert list(shipbob.orders) == [shipment["id"]]
    assert shipbob.answers == [500, 500, 422]
    taken = shipbob.orders[shipment["id"]]
    assert taken["products"] == [{"reference_id": SKU, "name": SKU, "quantity": 2}]
    assert taken["recipient"]["address"]["city"] == "Louisville"
    assert taken["shipping_method"] == "Standard"

    body = shipped_body(shipment["id"])
    forged = signed(body, "msg-forged", secret="whsec_" + "QUFBQUFBQUFBQUFBQUFBQQ==")
    refused = await client.http.post("/webhooks/shipbob", content=body, headers=forged)
    assert refused.status_code == 401
    unchanged = (await client.data(ORDER, {"id": order["id"]}))["order"]
    assert unchanged["status"] == "ALLOCATED"
    assert unchanged["shipments"][0]["trackingNumber"] is None

    for _ in range(2):  # ShipBob delivers it again: nothing ships twice
        answer = await client.http.post(
            "/webhooks/shipbob", content=body, headers=signed(body, "msg-1")
        )
        assert answer.status_code == 200
    shipped = (await client.data(ORDER, {"id": order["id"]}))["order"]
    assert shipped["status"] == "SHIPPED"
    (after,) = shipped["shipments"]
    assert after["trackingNumber"] == "9400111899223197428490"
    assert after["carrier"] == "USPS"
    assert [x["status"] for x in after["thirdPartyHistory"]] == ["CREATED", "SHIPPED"]
    nodes = (await client.data(NODES))["fulfillmentNodes"]
    assert nodes[0]["pendingOrders"] == 0 and nodes[0]["failedOrders"] == 0


async def test_a_refused_order_is_failed_with_shipbobs_reason(
    client: GraphQLClient, shipbob: FakeShipBob
) -> None:
    shipbob.refuse_next = 1
    order = await place(client, "sb-2")
    (shipment,) = order["shipments"]

    async def failed() -> bool:
        (node,) = (await client.data(NODES))["fulfillmentNodes"]
        return bool(node["failedOrders"] == 1)

    await eventually(failed, what="the refusal recorded")
    (node,) = (await client.data(NODES))["fulfillmentNodes"]
    assert node["failures"][0]["shipmentId"] == shipment["id"]
    assert "recipient" in node["failures"][0]["reason"]
    assert shipbob.orders == {} and shipbob.answers == [400]


CANCEL = """
mutation Cancel($id: ID!) { cancelOrder(id: $id) { userErrors { code message } } }
"""


async def test_an_order_cancelled_here_is_cancelled_at_shipbob(
    client: GraphQLClient, shipbob: FakeShipBob
) -> None:
    order = await place(client, "sb-cancel")
    (shipment,) = order["shipments"]

    async def created() -> bool:
        return shipment["id"] in shipbob.orders

    await eventually(created, what="the order at ShipBob")
    answer = await client.data(CANCEL, {"id": order["id"]})
    assert answer["cancelOrder"]["userErrors"] == []

    async def cancelled() -> bool:
        return shipbob.cancelled == [shipment["id"]]

    await eventually(cancelled, what="the cancellation at ShipBob")
    history = (await client.data(ORDER, {"id": order["id"]}))["order"]["shipments"][0]
    assert [x["status"] for x in history["thirdPartyHistory"]] == [
        "CREATED",
        "CANCELLING",
        "CANCELLED",
    ]


async def test_a_cancellation_shipbob_refuses_is_failed_for_a_person(
    client: GraphQLClient, shipbob: FakeShipBob
) -> None:
    shipbob.uncancellable = True
    order = await place(client, "sb-picked")

    async def created() -> bool:
        return bool(shipbob.orders)

    await eventually(created, what="the order at ShipBob")
    assert (await client.data(CANCEL, {"id": order["id"]}))["cancelOrder"]["userErrors"] == []

    async def failed() -> bool:
        (node,) = (await client.data(NODES))["fulfillmentNodes"]
        return bool(node["failedOrders"] == 1)

    await eventually(failed, what="the refused cancellation recorded")
    (node,) = (await client.data(NODES))["fulfillmentNodes"]
    assert "not cancelled at ShipBob" in node["failures"][0]["reason"]
    assert shipbob.cancelled == []


async def test_the_pull_stores_the_levels_of_the_nodes_centre(
    client: GraphQLClient, shipbob: FakeShipBob
) -> None:
    shipbob.page_size = 1  # three pages: the pull follows `next`
    pulled = (await client.data(PULL, {"code": NODE}))["pullFulfillmentNodeInventory"]
    assert pulled["userErrors"] == []
    levels = {x["sku"]: x["onHand"] for x in pulled["node"]["lastPull"]}
    assert levels == {"IPOD2008GREEN": 42, "IPOD2008RED": 0}
    assert shipbob.level_calls[0]["LocationId"] == CENTRE
    (node,) = (await client.data(NODES))["fulfillmentNodes"]
    assert node["lastPulledAt"] is not None
    assert {x["sku"]: x["onHand"] for x in node["lastPull"]} == levels
    unknown = (await client.data(PULL, {"code": "DC-SEA"}))["pullFulfillmentNodeInventory"]
    assert unknown["userErrors"][0]["code"] == "NOT_FOUND"
    bad = {"locationCode": "DC-SEA", "shipbobChannelId": CHANNEL_ID, "fulfillmentCenterId": "8"}
    refused = (await client.data(CONNECT, {"input": bad}))["connectFulfillmentNode"]
    assert refused["userErrors"][0]["code"] == "INVALID_STATE"


DISCREPANCIES = """
query Drift($code: String!) {
  stockDiscrepancies(locationCode: $code, status: OPEN) {
    items { sku ours theirs difference valueCents source holds }
  }
}"""


async def test_a_pull_of_zero_where_we_hold_500_blocks_them_from_sale_at_once(
    client: GraphQLClient, shipbob: FakeShipBob
) -> None:
    """The issue's face cream: the node holds nothing, our books say 500. The pull reconciles
    through the real inventory service: the units leave availability before the pull answers
    (no sale of air in between), and the difference is listed with its value."""
    adjustment = {"sku": SKU, "locationCode": NODE, "delta": 495, "reason": "count"}
    assert (await client.data(operation("AdjustStock"), {"input": adjustment}))["adjustStock"][
        "userErrors"
    ] == []
    for item in shipbob.levels["items"]:
        for place in item["locations"]:
            place["on_hand_quantity"] = 0
    available = operation("Availability")

    async def sellable() -> int:
        answer = await client.data(available, {"skus": [SKU], "channel": "web"})
        return int(answer["availability"][0]["available"])

    assert await sellable() == 500
    pulled = (await client.data(PULL, {"code": NODE}))["pullFulfillmentNodeInventory"]
    assert pulled["userErrors"] == []
    assert await sellable() == 0
    drift = (await client.data(DISCREPANCIES, {"code": NODE}))["stockDiscrepancies"]["items"]
    # The unknown IPOD2008RED in ShipBob's answer is left out, not a refusal of the count.
    assert [(x["sku"], x["ours"], x["theirs"], x["difference"], x["holds"]) for x in drift] == [
        (SKU, 500, 0, -500, True)
    ]
    assert (drift[0]["valueCents"], drift[0]["source"]) == (-500 * 800, "SHIPBOB")


class RecordingCounts:
    def __init__(self) -> None:
        self.counts: list[tuple[str, str, Sequence[tuple[str, int]], bool]] = []

    async def reconcile(
        self, location_code: str, source: str, lines: Sequence[tuple[str, int]], complete: bool
    ) -> None:
        self.counts.append((location_code, source, lines, complete))


class NoOrders:
    async def destination(self, order_id: str, shipment_id: str) -> None:
        return None

    async def ship(self, shipment_id: str, tracking_number: str) -> None:
        raise AssertionError("nothing ships in a pull")


class ThirdPartyKind:
    async def kind_of(self, location_code: str) -> str:
        return "THIRD_PARTY_WAREHOUSE"


async def test_a_pull_hands_the_centres_counts_to_the_reconciler_as_complete(
    tmp_path: Path, shipbob: FakeShipBob
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'channels.sqlite'}")
    await create_test_tables(db, list(TABLES))
    counts = RecordingCounts()
    nodes = ThirdPartyNodes(
        SqlUnitOfWork(db, SqlChannelsStore), ShipBobApi(), NoOrders(), ThirdPartyKind(), counts
    )
    try:
        await nodes.connect(NewNode(NODE, CHANNEL_ID, CENTRE, TOKEN, SECRET, shipbob.base_url))
        await nodes.pull(NODE)
        async with db.snapshot() as session:
            stored = await node_store.last_pull(session, NODE)
    finally:
        await db.dispose()
    expected = [("IPOD2008GREEN", 42), ("IPOD2008RED", 0)]
    assert counts.counts == [(NODE, "SHIPBOB", expected, True)]
    assert stored == dict(expected)
