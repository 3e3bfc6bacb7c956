"""A real channels process is killed (SIGKILL) between recording a Shopify order and placing it,
and restarted: its worker places the order later, once (SQLite and PostgreSQL).

The crash lands at a known step, seen from outside: the orders process is frozen (SIGSTOP)
while the delivery asks it to place the order, so the order is recorded (the channel's status
counts it) and the placement unanswered when channels dies. Orders then thaws — the placement
sent before the crash may still arrive there — and the restarted channels process, quick to
take a PENDING order for left on its way, places it again: one order, one hold per unit."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest

from launcher.embedded_nats import EmbeddedNats
from launcher.ports import free_port
from oms.channels.v1 import channels_pb2 as cpb
from oms.channels.v1.channels_pb2_grpc import ChannelsServiceStub
from oms.inventory.v1 import inventory_pb2 as inv
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from oms.orders.v1 import orders_pb2 as opb
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from tests.integration.conftest import InventoryClient, OrdersClient, eventually
from tests.support.databases import database_url
from tests.support.processes import ServiceProcess

if TYPE_CHECKING:
    from oms.channels.v1.channels_pb2_grpc import ChannelsServiceAsyncStub

FIXTURES = Path(__file__).parents[1] / "fixtures" / "shopify"
SHOP = "brand.myshopify.com"
SECRET = "hush-its-the-app-client-secret"
KNOWN = ("IPOD2008GREEN", "IPOD2008RED")


def order_body() -> bytes:
    """Shopify's published example order, its known SKUs only, as an orders/create body."""
    order = json.loads((FIXTURES / "order.json").read_text())["order"]
    order["line_items"] = [x for x in order["line_items"] if x["sku"] in KNOWN]
    return json.dumps(order).encode()


def delivery(body: bytes) -> cpb.ShopifyWebhookRequest:
    """The delivery as the gateway passes Shopify's headers and raw body on."""
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
    return cpb.ShopifyWebhookRequest(
        topic="orders/create",
        shop_domain=SHOP,
        webhook_id="wh-1",
        hmac_sha256=signature.decode(),
        triggered_at=datetime.now(UTC).isoformat(),
        body=body,
    )


@dataclass
class Selling:
    inventory: ServiceProcess
    orders: ServiceProcess
    channels: ServiceProcess
    inventory_stub: InventoryClient
    orders_stub: OrdersClient
    channels_stub: ChannelsServiceAsyncStub

    async def status(self) -> cpb.ChannelStatus:
        request = cpb.GetChannelStatusRequest(code="shopify-us")
        return await self.channels_stub.GetChannelStatus(request, wait_for_ready=True)

    async def reserved(self, sku: str) -> int:
        levels = await self.inventory_stub.GetStockLevels(inv.GetStockLevelsRequest(skus=[sku]))
        return sum(level.reserved for level in levels.levels)


@pytest.fixture
async def selling(
    db_url: str, backend: str, nats_server: EmbeddedNats, tmp_path: Path
) -> AsyncIterator[Selling]:
    """Inventory, orders and channels processes, stocked and with shopify-us connected."""
    logs = tmp_path / "logs"
    ports = free_port(), free_port(), free_port()
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
            },
            logs,
            ports[2],
        )
        parts = (inventory, orders, channels)
        grpc_channels = [part.channel(deadline_seconds=30) for part in parts]
        try:
            for part in parts:
                part.start()
            for part in parts:
                await part.wait_serving()
            selling = Selling(
                *parts,
                InventoryServiceStub(grpc_channels[0]),
                OrdersServiceStub(grpc_channels[1]),
                ChannelsServiceStub(grpc_channels[2]),
            )
            await stock(selling.inventory_stub)
            await selling.channels_stub.ConnectChannel(
                cpb.ConnectChannelRequest(
                    code="shopify-us",
                    platform=cpb.CHANNEL_PLATFORM_SHOPIFY,
                    account=SHOP,
                    webhook_secret=SECRET,
                )
            )
            yield selling
        finally:
            orders.thaw()
            for grpc_channel in grpc_channels:
                await grpc_channel.close()
            for part in reversed(parts):
                part.terminate()


async def stock(inventory: InventoryClient) -> None:
    """Five of each known SKU at a DC near the example order's Louisville address."""
    await inventory.UpsertLocation(
        inv.UpsertLocationRequest(
            code="DC-LOU", name="Louisville", kind=inv.LOCATION_KIND_DISTRIBUTION_CENTER,
            latitude=38.25, longitude=-85.76,
        )
    )  # fmt: skip
    for sku in KNOWN:
        await inventory.UpsertSku(
            inv.UpsertSkuRequest(code=sku, title=sku, unit_cost_cents=9000, weight_grams=200)
        )
        await inventory.AdjustStock(
            inv.AdjustStockRequest(sku=sku, location_code="DC-LOU", delta=5, reason="count")
        )


async def test_an_order_recorded_before_a_crash_is_placed_by_the_restarted_worker_once(
    selling: Selling,
) -> None:
    selling.orders.freeze()
    call = asyncio.ensure_future(
        selling.channels_stub.ReceiveShopifyWebhook(delivery(order_body()))
    )

    async def recorded() -> bool:
        return (await selling.status()).orders_received == 1

    await eventually(recorded, what="the order recorded")
    assert not call.done(), "the placement is waiting on the frozen orders service"
    selling.channels.kill()
    with pytest.raises(grpc.aio.AioRpcError) as cut:
        await call
    assert cut.value.code() is grpc.StatusCode.UNAVAILABLE

    selling.orders.thaw()
    selling.channels.env["OMS_CHANNELS_RETRY_AFTER_SECONDS"] = "1"
    selling.channels.start()
    await selling.channels.wait_serving()

    async def placed() -> bool:
        return (await selling.status()).orders_placed == 1

    await eventually(placed, timeout=30, what="the order placed by the worker")
    status = await selling.status()
    assert (status.orders_received, status.exceptions_waiting) == (1, 0)
    listed = await selling.orders_stub.ListOrders(opb.ListOrdersRequest(first=10))
    assert [edge.order.external_id for edge in listed.edges] == ["450789469"]
    assert [await selling.reserved(sku) for sku in KNOWN] == [1, 1]
