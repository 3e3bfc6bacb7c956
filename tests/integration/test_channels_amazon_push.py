"""Amazon's outbound side through real inventory, orders and channels processes (SQLite and
PostgreSQL, NATS, gRPC): quantities patched through the Listings Items API after stock changes,
and a shipped Amazon order confirmed with its tracking number. The fake Selling Partner API
(tests/support/amazon_platform.py) is the one fake."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from launcher.embedded_nats import EmbeddedNats
from launcher.ports import free_port
from oms.channels.v1 import channels_pb2 as cpb
from oms.inventory.v1 import inventory_pb2 as inv
from tests.integration.conftest import eventually
from tests.integration.test_channels_amazon import Polling, polling, stock
from tests.integration.test_channels_shopify import KNOWN, SECRET, SHOP, Shopify
from tests.integration.test_channels_shopify import published as published_shopify
from tests.support.amazon_platform import published
from tests.support.contract import operation
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient
from tests.support.shopify_admin import TOKEN as SHOPIFY_TOKEN
from tests.support.shopify_admin import FakeShopifyAdmin

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


FULFILLMENTS = """
query Status($code: String!) {
  channelStatus(code: $code) {
    fulfillmentsFailed failedFulfillments { shipmentId externalOrderId status failure attempts }
  }
}"""
RETRY_FULFILLMENT = """
mutation Retry($id: ID!) {
  retryChannelFulfillment(shipmentId: $id) {
    fulfillment { shipmentId status failure }
    userErrors { field code message }
  }
}"""


async def test_a_confirmation_amazon_refuses_for_good_waits_as_failed_until_retried(
    polling: Polling, nats_server: EmbeddedNats
) -> None:
    order = published("get_orders.json")["payload"]["Orders"][0]
    order_id = order["AmazonOrderId"]
    polling.amazon.pages = {"": {"payload": {"Orders": [order]}}}
    polling.amazon.refuse_confirmations = "Invalid tracking number for the carrier"
    await connect_with_safety_stock(polling)
    async with serving_gateway(polling.targets, nats_server.url, SIGNING_KEY) as url:
        async with GraphQLClient(url, SIGNING_KEY, timeout=20) as client:
            shipment_id = await ship_the_order(client)

            async def failed() -> bool:
                found = await client.data(FULFILLMENTS, {"code": "amazon-us"})
                return bool(found["channelStatus"]["fulfillmentsFailed"] == 1)

            await eventually(failed, what="the refused confirmation FAILED")
            # Long enough for several tries under the backoff (250 ms, doubling): none come.
            await asyncio.sleep(2)
            assert polling.amazon.invalid == 1
            status = (await client.data(FULFILLMENTS, {"code": "amazon-us"}))["channelStatus"]
            (shown,) = status["failedFulfillments"]
            assert (shown["shipmentId"], shown["externalOrderId"], shown["status"]) == (
                shipment_id,
                order_id,
                "FAILED",
            )
            assert "Invalid tracking number for the carrier" in shown["failure"]
            assert "400" in shown["failure"]

            polling.amazon.refuse_confirmations = ""  # mended on Amazon's side
            retried = (await client.data(RETRY_FULFILLMENT, {"id": shipment_id}))[
                "retryChannelFulfillment"
            ]
            assert retried["userErrors"] == []
            assert retried["fulfillment"] == {
                "shipmentId": shipment_id,
                "status": "PENDING",
                "failure": None,
            }

            async def confirmed() -> bool:
                return bool(polling.amazon.confirmations.get(order_id))

            await eventually(confirmed, what="the confirmation sent again")
            status = (await client.data(FULFILLMENTS, {"code": "amazon-us"}))["channelStatus"]
            assert (status["fulfillmentsFailed"], status["failedFulfillments"]) == (0, [])
            again = (await client.data(RETRY_FULFILLMENT, {"id": shipment_id}))[
                "retryChannelFulfillment"
            ]
            assert again["userErrors"][0]["code"] == "INVALID_STATE"
            unknown = (await client.data(RETRY_FULFILLMENT, {"id": "no-such-shipment"}))[
                "retryChannelFulfillment"
            ]
            assert unknown["userErrors"][0]["code"] == "NOT_FOUND"


async def ship_the_order(client: GraphQLClient) -> str:
    """Waits for the polled Amazon order to be placed, ships its one shipment; its id."""

    async def amazons() -> list[dict[str, Any]]:
        found = (await client.data(ORDERS))["orders"]["edges"]
        return [e["node"] for e in found if e["node"]["channel"] == "amazon-us"]

    async def placed() -> bool:
        return any(o["shipments"] for o in await amazons())

    await eventually(placed, timeout=30, what="the Amazon order placed")
    (placed_order,) = await amazons()
    (shipment,) = placed_order["shipments"]
    variables = {"id": shipment["id"], "trackingNumber": "1Z999AA1"}
    shipped = await client.data(operation("ShipShipment"), variables)
    assert shipped["shipShipment"]["userErrors"] == []
    return str(shipment["id"])


async def test_a_shop_answering_nonsense_holds_up_no_push_or_confirmation_to_amazon(
    polling: Polling, nats_server: EmbeddedNats
) -> None:
    """A Shopify channel whose shop answers 200 in a shape Shopify never sends (the adapter
    fails with an unexpected error, not PlatformUnavailable) beside amazon-us: Amazon still
    gets its quantities and its shipment confirmed, though the shop's fulfillment is owed
    first; the shop gets its own once it answers sensibly again."""
    shop = FakeShopifyAdmin(free_port())
    shop.sells(*KNOWN)
    await shop.start()
    try:
        order = published("get_orders.json")["payload"]["Orders"][0]
        polling.amazon.pages = {"": {"payload": {"Orders": [order]}}}
        await polling.stub.ConnectChannel(
            cpb.ConnectChannelRequest(
                code="shopify-us",
                platform=cpb.CHANNEL_PLATFORM_SHOPIFY,
                account=SHOP,
                webhook_secret=SECRET,
                api_base_url=shop.base_url,
                access_token=SHOPIFY_TOKEN,
            )
        )
        for sku in KNOWN:
            await stock(polling.inventory, sku)
        shop.malformed = True
        async with serving_gateway(polling.targets, nats_server.url, SIGNING_KEY) as url:
            async with GraphQLClient(url, SIGNING_KEY, timeout=20) as client:
                webhook = published_shopify("order")
                webhook["line_items"] = [x for x in webhook["line_items"] if x["sku"] in KNOWN]
                assert await Shopify(client).deliver("orders/create", webhook, "wh-1") == 200
                for edge in (await client.data(ORDERS))["orders"]["edges"]:
                    for shipment in edge["node"]["shipments"]:
                        variables = {"id": shipment["id"], "trackingNumber": "1ZSHOP"}
                        await client.data(operation("ShipShipment"), variables)
                await connect_with_safety_stock(polling)
                await ship_the_order(client)

        async def confirmed() -> bool:
            return bool(polling.amazon.confirmations.get(order["AmazonOrderId"]))

        await eventually(confirmed, what="Amazon's confirmation behind the shop's fulfillment")
        await adjust(polling, 3)
        await shows(polling, 5 - 1 + 3 - SAFETY)  # 5 stocked, 1 shipped, 3 more
        assert shop.fulfillments == {} and shop.available == {}
        shop.malformed = False
        gid = f"gid://shopify/Order/{webhook['id']}"

        async def the_shop_caught_up() -> bool:
            # 5 stocked, 1 shipped to the shop's order.
            return shop.fulfillments.get(gid) == ["1ZSHOP"] and shop.available_of(KNOWN[0]) == 4

        await eventually(the_shop_caught_up, timeout=30, what="the shop's fulfillment and stock")
    finally:
        await shop.stop()
