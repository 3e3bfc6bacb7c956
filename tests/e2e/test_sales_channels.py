"""A Shopify store as its operator connects it: `oms up` on a fresh data dir, a back-office token
from `oms token`, the contract's ConnectChannel, and Shopify's deliveries to the gateway's
`/webhooks/shopify` signed as Shopify signs them (its published example order as the body).
One system for the whole story: placed once however often delivered, forgeries refused with
401 and nothing changed, an unknown SKU parked until it exists and the order is retried. Then
the outbound story: Amazon polled from a fake SP-API across a kill of the channels process, and a
stock change reaching fake Amazon and Shopify APIs, even after both answered 500 for a while."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from launcher.ports import free_port
from tests.e2e.test_launcher import RunningOms
from tests.e2e.test_returns_loop import Client, mint
from tests.integration.conftest import eventually
from tests.integration.test_channels_amazon import ORDER_IDS as AMAZON_ORDER_IDS
from tests.integration.test_channels_amazon import REFRESH_TOKEN
from tests.integration.test_channels_shopify import (
    EXCEPTIONS,
    KNOWN,
    LATE,
    RETRY,
    SECRET,
    SHOP,
    STATUS,
    Shopify,
    published,
)
from tests.support.amazon_platform import FakeAmazon
from tests.support.amazon_platform import published as published_amazon
from tests.support.graphql import GraphQLClient
from tests.support.shopify_admin import TOKEN as SHOPIFY_TOKEN
from tests.support.shopify_admin import FakeShopifyAdmin

pytestmark = pytest.mark.timeout(600)

# The example order ships to Louisville, KY: a DC there, one across the country.
LOCATIONS = (
    {"code": "DC-LOU", "kind": "DISTRIBUTION_CENTER", "latitude": 38.25, "longitude": -85.76},
    {"code": "DC-SEA", "kind": "DISTRIBUTION_CENTER", "latitude": 47.6, "longitude": -122.3},
)


class Operator:
    """The back office, through the contract's documents and the channel's own queries."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def outside_contract(self, document: str, **variables: Any) -> Any:
        (answer,) = (
            await self.client.graphql.data(document, variables, token=self.client.token)
        ).values()
        return answer

    async def stock(self, sku: str, units: int) -> None:
        await self.client.ok(
            "UpsertSku",
            input={"code": sku, "title": sku, "unitCostCents": 9000, "weightGrams": 200},
        )
        adjustment = {"sku": sku, "locationCode": "DC-LOU", "delta": units, "reason": "count"}
        await self.client.ok("AdjustStock", input=adjustment)

    async def reserved(self, sku: str) -> int:
        return sum(level["reserved"] for level in await self.client.data("StockLevels", sku=sku))

    async def status(self) -> dict[str, Any]:
        return dict(await self.outside_contract(STATUS, code="shopify-us"))


async def test_a_shopify_store_connected_and_its_orders_placed_through_oms_up(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    running = RunningOms(data_dir, free_port())
    try:
        running.wait_ready()
        async with GraphQLClient(running.base_url, timeout=30) as graphql:
            operator = Operator(Client(graphql, mint(data_dir, "--role", "backoffice")))
            for location in LOCATIONS:
                await operator.client.ok(
                    "UpsertLocation", input=location | {"name": location["code"]}
                )
            for sku in KNOWN:
                await operator.stock(sku, 5)
            connect = {
                "code": "shopify-us",
                "platform": "SHOPIFY",
                "account": SHOP,
                "webhookSecret": SECRET,
            }
            connected = await operator.client.ok("ConnectChannel", input=connect)
            assert connected["channel"] == {
                "code": "shopify-us",
                "platform": "SHOPIFY",
                "account": SHOP,
            }
            shopify = Shopify(graphql)

            await placed_once_however_often_delivered(operator, shopify)
            await forgeries_change_nothing(operator, shopify)
            await an_unknown_sku_waits_for_the_sku_and_a_retry(operator, shopify)
        assert running.terminate() == 0, running.output
    finally:
        running.kill_all()


async def placed_once_however_often_delivered(operator: Operator, shopify: Shopify) -> None:
    order = published("order")
    order["line_items"] = [x for x in order["line_items"] if x["sku"] in KNOWN]
    assert await shopify.deliver("orders/create", order, "wh-1") == 200
    assert await shopify.deliver("orders/create", order, "wh-1") == 200

    status = await operator.status()
    assert (status["ordersReceived"], status["ordersPlaced"], status["exceptionsWaiting"]) == (
        1,
        1,
        0,
    )
    assert [await operator.reserved(sku) for sku in KNOWN] == [1, 1]


async def forgeries_change_nothing(operator: Operator, shopify: Shopify) -> None:
    before = await operator.status()
    order = published("order")
    order["id"] = 450789470
    order["line_items"] = [x for x in order["line_items"] if x["sku"] in KNOWN]
    stale = datetime.now(UTC) - timedelta(hours=6)
    assert await shopify.deliver("orders/create", order, "wh-2", secret="not-it") == 401
    assert await shopify.deliver("orders/create", order, "wh-2", shop="x.myshopify.com") == 401
    assert await shopify.deliver("orders/create", order, "wh-2", triggered_at=stale) == 401

    assert await operator.status() == before
    assert [await operator.reserved(sku) for sku in KNOWN] == [1, 1]


async def an_unknown_sku_waits_for_the_sku_and_a_retry(
    operator: Operator, shopify: Shopify
) -> None:
    order = published("order")
    order["id"] = 450789471
    assert await shopify.deliver("orders/create", order, "wh-3") == 200
    (parked,) = await operator.outside_contract(EXCEPTIONS, channelCode="shopify-us")
    assert (parked["externalId"], parked["status"], parked["problemCode"]) == (
        "450789471",
        "EXCEPTION",
        "NOT_FOUND",
    )
    assert LATE in parked["problem"]
    assert [await operator.reserved(sku) for sku in KNOWN] == [1, 1]

    await operator.stock(LATE, 2)
    retried = await operator.outside_contract(RETRY, id=parked["id"])
    assert retried["userErrors"] == []
    assert (retried["channelOrder"]["status"], bool(retried["channelOrder"]["orderId"])) == (
        "PLACED",
        True,
    )
    assert await operator.outside_contract(EXCEPTIONS) == []
    assert [await operator.reserved(sku) for sku in (*KNOWN, LATE)] == [2, 2, 1]
    status = await operator.status()
    assert (status["ordersReceived"], status["ordersPlaced"]) == (2, 2)


# The outbound story: the published Amazon orders (tests/fixtures/amazon/) polled from a fake
# Selling Partner API, and one SKU sold on Amazon and on a fake Shopify shop.
AMAZON = "amazon-us"
SHOPIFY = "shopify-us"
SKU = published_amazon("get_order_items.json")["payload"]["OrderItems"][0]["SellerSKU"]
STOCKED = 5
AMAZON_STATUS = """
query Status($code: String!) {
  channelStatus(code: $code) { ordersReceived ordersPlaced exceptionsWaiting pendingPushes }
}"""
# Polled often, restarted soon: the story takes seconds, not the defaults' minutes.
FAST = {"OMS_CHANNELS_AMAZON_POLL_SECONDS": "0.5", "OMS_RESTART_DELAY_SECONDS": "0.5"}


async def test_amazon_polled_once_across_a_restart_and_stock_pushed_to_both_through_oms_up(
    tmp_path: Path,
) -> None:
    amazon = FakeAmazon(free_port(), REFRESH_TOKEN)
    shop = FakeShopifyAdmin(free_port())
    shop.sells(SKU)
    await amazon.start()
    await shop.start()
    data_dir = tmp_path / "data"
    running = RunningOms(data_dir, free_port(), FAST)
    try:
        await asyncio.to_thread(running.wait_ready)
        async with GraphQLClient(running.base_url, timeout=30) as graphql:
            operator = Operator(Client(graphql, mint(data_dir, "--role", "backoffice")))
            await connect_both(operator, amazon, shop)
            await polled_once_each_across_a_restart(operator, amazon, running)
            await a_stock_change_reaches_both_within_a_second(operator, amazon, shop)
            await no_update_lost_while_both_answer_500(operator, amazon, shop)
        assert await asyncio.to_thread(running.terminate) == 0, running.output
    finally:
        running.kill_all()
        await amazon.stop()
        await shop.stop()


async def connect_both(operator: Operator, amazon: FakeAmazon, shop: FakeShopifyAdmin) -> None:
    """The shop connected, the SKU stocked at a DC near the published Amazon order's Canton,
    MI address, then Amazon connected: its first poll comes at once and must find the stock
    (an order short of it is an exception for a person, as it should be). The reservation's
    change and the start-up resync owe Amazon its quantity."""
    amazon_account = {
        "code": AMAZON,
        "platform": "AMAZON",
        "account": "A2SELLER0EXAMPLE",
        "apiBaseUrl": amazon.url,
        "accessToken": REFRESH_TOKEN,
        "marketplaceId": "ATVPDKIKX0DER",
        "lwaClientId": "amzn1.application-oa2-client.e2e",
        "lwaClientSecret": "the-lwa-client-secret",
    }
    shop_account = {
        "code": SHOPIFY,
        "platform": "SHOPIFY",
        "account": SHOP,
        "webhookSecret": SECRET,
        "apiBaseUrl": shop.base_url,
        "accessToken": SHOPIFY_TOKEN,
    }
    connected = await operator.client.ok("ConnectChannel", input=shop_account)
    assert connected["channel"]["code"] == SHOPIFY
    location = {"code": "DC-DET", "kind": "DISTRIBUTION_CENTER", "latitude": 42.33}
    await operator.client.ok(
        "UpsertLocation", input=location | {"longitude": -83.05, "name": "Detroit"}
    )
    await operator.client.ok(
        "UpsertSku", input={"code": SKU, "title": SKU, "unitCostCents": 900, "weightGrams": 200}
    )
    adjustment = {"sku": SKU, "locationCode": "DC-DET", "delta": STOCKED, "reason": "count"}
    await operator.client.ok("AdjustStock", input=adjustment)
    connected = await operator.client.ok("ConnectChannel", input=amazon_account)
    assert connected["channel"]["code"] == AMAZON


async def amazon_status(operator: Operator) -> tuple[int, int, int]:
    found = await operator.outside_contract(AMAZON_STATUS, code=AMAZON)
    return found["ordersReceived"], found["ordersPlaced"], found["exceptionsWaiting"]


async def polled_once_each_across_a_restart(
    operator: Operator, amazon: FakeAmazon, running: RunningOms
) -> None:
    """Three published orders: the one with an address placed, the two without parked. The
    channels process killed and restarted by `oms up` polls again from its watermark and
    records, asks about and places none of them a second time."""

    async def all_taken() -> bool:
        return await amazon_status(operator) == (3, 1, 2)

    await eventually(all_taken, timeout=60, what="the published Amazon orders taken")
    assert await operator.reserved(SKU) == 1
    first = amazon.orders_queries[0]

    os.kill(running.pid_of("channels"), signal.SIGKILL)
    pid = await asyncio.to_thread(running.wait_for_restart, "channels", 1)
    await asyncio.to_thread(running.wait_for_line, f"oms: channels is ready again (pid {pid})")
    asked_before = len(amazon.orders_queries)

    async def polled_again() -> bool:
        return len(amazon.orders_queries) > asked_before

    await eventually(polled_again, timeout=30, what="a poll by the restarted channels process")
    # The published orders are older than the first look-back: the watermark stayed there.
    assert amazon.orders_queries[asked_before]["LastUpdatedAfter"] == first["LastUpdatedAfter"]

    async def answered_as_before() -> bool:
        # The gateway reconnects to the new process on its own backoff: ask until it answers.
        try:
            return await amazon_status(operator) == (3, 1, 2)
        except AssertionError:
            return False

    await eventually(answered_as_before, timeout=30, what="the channel's status after restart")
    assert sorted(amazon.items_asked) == sorted(AMAZON_ORDER_IDS)
    assert await operator.reserved(SKU) == 1


async def both_show(amazon: FakeAmazon, shop: FakeShopifyAdmin, units: int) -> bool:
    return amazon.quantities.get(SKU) == units and shop.available_of(SKU) == units


async def adjust(operator: Operator, delta: int) -> None:
    change = {"sku": SKU, "locationCode": "DC-DET", "delta": delta, "reason": "count"}
    await operator.client.ok("AdjustStock", input=change)


async def a_stock_change_reaches_both_within_a_second(
    operator: Operator, amazon: FakeAmazon, shop: FakeShopifyAdmin
) -> None:
    # What the start-up resync and the earlier changes owed: the stock less the one reserved.
    await eventually(
        partial(both_show, amazon, shop, STOCKED - 1), timeout=30, what="both fakes in step"
    )
    await adjust(operator, 3)
    changed = time.monotonic()
    # Within a second is the aim; a loaded machine gets a generous deadline, and the figure.
    await eventually(
        partial(both_show, amazon, shop, STOCKED + 2), timeout=5, what="the change on both"
    )
    print(f"a stock change reached both platforms in {time.monotonic() - changed:.3f}s")


async def no_update_lost_while_both_answer_500(
    operator: Operator, amazon: FakeAmazon, shop: FakeShopifyAdmin
) -> None:
    """Both fakes answer 500 for a few seconds while the stock changes twice: each push is
    retried, stays owed, and the last value arrives once they answer again."""
    amazon.down = shop.down = True
    refused = amazon.refused, shop.refused
    await adjust(operator, 2)
    await adjust(operator, 4)

    async def retried() -> bool:
        return amazon.refused >= refused[0] + 2 and shop.refused >= refused[1] + 2

    await eventually(retried, timeout=30, what="pushes retried against both down fakes")
    for code in (AMAZON, SHOPIFY):
        status = await operator.outside_contract(AMAZON_STATUS, code=code)
        assert status["pendingPushes"] == 1, (code, status)
    amazon.down = shop.down = False
    await eventually(
        partial(both_show, amazon, shop, STOCKED + 8), timeout=60, what="the last value on both"
    )
