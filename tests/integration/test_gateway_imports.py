"""Bulk imports through the gateway over the real inventory service, on SQLite and PostgreSQL:
`oms import skus` and `oms import stock` send CSV files, a file with a bad row changes nothing
and names the line, an import under a key applies once, and every moved level is published
(the availability model and the channels' push follow the events)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.availability import SETTLE_SECONDS
from launcher.embedded_nats import EmbeddedNats
from services.kernel.caller import Role
from tests.integration.conftest import InventoryUnderTest
from tests.integration.test_gateway_availability_model import Storefront, eventually
from tests.integration.test_gateway_stock_counts import cli_run
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.stock import levels, seed

IMPORT = """
mutation Import($input: ImportStockInput!) {
  importStock(input: $input) {
    stockImport { rows levelsChanged replayed }
    userErrors { field message code }
  }
}"""


@pytest.fixture
async def gateway(
    inventory: InventoryUnderTest, nats_server: EmbeddedNats
) -> AsyncIterator[Storefront]:
    targets = {"inventory": inventory.target}
    async with serving_gateway(targets, nats_server.url, SIGNING_KEY) as url:
        async with Storefront(url, SIGNING_KEY, timeout=30) as gateway:
            await seed(gateway, {"DC-1": ("DISTRIBUTION_CENTER", 52.5, 13.4)}, [], {})
            yield gateway


async def test_oms_import_skus_then_stock_from_files(
    gateway: Storefront, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"OMS_TOKEN": gateway.token(Role.BACKOFFICE)}
    skus = tmp_path / "skus.csv"
    skus.write_text(
        "code,title,unit_cost_cents,weight_grams\n"
        + "".join(f"S{i},Soap {i},100,50\n" for i in range(300))
    )
    args = ["import", "skus", str(skus), "--gateway", gateway.base_url]
    assert await asyncio.to_thread(cli_run, args, env) == 0
    assert "300 SKUs created, 0 updated" in capsys.readouterr().out

    bad = tmp_path / "bad.csv"
    bad.write_text("sku,location_code,delta\nS1,DC-1,5\nS2,DC-9,5\n")
    args = ["import", "stock", str(bad), "--gateway", gateway.base_url]
    assert await asyncio.to_thread(cli_run, args, env) == 1
    assert "line 3" in capsys.readouterr().err
    assert await levels(gateway, "S1") == {}

    stock = tmp_path / "stock.csv"
    stock.write_text(
        "sku,location_code,on_hand,reason\n"
        + "".join(f"S{i},DC-1,{i + 1},opening\n" for i in range(300))
    )
    args = ["import", "stock", str(stock), "--key", "opening", "--gateway", gateway.base_url]
    assert await asyncio.to_thread(cli_run, args, env) == 0
    assert "300 rows imported, 300 stock levels changed" in capsys.readouterr().out
    assert (await levels(gateway, "S299"))["DC-1"]["onHand"] == 300
    assert await asyncio.to_thread(cli_run, args, env) == 0
    assert "imported before under this key" in capsys.readouterr().out
    assert (await levels(gateway, "S299"))["DC-1"]["onHand"] == 300


async def test_imported_rows_refused_by_path_and_published_level_by_level(
    gateway: Storefront,
) -> None:
    await gateway.data(
        'mutation { upsertSkus(input: {skus: [{code: "A", title: "A"}, {code: "B", title: "B"}]}) { userErrors { code } } }'
    )
    opening = [{"sku": sku, "locationCode": "DC-1", "onHand": 1} for sku in "AB"]
    await gateway.data(IMPORT, {"input": {"rows": opening}})
    await asyncio.sleep(SETTLE_SECONDS)
    # The model loads A and B before the import: only the events can move them after.
    assert await gateway.available("A", "B") == {"A": 1, "B": 1}
    rows = [
        {"sku": "A", "locationCode": "DC-1", "delta": 4},
        {"sku": "B", "locationCode": "DC-1", "onHand": -1},
    ]
    refused = (await gateway.data(IMPORT, {"input": {"rows": rows}}))["importStock"]
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_QUANTITY", "input.rows.1.onHand")
    ]
    rows[1]["onHand"] = 9
    done = (await gateway.data(IMPORT, {"input": {"rows": rows}}))["importStock"]
    assert done == {
        "stockImport": {"rows": 2, "levelsChanged": 2, "replayed": False},
        "userErrors": [],
    }
    await asyncio.sleep(SETTLE_SECONDS)  # past reading its own writes from inventory
    wanted = {"A": 5, "B": 9}
    assert await eventually(lambda: gateway.available("A", "B"), wanted, 5) == wanted
