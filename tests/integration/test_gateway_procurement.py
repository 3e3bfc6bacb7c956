"""The gateway's procurement over the real inventory and procurement services, on SQLite and
PostgreSQL: GraphQL over HTTP with the contract's own documents. Purchase orders in transit
and received (inventory consuming procurement's events), the refusals' codes and input paths,
a scanner at its own dock, invoices, drafts from the plan — and two scanners receiving one
purchase order at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc
import pytest

from launcher.embedded_nats import EmbeddedNats
from oms.procurement.v1 import procurement_pb2 as pb
from oms.procurement.v1.procurement_pb2_grpc import ProcurementServiceStub
from services.kernel.caller import Role
from services.kernel.errors import ErrorCode, from_rpc_error
from services.procurement.bootstrap import SERVICE as PROCUREMENT
from tests.integration.conftest import InventoryUnderTest, eventually
from tests.support.contract import operation
from tests.support.databases import database_url
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient
from tests.support.services import ServiceUnderTest, running_service
from tests.support.stock import levels, seed

if TYPE_CHECKING:
    from oms.procurement.v1.procurement_pb2_grpc import ProcurementServiceAsyncStub

ProcurementUnderTest: TypeAlias = "ServiceUnderTest[ProcurementServiceAsyncStub]"

LOCATIONS = {
    "DC-EAST": ("DISTRIBUTION_CENTER", 40.7, -74.0),
    "HUB-BER": ("RETURN_HUB", 52.50, 13.45),
}
CANCEL = """
mutation Cancel($id: ID!) {
  cancelPurchaseOrder(id: $id) { purchaseOrder { status } userErrors { field code } }
}"""
APPROVE = """
mutation Approve($id: ID!) {
  approveSupplierInvoice(id: $id) { invoice { status approvedBy } userErrors { field code } }
}"""
DRAFT = """
mutation Draft($input: DraftPurchaseOrdersInput!) {
  draftPurchaseOrders(input: $input) {
    purchaseOrders { id status supplier { code } lines { sku quantityOrdered } }
    userErrors { field code }
  }
}"""
SUPPLIER_OF = """
query SupplierOf($id: ID!) { purchaseOrder(id: $id) { supplier { observedLeadTimeDays } } }"""
OPEN = """
mutation Open($id: ID!) {
  openPurchaseOrder(id: $id) { purchaseOrder { status } userErrors { field code } }
}"""


@pytest.fixture
async def procurement(
    inventory: InventoryUnderTest, backend: str, nats_server: EmbeddedNats, tmp_path: Path
) -> AsyncIterator[ProcurementUnderTest]:
    """The procurement service, with its own database of the test's backend, calling
    `inventory`."""
    calls = {"inventory": inventory.target}
    with database_url(backend, tmp_path, "procurement") as url:
        async with running_service(
            PROCUREMENT, ProcurementServiceStub, url, nats_server.url, calls=calls
        ) as service:
            yield service


@pytest.fixture
async def gateway(
    inventory: InventoryUnderTest, procurement: ProcurementUnderTest, nats_server: EmbeddedNats
) -> AsyncIterator[GraphQLClient]:
    targets = {s.definition.name: s.target for s in (inventory, procurement)}
    async with serving_gateway(targets, nats_server.url, SIGNING_KEY) as url:
        async with GraphQLClient(url, SIGNING_KEY, scanner_location="DC-EAST") as gateway:
            await seed(gateway, LOCATIONS, ["TEE", "MUG"], {})
            supplier = {"code": "ACME", "name": "Acme", "leadTimeDays": 7, "skus": ["TEE"]}
            answer = await gateway.data(operation("UpsertSupplier"), {"input": supplier})
            assert answer["upsertSupplier"]["userErrors"] == []
            yield gateway


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def create(
    gateway: GraphQLClient, units: int = 100, where: str = "DC-EAST", supplier: str = "ACME"
) -> dict[str, Any]:
    variables = {
        "input": {
            "supplierCode": supplier,
            "locationCode": where,
            "lines": [{"sku": "TEE", "quantity": units, "unitCostCents": 500}],
        }
    }
    return dict(
        (await gateway.data(operation("CreatePurchaseOrder"), variables))["createPurchaseOrder"]
    )


async def receive(
    gateway: GraphQLClient,
    order_id: str,
    units: int,
    role: Role = Role.ADMIN,
    location: str | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    given: dict[str, Any] = {
        "purchaseOrderId": order_id,
        "lines": [{"sku": "TEE", "quantity": units}],
    }
    if key:
        given["idempotencyKey"] = key
    answer = await gateway.data(
        operation("ReceivePurchaseOrder"), {"input": given}, role, location=location
    )
    return dict(answer["receivePurchaseOrder"])


async def tee_at(gateway: GraphQLClient, where: str = "DC-EAST") -> tuple[int, int, int]:
    level = (await levels(gateway, "TEE")).get(where, {})
    return level.get("onHand", 0), level.get("available", 0), level.get("inTransit", 0)


async def shows(gateway: GraphQLClient, expected: tuple[int, int, int]) -> None:
    async def check() -> bool:
        return await tee_at(gateway) == expected

    await eventually(
        check, what=f"TEE at DC-EAST to be (on hand, available, in transit) {expected}"
    )


async def test_a_purchase_order_goes_from_in_transit_to_sellable_through_the_gateway(
    gateway: GraphQLClient,
) -> None:
    created = await create(gateway)
    assert created["userErrors"] == []
    order = created["purchaseOrder"]
    assert (order["number"][:3], order["status"], order["supplier"], order["location"]) == (
        "PO-",
        "OPEN",
        {"code": "ACME"},
        {"code": "DC-EAST"},
    )
    await shows(gateway, (0, 0, 100))

    partly = await receive(gateway, order["id"], 60, Role.SCANNER, key="dock-1")
    assert partly["purchaseOrder"]["status"] == "PARTIALLY_RECEIVED"
    again = await receive(gateway, order["id"], 60, Role.SCANNER, key="dock-1")
    assert again["purchaseOrder"]["lines"][0]["quantityReceived"] == 60
    await shows(gateway, (60, 60, 40))

    elsewhere = await receive(gateway, order["id"], 1, Role.SCANNER, location="HUB-BER")
    assert codes(elsewhere) == [("FORBIDDEN", "input.purchaseOrderId")]
    assert codes(await receive(gateway, order["id"], 41)) == [
        ("INVALID_QUANTITY", "input.lines.0.quantity")
    ]
    done = await receive(gateway, order["id"], 40)
    assert done["purchaseOrder"]["status"] == "RECEIVED"
    assert done["purchaseOrder"]["lines"] == [
        {"sku": "TEE", "quantityOrdered": 100, "quantityReceived": 100, "unitCostCents": 500}
    ]
    await shows(gateway, (100, 100, 0))
    seen = await gateway.data(SUPPLIER_OF, {"id": order["id"]})
    # Received within seconds of opening: an observed lead time of (about) no days.
    assert 0 <= seen["purchaseOrder"]["supplier"]["observedLeadTimeDays"] < 0.01
    assert codes(await receive(gateway, order["id"], 1)) == [
        ("INVALID_QUANTITY", "input.lines.0.quantity")
    ]


async def test_refusals_name_the_input_at_fault(gateway: GraphQLClient) -> None:
    assert codes(await create(gateway, 0)) == [("INVALID_QUANTITY", "input.lines.0.quantity")]
    assert codes(await create(gateway, where="NOWHERE")) == [("NOT_FOUND", "input.locationCode")]
    assert codes(await create(gateway, supplier="NOBODY")) == [("NOT_FOUND", "input.supplierCode")]
    assert codes(await receive(gateway, "no-such-order", 1)) == [
        ("NOT_FOUND", "input.purchaseOrderId")
    ]


async def test_cancelling_takes_the_open_units_off_in_transit(gateway: GraphQLClient) -> None:
    order = (await create(gateway, 50))["purchaseOrder"]
    await receive(gateway, order["id"], 20)
    cancelled = (await gateway.data(CANCEL, {"id": order["id"]}))["cancelPurchaseOrder"]
    assert cancelled["purchaseOrder"]["status"] == "CANCELLED"
    await shows(gateway, (20, 20, 0))


async def test_invoices_are_matched_three_ways_once_per_number(gateway: GraphQLClient) -> None:
    order = (await create(gateway, 100))["purchaseOrder"]
    await receive(gateway, order["id"], 100)

    async def record(number: str, units: int, cents: int) -> dict[str, Any]:
        variables = {
            "input": {
                "purchaseOrderId": order["id"],
                "invoiceNumber": number,
                "lines": [{"sku": "TEE", "quantity": units, "unitCostCents": cents}],
            }
        }
        answer = await gateway.data(operation("RecordSupplierInvoice"), variables)
        return dict(answer["recordSupplierInvoice"]["invoice"])

    matched = await record("INV-1", 100, 500)
    assert (matched["status"], matched["totalCents"], matched["discrepancies"]) == (
        "MATCHED",
        50_000,
        [],
    )
    priced = await record("INV-2", 100, 520)
    assert (priced["status"], priced["discrepancies"]) == (
        "ON_HOLD",
        [{"sku": "TEE", "kind": "PRICE", "expected": 500, "actual": 520}],
    )
    counted = await record("INV-3", 120, 500)
    assert counted["discrepancies"] == [
        {"sku": "TEE", "kind": "QUANTITY", "expected": 100, "actual": 120}
    ]
    assert await record("INV-1", 7, 7) == matched
    approved = (await gateway.data(APPROVE, {"id": counted["id"]}, Role.BACKOFFICE))[
        "approveSupplierInvoice"
    ]
    # The approver is the token's subject.
    assert approved["invoice"]["status"] == "APPROVED"
    assert approved["invoice"]["approvedBy"].startswith("backoffice")


async def test_plan_lines_become_drafts_and_a_sent_draft_is_in_transit(
    gateway: GraphQLClient,
) -> None:
    await gateway.data(
        """mutation { adjustStock(input: {sku: "TEE", locationCode: "DC-EAST", delta: 3,
        reason: "count"}) { userErrors { code } } }"""
    )
    plan = await gateway.data(operation("ReplenishmentPlan"), {"locationCode": "DC-EAST"})
    assert plan["replenishmentPlan"] == [
        {
            "sku": "TEE",
            "location": {"code": "DC-EAST"},
            "onHand": 3,
            "inTransit": 0,
            "expectedReturns": 0,
            "suggestedQuantity": 0,
        }
    ]
    chosen = {"input": {"lines": [{"sku": "TEE", "locationCode": "DC-EAST", "quantity": 12}]}}
    [draft] = (await gateway.data(DRAFT, chosen))["draftPurchaseOrders"]["purchaseOrders"]
    assert (draft["status"], draft["supplier"], draft["lines"]) == (
        "DRAFT",
        {"code": "ACME"},
        [{"sku": "TEE", "quantityOrdered": 12}],
    )
    sent = (await gateway.data(OPEN, {"id": draft["id"]}))["openPurchaseOrder"]
    assert sent["purchaseOrder"]["status"] == "OPEN"
    await shows(gateway, (3, 3, 12))


async def test_two_scanners_receiving_at_once_never_exceed_what_is_open(
    procurement: ProcurementUnderTest, gateway: GraphQLClient
) -> None:
    """Both ask for 60 of the 100 open units at the same moment, over and over: exactly one
    gets them each time (the purchase order's row is locked for the check and the write)."""
    for round_ in range(5):
        order = (await create(gateway, 100))["purchaseOrder"]
        request = pb.ReceivePurchaseOrderRequest(
            purchase_order_id=order["id"], lines=[pb.ReceivedLine(sku="TEE", quantity=60)]
        )
        results = await asyncio.gather(
            *(procurement.stub.ReceivePurchaseOrder(request) for _ in range(2)),
            return_exceptions=True,
        )
        received = [r for r in results if isinstance(r, pb.PurchaseOrder)]
        refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
        assert len(received) == 1, (round_, results)
        [error] = refused
        refusal = from_rpc_error(error)
        assert refusal is not None and refusal.code is ErrorCode.INVALID_QUANTITY
        stored = await procurement.stub.GetPurchaseOrder(
            pb.PurchaseOrderRequest(purchase_order_id=order["id"])
        )
        assert stored.lines[0].quantity_received == 60
    await shows(gateway, (300, 300, 200))
