"""A Shopify store as its operator connects it: `oms up` on a fresh data dir, a back-office token
from `oms token`, the contract's ConnectChannel, and Shopify's deliveries to the gateway's
`/webhooks/shopify` signed as Shopify signs them (its published example order as the body).
One system for the whole story: placed once however often delivered, forgeries refused with
401 and nothing changed, an unknown SKU parked until it exists and the order is retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from launcher.ports import free_port
from tests.e2e.test_launcher import RunningOms
from tests.e2e.test_returns_loop import Client, mint
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
from tests.support.graphql import GraphQLClient

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
