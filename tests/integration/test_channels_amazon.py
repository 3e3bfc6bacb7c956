"""Amazon orders polled from a fake Selling Partner API (tests/support/amazon_platform.py,
serving Amazon's published examples) by a real channels process, placed with real orders and
inventory processes (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from launcher.embedded_nats import EmbeddedNats
from launcher.ports import free_port
from oms.channels.v1 import channels_pb2 as cpb
from oms.channels.v1.channels_pb2_grpc import ChannelsServiceStub
from oms.inventory.v1 import inventory_pb2 as inv
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from services.channels.amazon_api import (
    MAX_TRIES,
    AmazonUnavailable,
    Credentials,
    SellingPartnerApi,
)
from tests.integration.conftest import eventually
from tests.support.amazon_platform import FIRST_NEXT_TOKEN, FakeAmazon, published
from tests.support.contract import operation
from tests.support.databases import database_url
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient
from tests.support.processes import ServiceProcess

if TYPE_CHECKING:
    from oms.channels.v1.channels_pb2_grpc import ChannelsServiceAsyncStub
    from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceAsyncStub

REFRESH_TOKEN = "Atzr|the-sellers-refresh-token"
# The published orders: one with an address on the first page, two without on the second.
ORDER_IDS = {"902-3159896-1390916", "902-1845936-5435065", "902-8745147-1934268"}


@dataclass
class Polling:
    amazon: FakeAmazon
    channels: ServiceProcess
    stub: ChannelsServiceAsyncStub
    inventory: InventoryServiceAsyncStub
    # Where the gateway finds each service.
    targets: dict[str, str]

    async def connect(self) -> None:
        """Connects amazon-us to the fake: polling starts."""
        await self.stub.ConnectChannel(
            cpb.ConnectChannelRequest(
                code="amazon-us",
                platform=cpb.CHANNEL_PLATFORM_AMAZON,
                account="A2SELLER0EXAMPLE",
                api_base_url=self.amazon.url,
                access_token=REFRESH_TOKEN,
                marketplace_id="ATVPDKIKX0DER",
                lwa_client_id="amzn1.application-oa2-client.test",
                lwa_client_secret="the-lwa-client-secret",
            )
        )

    async def exceptions(self) -> dict[str, cpb.ChannelOrder]:
        found = await self.stub.ListChannelExceptions(
            cpb.ListChannelExceptionsRequest(channel_code="amazon-us")
        )
        return {x.external_id: x for x in found.orders}

    async def received(self) -> int:
        request = cpb.GetChannelStatusRequest(code="amazon-us")
        status = await self.stub.GetChannelStatus(request, wait_for_ready=True)
        return status.orders_received


@pytest.fixture
async def polling(
    db_url: str, backend: str, nats_server: EmbeddedNats, tmp_path: Path
) -> AsyncIterator[Polling]:
    """Inventory (no SKUs), orders and channels processes and the fake; amazon-us is connected
    by each test, once it has set the fake up."""
    logs = tmp_path / "logs"
    ports = free_port(), free_port(), free_port()
    amazon = FakeAmazon(free_port(), REFRESH_TOKEN)
    await amazon.start()
    inventory = ServiceProcess(
        "inventory",
        {
            "OMS_NATS_URL": nats_server.url,
            "OMS_INVENTORY_DATABASE_URL": db_url,
            "OMS_INVENTORY_GRPC_LISTEN": f"127.0.0.1:{ports[0]}",
        },
        logs,
        ports[0],
    )
    with (
        database_url(backend, tmp_path, "orders") as orders_url,
        database_url(backend, tmp_path, "channels") as channels_url,
    ):
        orders = ServiceProcess(
            "orders",
            {
                "OMS_NATS_URL": nats_server.url,
                "OMS_ORDERS_DATABASE_URL": orders_url,
                "OMS_ORDERS_GRPC_LISTEN": f"127.0.0.1:{ports[1]}",
                "OMS_INVENTORY_GRPC_TARGET": inventory.target,
            },
            logs,
            ports[1],
        )
        channels = ServiceProcess(
            "channels",
            {
                "OMS_NATS_URL": nats_server.url,
                "OMS_CHANNELS_DATABASE_URL": channels_url,
                "OMS_CHANNELS_GRPC_LISTEN": f"127.0.0.1:{ports[2]}",
                "OMS_ORDERS_GRPC_TARGET": orders.target,
                "OMS_INVENTORY_GRPC_TARGET": inventory.target,
                "OMS_CHANNELS_AMAZON_POLL_SECONDS": "0.3",
            },
            logs,
            ports[2],
        )
        parts = (inventory, orders, channels)
        grpc_channel = channels.channel(deadline_seconds=30)
        inventory_channel = inventory.channel(deadline_seconds=30)
        try:
            for part in parts:
                part.start()
            for part in parts:
                await part.wait_serving()
            stub = ChannelsServiceStub(grpc_channel)
            targets = {
                "inventory": inventory.target,
                "orders": orders.target,
                "channels": channels.target,
            }
            yield Polling(amazon, channels, stub, InventoryServiceStub(inventory_channel), targets)
        finally:
            await grpc_channel.close()
            await inventory_channel.close()
            for part in reversed(parts):
                part.terminate()
            await amazon.stop()


async def test_orders_are_polled_page_by_page_and_once_each_across_a_restart(
    polling: Polling,
) -> None:
    await polling.connect()

    async def all_received() -> bool:
        return await polling.received() == 3

    await eventually(all_received, what="the three published orders recorded")
    first, second = polling.amazon.orders_queries[:2]
    assert "LastUpdatedAfter" in first and first["MarketplaceIds"] == "ATVPDKIKX0DER"
    assert second["NextToken"] == FIRST_NEXT_TOKEN

    polling.channels.terminate()
    asked_before = len(polling.amazon.orders_queries)
    polling.channels.start()
    await polling.channels.wait_serving()

    async def polled_again() -> bool:
        return len(polling.amazon.orders_queries) > asked_before

    await eventually(polled_again, what="a poll by the restarted process")
    restarted = polling.amazon.orders_queries[asked_before]
    # The watermark survived: the published orders are older than the first poll's look-back,
    # so it stayed where the first poll started (a fresh start would look back from now).
    assert restarted["LastUpdatedAfter"] == first["LastUpdatedAfter"]
    assert await polling.received() == 3
    assert sorted(polling.amazon.items_asked) == sorted(ORDER_IDS)


async def test_a_throttled_poll_backs_off_and_then_succeeds(polling: Polling) -> None:
    polling.amazon.throttle_next = 2
    await polling.connect()

    async def all_received() -> bool:
        return await polling.received() == 3

    await eventually(all_received, timeout=30, what="the orders recorded after the 429s")
    assert polling.amazon.throttled == 2


async def test_an_amazon_channel_connects_through_the_gateway_and_its_secrets_stay_hidden(
    polling: Polling, nats_server: EmbeddedNats
) -> None:
    secret = "the-lwa-client-secret-via-graphql"
    variables = {
        "input": {
            "code": "amazon-us",
            "platform": "AMAZON",
            "account": "A2SELLER0EXAMPLE",
            "apiBaseUrl": polling.amazon.url,
            "accessToken": REFRESH_TOKEN,
            "marketplaceId": "A1AM78C64UM0Y8",
            "lwaClientId": "amzn1.application-oa2-client.graphql",
            "lwaClientSecret": secret,
        }
    }
    everything = """mutation Connect($input: ConnectChannelInput!) {
      connectChannel(input: $input) {
        channel { code platform account apiBaseUrl hasWebhookSecret hasAccessToken connectedAt }
        userErrors { field message code }
      }
    }"""
    async with serving_gateway(polling.targets, nats_server.url, SIGNING_KEY) as url:
        async with GraphQLClient(url, SIGNING_KEY, timeout=20) as client:
            contract = await client.data(operation("ConnectChannel"), variables)
            assert contract["connectChannel"] == {
                "channel": {
                    "code": "amazon-us",
                    "platform": "AMAZON",
                    "account": "A2SELLER0EXAMPLE",
                },
                "userErrors": [],
            }
            answer = await client.post(everything, variables)
    assert answer["data"]["connectChannel"]["channel"]["hasAccessToken"] is True
    assert secret not in str(answer) and REFRESH_TOKEN not in str(answer)

    async def all_received() -> bool:
        return await polling.received() == 3

    await eventually(all_received, what="the orders polled with the credentials given")
    assert polling.amazon.orders_queries[0]["MarketplaceIds"] == "A1AM78C64UM0Y8"
    assert polling.amazon.lwa_clients[0] == ("amzn1.application-oa2-client.graphql", secret)


async def test_one_call_retries_through_429s_and_gives_up_after_its_tries() -> None:
    amazon = FakeAmazon(free_port(), REFRESH_TOKEN)
    await amazon.start()
    credentials = Credentials("amzn1.application-oa2-client.test", "secret", REFRESH_TOKEN)
    api = SellingPartnerApi(credentials, amazon.url, backoff_seconds=0.01)
    try:
        amazon.throttle_next = MAX_TRIES - 1
        page = await api.get_orders("ATVPDKIKX0DER", "2017-01-01T00:00:00Z", "")
        assert page == amazon.pages[""]
        assert amazon.throttled == MAX_TRIES - 1
        amazon.throttle_next = MAX_TRIES
        with pytest.raises(AmazonUnavailable, match="throttled"):
            await api.get_orders("ATVPDKIKX0DER", "2017-01-01T00:00:00Z", "")
    finally:
        await api.close()
        await amazon.stop()


async def test_the_access_token_is_refreshed_before_it_expires(polling: Polling) -> None:
    # Tokens that live 2 s: each is inside the refresh margin as soon as it is issued.
    polling.amazon.expires_in = 2
    await polling.connect()

    async def refreshed() -> bool:
        return polling.amazon.tokens_issued >= 3 and len(polling.amazon.orders_queries) >= 3

    await eventually(refreshed, timeout=30, what="polls with fresh tokens")
    assert polling.amazon.expired_refused == 0


async def test_an_unknown_sku_parks_the_polled_order_as_an_exception(polling: Polling) -> None:
    await polling.connect()

    async def the_addressed_order_parked() -> bool:
        return "902-3159896-1390916" in await polling.exceptions()

    await eventually(the_addressed_order_parked, what="the published order parked")
    addressed = (await polling.exceptions())["902-3159896-1390916"]
    assert addressed.problem_code == "NOT_FOUND"
    assert "sku" in addressed.problem_field


async def test_an_order_that_cannot_be_read_is_parked_and_the_others_are_placed(
    polling: Polling,
) -> None:
    """One page: two good orders around one whose item has no SellerSKU and one whose price is
    no amount. The good ones are placed, the bad ones parked with the reason, and the watermark
    moves past them all (the unreadable one is the latest)."""
    latest = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    good, no_sku, bad_price = (
        ("111-0000001-0000001", "111-0000003-0000003"),
        "111-0000002-0000002",
        "111-0000004-0000004",
    )
    published_order = published("get_orders.json")["payload"]["Orders"][0]
    times = {
        good[0]: latest - timedelta(minutes=3),
        no_sku: latest,
        bad_price: latest - timedelta(minutes=2),
        good[1]: latest - timedelta(minutes=1),
    }
    orders = [
        {**published_order, "AmazonOrderId": order_id, "LastUpdateDate": zulu(at)}
        for order_id, at in times.items()
    ]
    polling.amazon.pages = {"": {"payload": {"Orders": orders}}}
    item = published("get_order_items.json")["payload"]["OrderItems"][0]
    polling.amazon.items_of = {
        no_sku: {"payload": {"OrderItems": [{k: v for k, v in item.items() if k != "SellerSKU"}]}},
        bad_price: {"payload": {"OrderItems": [{**item, "ItemPrice": {"Amount": "12,99"}}]}},
    }
    await stock(polling.inventory, item["SellerSKU"])
    await polling.connect()

    async def both_parked() -> bool:
        return {no_sku, bad_price} <= set(await polling.exceptions())

    await eventually(both_parked, what="the two unreadable orders parked")
    parked = await polling.exceptions()
    assert set(parked) == {no_sku, bad_price}
    assert (parked[no_sku].problem_code, parked[no_sku].problem_field) == (
        "INVALID_INPUT",
        "OrderItems.0.SellerSKU",
    )
    assert parked[bad_price].problem_field == "OrderItems.0.ItemPrice"

    async def placed() -> bool:
        status = await polling.stub.GetChannelStatus(cpb.GetChannelStatusRequest(code="amazon-us"))
        return status.orders_placed == 2

    await eventually(placed, what="the two good orders placed")

    async def polled_from_the_watermark() -> bool:
        return any(q["LastUpdatedAfter"] == zulu(latest) for q in polling.amazon.orders_queries)

    await eventually(polled_from_the_watermark, what="a poll from past the unreadable order")
    assert await polling.received() == 4


def zulu(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def stock(inventory: InventoryServiceAsyncStub, sku: str) -> None:
    """Five units of `sku` at a DC near the published order's Canton, MI address."""
    await inventory.UpsertLocation(
        inv.UpsertLocationRequest(
            code="DC-DET", name="Detroit", kind=inv.LOCATION_KIND_DISTRIBUTION_CENTER,
            latitude=42.33, longitude=-83.05,
        )
    )  # fmt: skip
    await inventory.UpsertSku(
        inv.UpsertSkuRequest(code=sku, title=sku, unit_cost_cents=900, weight_grams=200)
    )
    await inventory.AdjustStock(
        inv.AdjustStockRequest(sku=sku, location_code="DC-DET", delta=5, reason="count")
    )
