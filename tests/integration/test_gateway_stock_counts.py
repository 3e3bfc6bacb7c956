"""Stock drift through the gateway over the real inventory and orders services, on SQLite and
PostgreSQL: a 3PL's count of 0 where we hold 500 stops those units selling at once and lists
the difference with its value; accepting writes the COUNT adjustment, dismissing sells again;
a count file with a bad row applies nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from launcher.cli import main
from launcher.embedded_nats import EmbeddedNats
from oms.inventory.v1 import inventory_pb2 as pb
from services.kernel.caller import Role
from services.kernel.errors import ErrorCode
from tests.integration.conftest import InventoryUnderTest, OrdersUnderTest
from tests.integration.test_gateway_orders import order_input
from tests.support.contract import operation
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient
from tests.support.refusals import refusal
from tests.support.stock import levels, seed

# The 3PL is in Berlin, next to the customer; the DC in Lisbon holds a few units as well.
LOCATIONS = {
    "3PL-BER": ("THIRD_PARTY_WAREHOUSE", 52.50, 13.45),
    "DC-LIS": ("DISTRIBUTION_CENTER", 38.72, -9.14),
}
STOCK = {("CREAM", "3PL-BER"): 500, ("CREAM", "DC-LIS"): 5, ("SOAP", "3PL-BER"): 40}

DISCREPANCY = "id sku locationCode ours theirs difference valueCents source status holds"
SUBMIT = f"""
mutation Submit($input: StockCountInput!) {{
  submitStockCount(input: $input) {{
    reconciliation {{ compared matched closed discrepancies {{ {DISCREPANCY} }} }}
    userErrors {{ field message code }}
  }}
}}"""
IMPORT = f"""
mutation Import($location: String!, $csv: String!) {{
  importStockCount(locationCode: $location, csv: $csv) {{
    reconciliation {{ compared discrepancies {{ {DISCREPANCY} }} }}
    userErrors {{ field message code }}
  }}
}}"""
LIST = f"""
query Discrepancies($location: String, $status: DiscrepancyStatus) {{
  stockDiscrepancies(locationCode: $location, status: $status, first: 20) {{
    items {{ {DISCREPANCY} }} nextAfter
  }}
}}"""
RESOLVE = f"""
mutation Resolve($id: ID!, $decision: DiscrepancyDecision!) {{
  resolveStockDiscrepancy(id: $id, decision: $decision) {{
    discrepancy {{ {DISCREPANCY} }}
    userErrors {{ field message code }}
  }}
}}"""
AVAILABILITY = """
query Availability($skus: [String!]!) { availability(skus: $skus, channel: "web") { available } }
"""


class Gateway(GraphQLClient):
    async def count(self, *lines: tuple[str, int]) -> dict[str, Any]:
        variables = {
            "input": {
                "locationCode": "3PL-BER",
                "source": "SHIPBOB",
                "lines": [{"sku": sku, "counted": n} for sku, n in lines],
            }
        }
        submitted: dict[str, Any] = (await self.data(SUBMIT, variables))["submitStockCount"]
        return submitted

    async def available(self, sku: str) -> int:
        [found] = (await self.data(AVAILABILITY, {"skus": [sku]}))["availability"]
        units: int = found["available"]
        return units

    async def resolve(self, discrepancy_id: str, decision: str) -> dict[str, Any]:
        variables = {"id": discrepancy_id, "decision": decision}
        resolved: dict[str, Any] = (await self.data(RESOLVE, variables))["resolveStockDiscrepancy"]
        return resolved

    async def open_discrepancies(self) -> list[dict[str, Any]]:
        variables = {"location": "3PL-BER", "status": "OPEN"}
        found: list[dict[str, Any]] = (await self.data(LIST, variables))["stockDiscrepancies"][
            "items"
        ]
        return found

    async def place(self, external_id: str, units: int) -> dict[str, Any]:
        answer = await self.data(
            operation("PlaceOrder"), order_input(external_id, {"CREAM": units})
        )
        placed: dict[str, Any] = answer["placeOrder"]
        return placed


@pytest.fixture
async def gateway(
    orders: OrdersUnderTest, inventory: InventoryUnderTest, nats_server: EmbeddedNats
) -> AsyncIterator[Gateway]:
    targets = {"inventory": inventory.target, "orders": orders.service.target}
    async with serving_gateway(targets, nats_server.url, SIGNING_KEY) as url:
        async with Gateway(url, SIGNING_KEY, timeout=10) as gateway:
            await seed(gateway, LOCATIONS, ["CREAM", "SOAP"], STOCK)
            yield gateway


def shipped_from(placed: dict[str, Any]) -> list[str]:
    return [s["location"]["code"] for s in placed["order"]["shipments"]]


async def test_a_count_of_nothing_stops_500_units_selling_until_accepted(
    gateway: Gateway, inventory: InventoryUnderTest
) -> None:
    assert await gateway.available("CREAM") == 505

    submitted = await gateway.count(("CREAM", 0), ("SOAP", 40))

    assert submitted["userErrors"] == []
    done = submitted["reconciliation"]
    assert (done["compared"], done["matched"], done["closed"]) == (2, 1, 0)
    [found] = done["discrepancies"]
    assert {k: found[k] for k in ("sku", "ours", "theirs", "difference", "valueCents")} == {
        "sku": "CREAM",
        "ours": 500,
        "theirs": 0,
        "difference": -500,
        "valueCents": -400_000,
    }
    assert (found["holds"], found["status"], found["source"]) == (True, "OPEN", "SHIPBOB")
    # At once: only the DC's 5 units sell, and an order goes there rather than next door.
    assert await gateway.available("CREAM") == 5
    assert shipped_from(await gateway.place("w-1", 1)) == ["DC-LIS"]
    refused = await gateway.place("w-2", 10)
    assert refused["order"] is None
    assert [e["code"] for e in refused["userErrors"]] == ["INSUFFICIENT_STOCK"]
    assert [x["id"] for x in await gateway.open_discrepancies()] == [found["id"]]
    # Nor may anyone reserve there directly, as a racing placement would.
    line = pb.ReservationLine(sku="CREAM", location_code="3PL-BER", quantity=1)
    racing = inventory.stub.Reserve(pb.ReserveRequest(key="racer", lines=[line]))
    assert await refusal(racing) == (ErrorCode.INSUFFICIENT_STOCK, "lines.0.quantity")

    accepted = await gateway.resolve(found["id"], "ACCEPT")
    again = await gateway.resolve(found["id"], "ACCEPT")

    assert accepted["userErrors"] == again["userErrors"] == []
    assert accepted["discrepancy"]["status"] == again["discrepancy"]["status"] == "ACCEPTED"
    level = (await levels(gateway, "CREAM"))["3PL-BER"]
    assert (level["onHand"], level["available"]) == (0, 0)
    ledger = await inventory.stub.ListMovements(
        pb.ListMovementsRequest(sku="CREAM", location_code="3PL-BER")
    )
    counted = [(m.reason, m.on_hand_delta) for m in ledger.movements if m.reason == "COUNT"]
    assert counted == [("COUNT", -500)]
    assert await gateway.open_discrepancies() == []


async def test_held_units_are_not_consumed_by_a_work_order(
    gateway: Gateway, inventory: InventoryUnderTest
) -> None:
    """The node says it has none of the 500: a work order taking them as parts over gRPC is
    refused as well, with INVALID_STATE and why, and nothing leaves the level."""
    [found] = (await gateway.count(("CREAM", 0)))["reconciliation"]["discrepancies"]
    line = pb.ReservationLine(sku="CREAM", location_code="3PL-BER", quantity=2)
    consuming = inventory.stub.ConsumeStock(
        pb.ConsumeStockRequest(key="wo-1", lines=[line], reason="kit parts")
    )
    assert await refusal(consuming) == (ErrorCode.INVALID_STATE, "lines.0.quantity")
    assert (await levels(gateway, "CREAM"))["3PL-BER"]["onHand"] == 500

    await gateway.resolve(found["id"], "DISMISS")
    await inventory.stub.ConsumeStock(
        pb.ConsumeStockRequest(key="wo-1", lines=[line], reason="kit parts")
    )
    assert (await levels(gateway, "CREAM"))["3PL-BER"]["onHand"] == 498


async def test_dismissing_lets_the_units_sell_again(gateway: Gateway) -> None:
    [found] = (await gateway.count(("CREAM", 0)))["reconciliation"]["discrepancies"]
    assert await gateway.available("CREAM") == 5

    dismissed = await gateway.resolve(found["id"], "DISMISS")

    assert dismissed["discrepancy"]["status"] == "DISMISSED"
    assert await gateway.available("CREAM") == 505
    assert shipped_from(await gateway.place("w-3", 1)) == ["3PL-BER"]
    assert (await levels(gateway, "CREAM"))["3PL-BER"]["onHand"] == 500
    accepting = await gateway.resolve(found["id"], "ACCEPT")
    assert [(e["code"], e["field"]) for e in accepting["userErrors"]] == [("INVALID_STATE", "id")]


async def test_a_count_file_with_a_bad_row_applies_nothing(gateway: Gateway) -> None:
    bad = "sku,counted\nSOAP,12\nCREAM,lots\n"
    refused = (await gateway.data(IMPORT, {"location": "3PL-BER", "csv": bad}))["importStockCount"]
    assert refused["reconciliation"] is None
    [error] = refused["userErrors"]
    assert error["code"] == "INVALID_INPUT" and error["message"].startswith("line 3, counted")
    assert (await gateway.data(LIST, {}))["stockDiscrepancies"]["items"] == []
    assert await gateway.available("SOAP") == 40

    good = "sku,counted\nSOAP,12\nCREAM,500\n"
    imported = (await gateway.data(IMPORT, {"location": "3PL-BER", "csv": good}))[
        "importStockCount"
    ]
    assert imported["userErrors"] == []
    [found] = imported["reconciliation"]["discrepancies"]
    assert (found["sku"], found["difference"], found["source"]) == ("SOAP", -28, "COUNT_CSV")
    assert await gateway.available("SOAP") == 0


async def test_a_file_longer_than_any_other_text_reaches_the_inventory_service(
    gateway: Gateway,
) -> None:
    rows = "".join(f"UNKNOWN-SKU-{n:05d},1\n" for n in range(500))
    answer = await gateway.data(IMPORT, {"location": "3PL-BER", "csv": "sku,counted\n" + rows})
    [error] = answer["importStockCount"]["userErrors"]
    assert (error["code"], error["message"]) == ("NOT_FOUND", "unknown SKU 'UNKNOWN-SKU-00000'")


async def test_only_the_back_office_submits_counts(gateway: Gateway) -> None:
    variables = {"input": {"locationCode": "3PL-BER", "lines": [{"sku": "CREAM", "counted": 0}]}}
    answer = await gateway.post(SUBMIT, variables, Role.STOREFRONT, channels=("web",))
    assert answer["data"] is None
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["FORBIDDEN"]
    assert await gateway.available("CREAM") == 505


async def test_oms_import_counts_sends_a_file_and_lists_what_it_found(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"OMS_TOKEN": gateway.token(Role.BACKOFFICE)}
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,counted\nCREAM,0\nSOAP,-1\n")
    args = ["import", "counts", str(bad), "--location", "3PL-BER", "--gateway", gateway.base_url]
    assert await asyncio.to_thread(cli_run, args, env) == 1
    assert "line 3, counted" in capsys.readouterr().err
    assert await gateway.available("CREAM") == 505

    good = tmp_path / "count.csv"
    good.write_text("sku,counted\nCREAM,0\n")
    args[2] = str(good)
    assert await asyncio.to_thread(cli_run, [*args, "--complete"], env) == 0
    out = capsys.readouterr().out
    assert "2 SKUs compared, 0 as we hold them, 2 discrepancies" in out
    assert "CREAM\tours 500\ttheirs 0\t-500\t-4000.00\tholds" in out
    assert await gateway.available("CREAM") == 5
    assert await gateway.available("SOAP") == 0


def cli_run(args: list[str], env: dict[str, str]) -> int:
    """`oms ARGS` with these variables, as a shell would run it (the CLI reads os.environ)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return main(args)
