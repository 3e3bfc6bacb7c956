"""Amazon's outbound side through real inventory, orders and channels processes (SQLite and
PostgreSQL, NATS, gRPC): quantities patched through the Listings Items API after stock changes,
and a shipped Amazon order confirmed with its tracking number. The fake Selling Partner API
(tests/support/amazon_platform.py) is the one fake."""

from __future__ import annotations

from functools import partial

from launcher.embedded_nats import EmbeddedNats
from oms.channels.v1 import channels_pb2 as cpb
from oms.inventory.v1 import inventory_pb2 as inv
from tests.integration.conftest import eventually
from tests.integration.test_channels_amazon import Polling, polling, stock
from tests.support.amazon_platform import published
from tests.support.contract import operation
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient

__all__ = ["polling"]  # the fixture, shared with the polling tests

SAFETY = 2
# The published order's one item.
ITEM = published("get_order_items.json")["payload"]["OrderItems"][0]
SKU = ITEM["SellerSKU"]
ORDERS = "query { orders(first: 5) { edges { node { id channel shipments { id } } } } }"


async def connect_with_safety_stock(polling: Polling) -> None:
    """amazon-us connected with 2 units held back, then 5 units of the SKU stocked."""
    safety = inv.UpsertChannelRequest(code="amazon-us", default_safety_stock=SAFETY)
    await polling.inventory.UpsertChannel(safety)
    await polling.connect()
    await stock(polling.inventory, SKU)


async def adjust(polling: Polling, delta: int) -> None:
    await polling.inventory.AdjustStock(
        inv.AdjustStockRequest(sku=SKU, location_code="DC-DET", delta=delta, reason="count")
    )


async def shows(polling: Polling, units: int) -> None:
    async def holds() -> bool:
        return polling.amazon.quantities.get(SKU) == units

    await eventually(holds, what=f"Amazon showing {units} of {SKU}")


async def test_a_stock_change_reaches_amazon_less_the_safety_stock(polling: Polling) -> None:
    polling.amazon.pages = {"": {"payload": {"Orders": []}}}
    await connect_with_safety_stock(polling)
    await shows(polling, 5 - SAFETY)
    await adjust(polling, 4)
    await shows(polling, 9 - SAFETY)


async def test_no_update_is_lost_while_amazon_answers_500(polling: Polling) -> None:
    polling.amazon.pages = {"": {"payload": {"Orders": []}}}
    await connect_with_safety_stock(polling)
    await shows(polling, 5 - SAFETY)
    polling.amazon.down = True
    for delta in (3, 4):
        refused = polling.amazon.refused
        await adjust(polling, delta)
        await eventually(
            partial(retried, polling, refused), what="the push retried against the down Amazon"
        )
        # Refused, so still owed: the worker has not written it off.
        assert await pending(polling) == 1
    polling.amazon.down = False
    await shows(polling, 12 - SAFETY)


async def retried(polling: Polling, refused: int) -> bool:
    return polling.amazon.refused >= refused + 2


async def pending(polling: Polling) -> int:
    status = await polling.stub.GetChannelStatus(cpb.GetChannelStatusRequest(code="amazon-us"))
    return status.pending_pushes


async def test_a_shipped_amazon_order_is_confirmed_once_with_its_tracking_number(
    polling: Polling, nats_server: EmbeddedNats
) -> None:
    order = published("get_orders.json")["payload"]["Orders"][0]
    polling.amazon.pages = {"": {"payload": {"Orders": [order]}}}
    await connect_with_safety_stock(polling)
    async with serving_gateway(polling.targets, nats_server.url, SIGNING_KEY) as url:
        async with GraphQLClient(url, SIGNING_KEY, timeout=20) as client:

            async def placed() -> bool:
                found = (await client.data(ORDERS))["orders"]["edges"]
                return any(e["node"]["shipments"] for e in found)

            await eventually(placed, timeout=30, what="the Amazon order placed")
            (edge,) = (await client.data(ORDERS))["orders"]["edges"]
            polling.amazon.down = True  # the first tries fail: the confirmation waits
            refused = polling.amazon.refused
            for shipment in edge["node"]["shipments"]:
                variables = {"id": shipment["id"], "trackingNumber": "1Z999AA1"}
                shipped = await client.data(operation("ShipShipment"), variables)
                assert shipped["shipShipment"]["userErrors"] == []

    async def tried() -> bool:
        return polling.amazon.refused > refused

    await eventually(tried, what="a confirmation attempt against the down Amazon")
    polling.amazon.down = False
    order_id = order["AmazonOrderId"]

    async def confirmed() -> bool:
        return bool(polling.amazon.confirmations.get(order_id))

    await eventually(confirmed, what="the shipment confirmation")
    (body,) = polling.amazon.confirmations[order_id]
    package = body["packageDetail"]
    assert body["marketplaceId"] == "ATVPDKIKX0DER"
    assert package["trackingNumber"] == "1Z999AA1"
    assert package["orderItems"] == [{"orderItemId": ITEM["OrderItemId"], "quantity": 1}]
