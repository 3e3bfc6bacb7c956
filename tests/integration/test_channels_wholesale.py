"""Wholesale purchase orders imported as a CSV file through the gateway's
`importWholesaleOrders` to the real channels, orders and inventory services (SQLite and
PostgreSQL, NATS, gRPC over sockets): one order per PO, shipped complete, all of a file or
nothing of it, and nothing placed twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from launcher.cli import main
from launcher.embedded_nats import EmbeddedNats
from oms.channels.v1.channels_pb2_grpc import ChannelsServiceStub
from oms.orders.v1 import orders_pb2 as opb
from services.channels.bootstrap import SERVICE as CHANNELS
from services.kernel.caller import Role
from tests.integration.conftest import InventoryUnderTest, OrdersUnderTest, eventually
from tests.integration.test_channels_shopify import LOCATIONS, STATUS, reserved
from tests.support.contract import operation
from tests.support.databases import database_url
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient
from tests.support.services import running_service
from tests.support.stock import seed

SKUS = ("CASE-OF-12", "PALLET-WRAP")
IMPORT = """
mutation Import($channel: String!, $csv: String!) {
  importWholesaleOrders(channel: $channel, csv: $csv) {
    imported { received alreadyImported orders { externalId status orderId problemCode problemField problem } }
    userErrors { field message code }
  }
}"""
HEADER = (
    "po_number,sku,quantity,unit_price,ship_to_name,ship_to_line1,ship_to_city,"
    "ship_to_postal_code,ship_to_country,email,requested_ship_date"
)
STORE = "Corner Store,1 Main St,Louisville,40202,US,buyer@corner.example"
FILE = "\n".join(
    (
        HEADER,
        f"PO-1001,CASE-OF-12,2,24.00,{STORE},2026-12-15",
        f"PO-1002,PALLET-WRAP,1,9.50,{STORE},",
        f"PO-1001,PALLET-WRAP,1,9.50,{STORE},2026-12-15",
    )
)


@dataclass
class Wholesale:
    client: GraphQLClient
    orders: OrdersUnderTest

    async def upload(self, csv: str) -> dict[str, Any]:
        answer = await self.client.data(IMPORT, {"channel": "wholesale-acme", "csv": csv})
        imported: dict[str, Any] = answer["importWholesaleOrders"]
        return imported

    async def received(self) -> int:
        status = await self.client.data(STATUS, {"code": "wholesale-acme"})
        received: int = status["channelStatus"]["ordersReceived"]
        return received


@pytest.fixture
async def wholesale(
    orders: OrdersUnderTest,
    inventory: InventoryUnderTest,
    nats_server: EmbeddedNats,
    backend: str,
    tmp_path: Path,
) -> AsyncIterator[Wholesale]:
    """The gateway over inventory, orders and channels; wholesale-acme connected, five of each
    SKU at each DC."""
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
                    stock = {(sku, at): 5 for sku in SKUS for at in LOCATIONS}
                    await seed(client, LOCATIONS, SKUS, stock)
                    connection = {"code": "wholesale-acme", "platform": "WHOLESALE"}
                    connected = await client.data(
                        operation("ConnectChannel"),
                        {"input": {**connection, "account": "acme-wholesale"}},
                    )
                    assert connected["connectChannel"]["userErrors"] == []
                    yield Wholesale(client, orders)


async def test_one_order_per_po_shipped_complete_and_a_second_import_places_nothing(
    wholesale: Wholesale,
) -> None:
    first = await wholesale.upload(FILE)
    assert first["userErrors"] == []
    imported = first["imported"]
    assert (imported["received"], imported["alreadyImported"]) == (2, 0)
    assert [o["externalId"] for o in imported["orders"]] == ["PO-1001", "PO-1002"]

    async def both_placed() -> bool:
        status = await wholesale.client.data(STATUS, {"code": "wholesale-acme"})
        return bool(status["channelStatus"]["ordersPlaced"] == 2)

    await eventually(both_placed, what="the two POs placed")
    again = (await wholesale.upload(FILE))["imported"]
    assert (again["received"], again["alreadyImported"]) == (0, 2)
    assert [o["status"] for o in again["orders"]] == ["PLACED", "PLACED"]
    po_1001 = await wholesale.orders.stub.GetOrder(
        opb.GetOrderRequest(id=again["orders"][0]["orderId"])
    )
    assert po_1001.split_policy == opb.SPLIT_POLICY_SHIP_COMPLETE
    assert sorted((x.sku, x.quantity) for x in po_1001.lines) == [
        ("CASE-OF-12", 2),
        ("PALLET-WRAP", 1),
    ]
    assert [await reserved(wholesale.client, sku) for sku in SKUS] == [2, 2]
    assert await wholesale.received() == 2


async def test_a_malformed_row_is_reported_by_line_and_nothing_of_the_file_applied(
    wholesale: Wholesale,
) -> None:
    broken = FILE.replace("PO-1001,PALLET-WRAP,1,", "PO-1001,PALLET-WRAP,one,")
    answer = await wholesale.upload(broken)
    assert answer["imported"] is None
    (error,) = answer["userErrors"]
    assert error["code"] == "INVALID_INPUT" and error["message"].startswith("line 4, quantity")
    assert await wholesale.received() == 0
    assert [await reserved(wholesale.client, sku) for sku in SKUS] == [0, 0]

    fixed = (await wholesale.upload(FILE))["imported"]
    assert fixed["received"] == 2


async def test_oms_import_orders_sends_a_file_and_says_what_it_did(
    wholesale: Wholesale,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good, bad = tmp_path / "po.csv", tmp_path / "bad.csv"
    good.write_text(FILE, encoding="utf-8-sig")  # as a spreadsheet saves it
    bad.write_text(FILE.replace(",9.50,", ",9.5.0,", 1))
    monkeypatch.setenv("OMS_TOKEN", wholesale.client.token(Role.BACKOFFICE))
    url = str(wholesale.client.base_url)

    def oms(*argv: str) -> Awaitable[int]:
        # In a thread: the command waits on the gateway this test's event loop serves.
        return asyncio.to_thread(main, ["import", "orders", *argv, "--gateway", url])

    assert await oms(str(bad), "--channel", "wholesale-acme") == 1
    assert "line 3, unit_price" in capsys.readouterr().err
    assert await wholesale.received() == 0
    assert await oms(str(good), "--channel", "wholesale-acme") == 0
    assert capsys.readouterr().out.startswith("2 new orders, 0 imported before")
    assert await oms(str(good), "--channel", "wholesale-acme") == 0
    assert capsys.readouterr().out.startswith("0 new orders, 2 imported before")
    assert await wholesale.received() == 2
