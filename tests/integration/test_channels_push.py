"""Shopify's outbound side through the real inventory, orders and channels services (SQLite and
PostgreSQL, NATS, gRPC) and the gateway: availability pushed to the shop after stock changes,
and a fulfillment with its tracking number when a shipment ships. Shopify's Admin API is the one
fake (tests/support/shopify_admin.py), speaking its published request and response shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from launcher.embedded_nats import EmbeddedNats
from launcher.ports import free_port
from oms.channels.v1.channels_pb2_grpc import ChannelsServiceStub
from services.channels.bootstrap import SERVICE as CHANNELS
from tests.integration.conftest import InventoryUnderTest, OrdersUnderTest, eventually
from tests.integration.test_channels_shopify import (
    KNOWN,
    LOCATIONS,
    SECRET,
    SHOP,
    Shopify,
    published,
)
from tests.support.contract import operation
from tests.support.databases import database_url
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient
from tests.support.services import running_service
from tests.support.shopify_admin import TOKEN, FakeShopifyAdmin
from tests.support.stock import seed

SKU = KNOWN[0]
SAFETY = 2
SAFETY_STOCK = """
mutation Safety($input: ChannelInput!) { upsertChannel(input: $input) { userErrors { message } } }
"""
STATUS = """
query Status($code: String!) {
  channelStatus(code: $code) { ordersPlaced pendingPushes lastPushedAt }
}"""
RESYNC = """
mutation Resync($code: String!) {
  resyncChannel(code: $code) { skusOwed userErrors { code } }
}"""
ORDERS = "query { orders(first: 5) { edges { node { id channel shipments { id } } } } }"


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[FakeShopifyAdmin]:
    fake = FakeShopifyAdmin(free_port())
    fake.sells(*KNOWN)
    await fake.start()
    yield fake
    await fake.stop()


@asynccontextmanager
async def system(
    orders: OrdersUnderTest, inventory: InventoryUnderTest, nats_url: str, url: str
) -> AsyncIterator[GraphQLClient]:
    """The gateway over inventory, orders and channels (on `url`)."""
    calls = {"orders": orders.service.target, "inventory": inventory.target}
    async with running_service(
        CHANNELS, ChannelsServiceStub, url, nats_url, calls=calls
    ) as channels:
        targets = calls | {"channels": channels.target}
        async with serving_gateway(targets, nats_url, SIGNING_KEY) as gateway_url:
            async with GraphQLClient(gateway_url, SIGNING_KEY, timeout=20) as client:
                yield client


async def connect(client: GraphQLClient, shop: FakeShopifyAdmin) -> None:
    """5 units of each known SKU at each DC, the Shopify channel connected to the fake shop and
    holding back 2 units of safety stock."""
    safety = {"code": "shopify-us", "defaultSafetyStock": SAFETY}
    await client.data(SAFETY_STOCK, {"input": safety})
    connection = {
        "code": "shopify-us",
        "platform": "SHOPIFY",
        "account": SHOP,
        "webhookSecret": SECRET,
        "apiBaseUrl": shop.base_url,
        "accessToken": TOKEN,
    }
    await client.data(operation("ConnectChannel"), {"input": connection})
    stock = {(sku, at): 5 for sku in KNOWN for at in LOCATIONS}
    await seed(client, LOCATIONS, KNOWN, stock)


@pytest.fixture
async def client(
    orders: OrdersUnderTest,
    inventory: InventoryUnderTest,
    nats_server: EmbeddedNats,
    backend: str,
    tmp_path: Path,
    shop: FakeShopifyAdmin,
) -> AsyncIterator[GraphQLClient]:
    with database_url(backend, tmp_path, "channels") as url:
        async with system(orders, inventory, nats_server.url, url) as client:
            await connect(client, shop)
            yield client


async def status(client: GraphQLClient) -> dict[str, Any]:
    found: dict[str, Any] = (await client.data(STATUS, {"code": "shopify-us"}))["channelStatus"]
    return found


async def adjust(client: GraphQLClient, delta: int, sku: str = SKU) -> None:
    change = {"sku": sku, "locationCode": "DC-LOU", "delta": delta, "reason": "count"}
    answer = await client.data(operation("AdjustStock"), {"input": change})
    assert answer["adjustStock"]["userErrors"] == []


async def shows(shop: FakeShopifyAdmin, units: int, sku: str = SKU) -> None:
    async def holds() -> bool:
        return shop.available_of(sku) == units

    await eventually(holds, what=f"Shopify showing {units} of {sku}")


async def test_a_stock_change_reaches_shopify_less_the_safety_stock(
    client: GraphQLClient, shop: FakeShopifyAdmin
) -> None:
    await shows(shop, 10 - SAFETY)
    await adjust(client, 7)
    await shows(shop, 17 - SAFETY)

    async def nothing_owed() -> bool:
        return bool((await status(client))["pendingPushes"] == 0)

    await eventually(nothing_owed, what="no pushes pending")
    assert (await status(client))["lastPushedAt"] is not None


async def test_a_safety_stock_change_alone_reaches_shopify_for_every_sku(
    client: GraphQLClient, shop: FakeShopifyAdmin
) -> None:
    """No unit moves, yet what the channel may sell changes: every SKU is pushed again."""
    for sku in KNOWN:
        await shows(shop, 10 - SAFETY, sku)
    answer = await client.data(
        SAFETY_STOCK, {"input": {"code": "shopify-us", "defaultSafetyStock": 7}}
    )
    assert answer["upsertChannel"]["userErrors"] == []
    for sku in KNOWN:
        await shows(shop, 10 - 7, sku)


async def test_a_burst_of_changes_ends_with_the_last_value_in_far_fewer_calls(
    client: GraphQLClient, shop: FakeShopifyAdmin
) -> None:
    await shows(shop, 10 - SAFETY)
    before = len(shop.set_calls)
    for _ in range(20):
        await adjust(client, 1)
    await shows(shop, 30 - SAFETY)
    calls = len(shop.set_calls) - before
    assert 1 <= calls <= 10, calls


async def test_no_update_is_lost_while_shopify_answers_500(
    client: GraphQLClient, shop: FakeShopifyAdmin
) -> None:
    await shows(shop, 10 - SAFETY)
    shop.down = True
    refused = shop.refused
    await adjust(client, 3)

    async def retried() -> bool:
        return shop.refused >= refused + 2

    await eventually(retried, what="the push retried against the down shop")
    await adjust(client, 4)
    shop.down = False
    await shows(shop, 17 - SAFETY)


async def test_a_down_shop_does_not_keep_a_webhook_order_from_being_placed(
    client: GraphQLClient, shop: FakeShopifyAdmin
) -> None:
    shop.down = True
    order = published("order")
    order["line_items"] = [x for x in order["line_items"] if x["sku"] in KNOWN]
    assert await Shopify(client).deliver("orders/create", order, "wh-down") == 200
    assert (await status(client))["ordersPlaced"] == 1


async def test_a_shipped_shipment_creates_one_fulfillment_with_its_tracking_number(
    client: GraphQLClient, shop: FakeShopifyAdmin
) -> None:
    order = published("order")
    order["line_items"] = [x for x in order["line_items"] if x["sku"] in KNOWN]
    assert await Shopify(client).deliver("orders/create", order, "wh-ship") == 200
    (placed,) = [e["node"] for e in (await client.data(ORDERS))["orders"]["edges"]]
    shop.down = True  # the first tries fail: the fulfillment waits, it is not lost
    refused = shop.refused
    for shipment in placed["shipments"]:
        shipped = await client.data(
            operation("ShipShipment"), {"id": shipment["id"], "trackingNumber": "1Z999AA1"}
        )
        assert shipped["shipShipment"]["userErrors"] == []

    async def tried() -> bool:
        return shop.refused > refused

    await eventually(tried, what="a fulfillment attempt against the down shop")
    shop.down = False
    gid = f"gid://shopify/Order/{order['id']}"

    async def fulfilled() -> bool:
        return bool(shop.fulfillments.get(gid))

    await eventually(fulfilled, what="the fulfillment")
    assert shop.fulfillments == {gid: ["1Z999AA1"]}


async def test_start_up_pushes_every_sku_a_hand_edit_left_wrong(
    orders: OrdersUnderTest,
    inventory: InventoryUnderTest,
    nats_server: EmbeddedNats,
    backend: str,
    tmp_path: Path,
    shop: FakeShopifyAdmin,
) -> None:
    with database_url(backend, tmp_path, "channels") as url:
        async with system(orders, inventory, nats_server.url, url) as client:
            await connect(client, shop)
            for sku in KNOWN:
                await shows(shop, 10 - SAFETY, sku)
        for sku in KNOWN:  # edited by hand while the service was down: no event will correct it
            shop.available[shop.items[sku]] = 99
        async with system(orders, inventory, nats_server.url, url):
            for sku in KNOWN:
                await shows(shop, 10 - SAFETY, sku)


async def test_resync_on_demand_pushes_every_sku_again(
    client: GraphQLClient, shop: FakeShopifyAdmin
) -> None:
    for sku in KNOWN:
        await shows(shop, 10 - SAFETY, sku)
    for sku in KNOWN:  # the shop edited by hand: no stock change will ever correct it
        shop.available[shop.items[sku]] = 99
    answer = await client.data(RESYNC, {"code": "shopify-us"})
    assert answer["resyncChannel"]["userErrors"] == []
    assert answer["resyncChannel"]["skusOwed"] >= len(KNOWN)
    for sku in KNOWN:
        await shows(shop, 10 - SAFETY, sku)
    unknown = await client.data(RESYNC, {"code": "amazon-eu"})
    assert unknown["resyncChannel"]["userErrors"][0]["code"] == "NOT_FOUND"
