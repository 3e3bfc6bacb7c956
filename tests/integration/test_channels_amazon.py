"""Amazon orders polled from a fake Selling Partner API (tests/support/amazon_platform.py,
serving Amazon's published examples) by a real channels process, placed with real orders and
inventory processes (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from launcher.embedded_nats import EmbeddedNats
from launcher.ports import free_port
from oms.channels.v1 import channels_pb2 as cpb
from oms.channels.v1.channels_pb2_grpc import ChannelsServiceStub
from tests.integration.conftest import eventually
from tests.support.amazon_platform import FIRST_NEXT_TOKEN, FakeAmazon
from tests.support.databases import database_url
from tests.support.processes import ServiceProcess

if TYPE_CHECKING:
    from oms.channels.v1.channels_pb2_grpc import ChannelsServiceAsyncStub

REFRESH_TOKEN = "Atzr|the-sellers-refresh-token"
# The published orders: one with an address on the first page, two without on the second.
ORDER_IDS = {"902-3159896-1390916", "902-1845936-5435065", "902-8745147-1934268"}


@dataclass
class Polling:
    amazon: FakeAmazon
    channels: ServiceProcess
    stub: ChannelsServiceAsyncStub

    async def received(self) -> int:
        request = cpb.GetChannelStatusRequest(code="amazon-us")
        status = await self.stub.GetChannelStatus(request, wait_for_ready=True)
        return status.orders_received


@pytest.fixture
async def polling(
    db_url: str, backend: str, nats_server: EmbeddedNats, tmp_path: Path
) -> AsyncIterator[Polling]:
    """Inventory (no SKUs), orders and channels processes, amazon-us connected to the fake."""
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
                "OMS_CHANNELS_AMAZON_POLL_SECONDS": "0.3",
            },
            logs,
            ports[2],
        )
        parts = (inventory, orders, channels)
        grpc_channel = channels.channel(deadline_seconds=30)
        try:
            for part in parts:
                part.start()
            for part in parts:
                await part.wait_serving()
            stub = ChannelsServiceStub(grpc_channel)
            await stub.ConnectChannel(
                cpb.ConnectChannelRequest(
                    code="amazon-us",
                    platform=cpb.CHANNEL_PLATFORM_AMAZON,
                    account="A2SELLER0EXAMPLE",
                    api_base_url=amazon.url,
                    access_token=REFRESH_TOKEN,
                    marketplace_id="ATVPDKIKX0DER",
                    lwa_client_id="amzn1.application-oa2-client.test",
                    lwa_client_secret="the-lwa-client-secret",
                )
            )
            yield Polling(amazon, channels, stub)
        finally:
            await grpc_channel.close()
            for part in reversed(parts):
                part.terminate()
            await amazon.stop()


async def test_orders_are_polled_page_by_page_and_once_each_across_a_restart(
    polling: Polling,
) -> None:
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

    async def all_received() -> bool:
        return await polling.received() == 3

    await eventually(all_received, timeout=30, what="the orders recorded after the 429s")
    assert polling.amazon.throttled == 2


async def test_the_access_token_is_refreshed_before_it_expires(polling: Polling) -> None:
    # Tokens that live 2 s: each is inside the refresh margin as soon as it is issued.
    polling.amazon.expires_in = 2

    async def refreshed() -> bool:
        return polling.amazon.tokens_issued >= 3 and len(polling.amazon.orders_queries) >= 3

    await eventually(refreshed, timeout=30, what="polls with fresh tokens")
    assert polling.amazon.expired_refused == 0


async def test_an_unknown_sku_parks_the_polled_order_as_an_exception(polling: Polling) -> None:
    async def parked() -> list[cpb.ChannelOrder]:
        found = await polling.stub.ListChannelExceptions(
            cpb.ListChannelExceptionsRequest(channel_code="amazon-us")
        )
        return list(found.orders)

    async def the_addressed_order_parked() -> bool:
        return any(x.external_id == "902-3159896-1390916" for x in await parked())

    await eventually(the_addressed_order_parked, what="the published order parked")
    addressed = next(x for x in await parked() if x.external_id == "902-3159896-1390916")
    assert addressed.problem_code == "NOT_FOUND"
    assert "sku" in addressed.problem_field
