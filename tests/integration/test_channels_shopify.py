"""Shopify's webhooks through the gateway's `/webhooks/shopify` to the real channels, orders and
inventory services (SQLite and PostgreSQL, NATS, gRPC over sockets). Shopify itself is the one
outside party: its deliveries are built here as Shopify sends them — its published example
order and refund (tests/fixtures/shopify/) as the body, signed with the channel's secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from launcher.embedded_nats import EmbeddedNats
from oms.channels.v1.channels_pb2_grpc import ChannelsServiceStub
from services.channels.bootstrap import SERVICE as CHANNELS
from tests.integration.conftest import InventoryUnderTest, OrdersUnderTest, eventually
from tests.support.contract import operation
from tests.support.databases import database_url
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient
from tests.support.services import running_service
from tests.support.stock import levels, seed

FIXTURES = Path(__file__).parents[1] / "fixtures" / "shopify"
SHOP = "brand.myshopify.com"
SECRET = "hush-its-the-app-client-secret"
# The example order ships to Louisville, KY: a DC there, one across the country.
LOCATIONS = {
    "DC-LOU": ("DISTRIBUTION_CENTER", 38.25, -85.76),
    "DC-SEA": ("DISTRIBUTION_CENTER", 47.6, -122.3),
}
KNOWN = ("IPOD2008GREEN", "IPOD2008RED")
LATE = "IPOD2008BLACK"
EXCEPTIONS = """
query Exceptions($channelCode: String) {
  channelExceptions(channelCode: $channelCode) {
    id channelCode externalId status orderId problemCode problemField problem attempts
  }
}"""
RETRY = """
mutation Retry($id: ID!) {
  retryChannelOrder(id: $id) {
    channelOrder { id status orderId problemCode attempts }
    userErrors { field message code }
  }
}"""
STATUS = """
query Status($code: String!) {
  channelStatus(code: $code) {
    channel { code platform account hasWebhookSecret }
    ordersReceived ordersPlaced exceptionsWaiting refundsReceived lastReceivedAt
  }
}"""


def published(name: str) -> dict[str, Any]:
    """The resource inside Shopify's published example: what a webhook's body holds."""
    wrapped: dict[str, dict[str, Any]] = json.loads((FIXTURES / f"{name}.json").read_text())
    return wrapped[name]


class Shopify:
    """Shopify's side of a webhook: signs a body with the app's secret and posts it."""

    def __init__(self, client: GraphQLClient, secret: str = SECRET, shop: str = SHOP) -> None:
        self.client, self.secret, self.shop = client, secret, shop

    def sign(self, body: bytes, secret: str | None = None) -> str:
        key = (secret or self.secret).encode()
        return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()

    async def deliver(
        self,
        topic: str,
        payload: dict[str, Any],
        webhook_id: str,
        *,
        secret: str | None = None,
        shop: str | None = None,
        triggered_at: datetime | None = None,
    ) -> int:
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": shop or self.shop,
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Hmac-Sha256": self.sign(body, secret),
            "X-Shopify-Triggered-At": (triggered_at or datetime.now(UTC)).isoformat(),
            "X-Shopify-API-Version": "2025-10",
        }
        response = await self.client.http.post("/webhooks/shopify", content=body, headers=headers)
        return response.status_code


@pytest.fixture
async def client(
    orders: OrdersUnderTest,
    inventory: InventoryUnderTest,
    nats_server: EmbeddedNats,
    backend: str,
    tmp_path: Path,
) -> AsyncIterator[GraphQLClient]:
    """The gateway over inventory, orders and channels, the channel connected and the catalogue
    seeded without IPOD2008BLACK."""
    calls = {"orders": orders.service.target}
    with database_url(backend, tmp_path, "channels") as url:
        async with running_service(
            CHANNELS, ChannelsServiceStub, url, nats_server.url, calls=calls
        ) as channels:
            targets = {
                "inventory": inventory.target,
                "orders": orders.service.target,
                "channels": channels.target,
            }
            async with serving_gateway(targets, nats_server.url, SIGNING_KEY) as gateway_url:
                async with GraphQLClient(gateway_url, SIGNING_KEY, timeout=20) as client:
                    stock = {(sku, at): 5 for sku in KNOWN for at in LOCATIONS}
                    await seed(client, LOCATIONS, KNOWN, stock)
                    connected = await connect(client, SECRET)
                    assert connected["userErrors"] == []
                    yield client


async def connect(client: GraphQLClient, secret: str) -> dict[str, Any]:
    variables = {
        "input": {
            "code": "shopify-us",
            "platform": "SHOPIFY",
            "account": SHOP,
            "webhookSecret": secret,
        }
    }
    answer: dict[str, Any] = (await client.data(operation("ConnectChannel"), variables))[
        "connectChannel"
    ]
    return answer


async def reserved(client: GraphQLClient, sku: str) -> int:
    return sum(level["reserved"] for level in (await levels(client, sku)).values())


async def status(client: GraphQLClient) -> dict[str, Any]:
    found: dict[str, Any] = (await client.data(STATUS, {"code": "shopify-us"}))["channelStatus"]
    return found


async def test_connect_channel_answers_as_the_contract_writes_it_and_keeps_the_secret(
    client: GraphQLClient,
) -> None:
    again = await connect(client, SECRET)
    assert again == {
        "channel": {"code": "shopify-us", "platform": "SHOPIFY", "account": SHOP},
        "userErrors": [],
    }
    shown = await status(client)
    assert shown["channel"] == {
        "code": "shopify-us",
        "platform": "SHOPIFY",
        "account": SHOP,
        "hasWebhookSecret": True,
    }
    assert SECRET not in json.dumps(shown)
    other = {"input": {"code": "other", "platform": "SHOPIFY", "account": SHOP}}
    refused = (await client.data(operation("ConnectChannel"), other))["connectChannel"]
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_STATE", "input.account")
    ]


async def test_a_signed_order_is_placed_once_however_often_it_is_delivered(
    client: GraphQLClient,
) -> None:
    order = published("order")
    order["line_items"] = [x for x in order["line_items"] if x["sku"] in KNOWN]
    shopify = Shopify(client)
    assert await shopify.deliver("orders/create", order, "wh-1") == 200
    # Shopify redelivers the same webhook, and a second webhook may carry the same order.
    assert await shopify.deliver("orders/create", order, "wh-1") == 200
    assert await shopify.deliver("orders/create", order, "wh-2") == 200

    shown = await status(client)
    assert (shown["ordersReceived"], shown["ordersPlaced"], shown["exceptionsWaiting"]) == (1, 1, 0)
    assert shown["lastReceivedAt"] is not None
    assert [await reserved(client, sku) for sku in KNOWN] == [1, 1]
    # Routed from the DC near the Louisville ship-to.
    assert {at: x["reserved"] for at, x in (await levels(client, KNOWN[0])).items()} == {
        "DC-LOU": 1,
        "DC-SEA": 0,
    }


@pytest.mark.parametrize(
    "forged",
    [
        {"secret": "not-the-secret"},
        {"triggered_at": datetime.now(UTC) - timedelta(hours=6)},
        {"shop": "stranger.myshopify.com"},
    ],
    ids=["bad-signature", "stale", "unknown-shop"],
)
async def test_a_delivery_that_does_not_verify_is_refused_and_changes_nothing(
    client: GraphQLClient, forged: dict[str, Any]
) -> None:
    shopify = Shopify(client)
    assert await shopify.deliver("orders/create", published("order"), "wh-forged", **forged) == 401
    shown = await status(client)
    assert (shown["ordersReceived"], shown["lastReceivedAt"]) == (0, None)
    assert [await reserved(client, sku) for sku in KNOWN] == [0, 0]
    # The same webhook id, signed properly, is still taken: the refusal recorded nothing.
    order = published("order")
    order["line_items"] = [x for x in order["line_items"] if x["sku"] in KNOWN]
    assert await shopify.deliver("orders/create", order, "wh-forged") == 200
    assert (await status(client))["ordersPlaced"] == 1


async def test_an_unknown_sku_parks_the_order_until_it_exists_and_is_retried(
    client: GraphQLClient,
) -> None:
    shopify = Shopify(client)
    order = published("order")
    assert await shopify.deliver("orders/create", order, "wh-late") == 200
    (parked,) = (await client.data(EXCEPTIONS, {"channelCode": "shopify-us"}))["channelExceptions"]
    assert parked | {"id": None} == {
        "id": None,
        "channelCode": "shopify-us",
        "externalId": "450789469",
        "status": "EXCEPTION",
        "orderId": None,
        "problemCode": "NOT_FOUND",
        "problemField": "lines.2.sku",
        "problem": parked["problem"],
        "attempts": 1,
    }
    assert LATE in parked["problem"]
    assert [await reserved(client, sku) for sku in KNOWN] == [0, 0]
    # A retry before the SKU exists parks it again.
    still = (await client.data(RETRY, {"id": parked["id"]}))["retryChannelOrder"]
    assert still["channelOrder"]["status"] == "EXCEPTION"

    await seed(client, LOCATIONS, [LATE], {(LATE, "DC-LOU"): 2})
    retried = (await client.data(RETRY, {"id": parked["id"]}))["retryChannelOrder"]
    assert retried["userErrors"] == []
    assert retried["channelOrder"]["status"] == "PLACED"
    assert retried["channelOrder"]["orderId"]
    assert (await client.data(EXCEPTIONS))["channelExceptions"] == []
    assert [await reserved(client, sku) for sku in (*KNOWN, LATE)] == [1, 1, 1]
    again = (await client.data(RETRY, {"id": parked["id"]}))["retryChannelOrder"]
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_STATE"]

    # Shopify cancels it: the order is cancelled and its stock released.
    cancelled = {**order, "cancelled_at": "2008-01-10T12:00:00-05:00", "cancel_reason": "customer"}
    assert await shopify.deliver("orders/cancelled", cancelled, "wh-cancel") == 200

    async def released() -> bool:
        return [await reserved(client, sku) for sku in (*KNOWN, LATE)] == [0, 0, 0]

    await eventually(released)
    assert await shopify.deliver("refunds/create", published("refund"), "wh-refund") == 200
    assert await shopify.deliver("refunds/create", published("refund"), "wh-refund") == 200
    assert (await status(client))["refundsReceived"] == 1
