"""The gateway's work orders over the real inventory and work orders services, on SQLite and
PostgreSQL: GraphQL over HTTP with the contract's own documents. Who may work where, the
refusals' codes and input paths, cancelling, and the repair report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from launcher.embedded_nats import EmbeddedNats
from services.kernel.caller import Role
from tests.integration.conftest import InventoryUnderTest, WorkOrdersUnderTest, eventually
from tests.support.contract import operation
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient
from tests.support.stock import levels, seed

LOCATIONS = {
    "HUB-BER": ("RETURN_HUB", 52.50, 13.45),
    "HUB-MUC": ("RETURN_HUB", 48.14, 11.58),
}
CANCEL = """
mutation Cancel($id: ID!) {
  cancelWorkOrder(id: $id) { workOrder { status costCents } userErrors { field code } }
}"""
REPORT = """
query Report($locationCode: String) {
  repairReport(locationCode: $locationCode) {
    openWorkOrders valueInRepairCents
    locations { locationCode open { kind count } unitsInRepair completed }
  }
}"""


@pytest.fixture
async def gateway(
    inventory: InventoryUnderTest, workorders: WorkOrdersUnderTest, nats_server: EmbeddedNats
) -> AsyncIterator[GraphQLClient]:
    services = (inventory, workorders)
    targets = {s.definition.name: s.target for s in services}
    async with serving_gateway(targets, nats_server.url, SIGNING_KEY) as url:
        async with GraphQLClient(url, SIGNING_KEY, scanner_location="HUB-BER") as gateway:
            await seed(gateway, LOCATIONS, ["MUG", "KIT"], {("MUG", "HUB-BER"): 3})
            yield gateway


def engraving(quantity: int = 1, where: str = "HUB-BER") -> dict[str, Any]:
    return {
        "input": {
            "kind": "VALUE_ADD",
            "sku": "MUG",
            "quantity": quantity,
            "locationCode": where,
            "operations": ["ENGRAVE", "QC"],
        }
    }


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def create(gateway: GraphQLClient, variables: dict[str, Any]) -> dict[str, Any]:
    return dict((await gateway.data(operation("CreateWorkOrder"), variables))["createWorkOrder"])


async def complete(
    gateway: GraphQLClient, role: Role = Role.ADMIN, location: str | None = None, **given: Any
) -> dict[str, Any]:
    variables = {"input": {"laborMinutes": 5} | given}
    answer = await gateway.data(
        operation("CompleteWorkOrderOperation"), variables, role, location=location
    )
    return dict(answer["completeWorkOrderOperation"])


async def test_the_bench_works_through_the_gateway_and_a_scanner_at_its_own_hub_only(
    gateway: GraphQLClient,
) -> None:
    created = await create(gateway, engraving(2))
    assert created["userErrors"] == []
    work_order = created["workOrder"]
    assert (work_order["kind"], work_order["status"], work_order["location"]) == (
        "VALUE_ADD",
        "OPEN",
        {"code": "HUB-BER"},
    )
    assert (await levels(gateway, "MUG"))["HUB-BER"]["reserved"] == 2
    assert codes(await create(gateway, engraving(2))) == [
        ("INSUFFICIENT_STOCK", "input.components.0.quantity")
    ]
    assert codes(await create(gateway, engraving(0))) == [("INVALID_QUANTITY", "input.quantity")]
    assert codes(await create(gateway, engraving(1, "NOWHERE"))) == [
        ("NOT_FOUND", "input.locationCode")
    ]

    listed = operation("WorkOrders")
    mine = await gateway.data(listed, {}, Role.SCANNER)
    assert [w["id"] for w in mine["workOrders"]] == [work_order["id"]]
    theirs = await gateway.data(listed, {}, Role.SCANNER, location="HUB-MUC")
    assert theirs["workOrders"] == []
    elsewhere = await complete(
        gateway, Role.SCANNER, "HUB-MUC", workOrderId=work_order["id"], operation="ENGRAVE"
    )
    assert codes(elsewhere) == [("FORBIDDEN", "input.workOrderId")]
    assert codes(
        await complete(gateway, Role.SCANNER, workOrderId=work_order["id"], operation="QC")
    ) == [("INVALID_STATE", "input.operation")]
    assert codes(
        await complete(gateway, workOrderId=work_order["id"], operation="ENGRAVE", laborMinutes=-1)
    ) == [("INVALID_INPUT", "input.laborMinutes")]
    assert codes(
        await complete(
            gateway, workOrderId=work_order["id"], operation="ENGRAVE", result="x" * 2001
        )
    ) == [("INVALID_INPUT", "input.result")]

    engraved = await complete(
        gateway, Role.SCANNER, workOrderId=work_order["id"], operation="ENGRAVE"
    )
    assert engraved["userErrors"] == []
    assert [
        (o["name"], o["status"], o["laborMinutes"]) for o in engraved["workOrder"]["operations"]
    ] == [
        ("ENGRAVE", "DONE", 5),
        ("QC", "PENDING", 0),
    ]
    report = (await gateway.data(REPORT, {"locationCode": "HUB-BER"}))["repairReport"]
    assert report["openWorkOrders"] == 1
    assert report["locations"][0]["open"] == [{"kind": "VALUE_ADD", "count": 1}]
    qc = await complete(gateway, Role.SCANNER, workOrderId=work_order["id"], operation="QC")
    assert qc["workOrder"]["status"] == "COMPLETED"
    refused = (await gateway.data(CANCEL, {"id": work_order["id"]}))["cancelWorkOrder"]
    assert codes(refused) == [("INVALID_STATE", "id")]


async def test_cancelling_through_the_gateway_gives_the_blanks_back(gateway: GraphQLClient) -> None:
    work_order = (await create(gateway, engraving(3)))["workOrder"]
    cancelled = (await gateway.data(CANCEL, {"id": work_order["id"]}))["cancelWorkOrder"]
    assert cancelled == {"workOrder": {"status": "CANCELLED", "costCents": 2400}, "userErrors": []}

    async def released() -> bool:
        return bool((await levels(gateway, "MUG"))["HUB-BER"]["reserved"] == 0)

    await eventually(released, what="the blanks released")
    body = await gateway.post(CANCEL, {"id": work_order["id"]}, Role.SCANNER)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
