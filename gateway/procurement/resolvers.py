"""Procurement queries and mutations, each calling the procurement service once; the locations
they mention are batched through the request's loader.

The service decides what the caller may do (each call carries whom it is for): a scanner at a
location receives that location's purchase orders only.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

import strawberry

from gateway.context import Context
from gateway.errors import query_answer
from gateway.mutations import answer
from gateway.permissions import allow
from gateway.procurement.inputs import (
    CreatePurchaseOrderInput,
    DraftPurchaseOrdersInput,
    PurchaseOrderStatus,
    ReceivePurchaseOrderInput,
    RecordSupplierInvoiceInput,
    SupplierInput,
)
from gateway.procurement.types import (
    PurchaseOrder,
    PurchaseOrderPayload,
    PurchaseOrdersPayload,
    ReplenishmentLine,
    Supplier,
    SupplierInvoice,
    SupplierInvoicePayload,
    SupplierPayload,
)
from oms.procurement.v1 import procurement_pb2 as pb
from oms.procurement.v1.procurement_pb2_grpc import ProcurementServiceStub
from services.kernel.caller import Role
from services.kernel.proto_enums import enum_value

if TYPE_CHECKING:  # the asyncio stub's type exists for the type checker only
    from oms.procurement.v1.procurement_pb2_grpc import ProcurementServiceAsyncStub

Info = strawberry.Info[Context, None]

STAFF = (Role.BACKOFFICE, Role.ADMIN)
DOCK = (Role.SCANNER, *STAFF)
BY_ID = {"purchase_order_id": "id"}


def _procurement(info: Info) -> ProcurementServiceAsyncStub:
    return info.context.services[ProcurementServiceStub]


def _order(request_id: str) -> pb.PurchaseOrderRequest:
    return pb.PurchaseOrderRequest(purchase_order_id=request_id)


async def _answer_by_id(call: Awaitable[pb.PurchaseOrder]) -> PurchaseOrderPayload:
    """The payload of a mutation that names its purchase order by `id` alone."""
    return await answer(
        PurchaseOrderPayload,
        call,
        argument=None,
        paths=BY_ID,
        purchase_order=PurchaseOrder.from_proto,
    )


@strawberry.type
class ProcurementQuery:
    @strawberry.field(
        extensions=allow(*STAFF),
        description="What to buy per SKU and location (at one, or all): demand over the lead "
        "time plus safety stock, less on hand, in transit and the returns expected back "
        "sellable, plus reserved; each line explains its figures.",
    )
    async def replenishment_plan(
        self, info: Info, location_code: str | None = None
    ) -> list[ReplenishmentLine]:
        request = pb.ReplenishmentPlanRequest(location_code=location_code or "")
        plan = await query_answer(_procurement(info).GetReplenishmentPlan(request))
        return [ReplenishmentLine.from_proto(x) for x in plan.lines]

    @strawberry.field(
        extensions=allow(*DOCK),
        description="Not in the client contract. Purchase orders by status, locations and SKUs, "
        "oldest first; `openOnly` keeps the supply still to come. A scanner sees its own "
        "location's only.",
    )
    async def purchase_orders(
        self,
        info: Info,
        status: PurchaseOrderStatus | None = None,
        location_codes: list[str] | None = None,
        skus: list[str] | None = None,
        open_only: bool = False,
    ) -> list[PurchaseOrder]:
        request = pb.ListPurchaseOrdersRequest(
            location_codes=location_codes or [], skus=skus or [], open_only=open_only
        )
        if status is not None:
            request.status = enum_value(pb.PurchaseOrderStatus, status.value)
        found = await query_answer(_procurement(info).ListPurchaseOrders(request))
        return [PurchaseOrder.from_proto(x) for x in found.purchase_orders]

    @strawberry.field(extensions=allow(*DOCK), description="Not in the client contract.")
    async def purchase_order(self, info: Info, id: strawberry.ID) -> PurchaseOrder:
        found = await query_answer(_procurement(info).GetPurchaseOrder(_order(id)))
        return PurchaseOrder.from_proto(found)


@strawberry.type
class ProcurementMutation:
    @strawberry.mutation(
        extensions=allow(*STAFF), description="Creates or updates a supplier by code."
    )
    async def upsert_supplier(self, info: Info, input: SupplierInput) -> SupplierPayload:
        call = _procurement(info).UpsertSupplier(input.to_proto())
        return await answer(SupplierPayload, call, supplier=Supplier.from_proto)

    @strawberry.mutation(
        extensions=allow(*STAFF),
        description="Opens a purchase order (OPEN, numbered PO-...): its units count as "
        "inTransit at the location.",
    )
    async def create_purchase_order(
        self, info: Info, input: CreatePurchaseOrderInput
    ) -> PurchaseOrderPayload:
        call = _procurement(info).CreatePurchaseOrder(input.to_proto())
        return await answer(PurchaseOrderPayload, call, purchase_order=PurchaseOrder.from_proto)

    @strawberry.mutation(
        extensions=allow(*DOCK),
        description="Receives units: off inTransit, on hand and sellable at once "
        "(PARTIALLY_RECEIVED, then RECEIVED). More than is still open is INVALID_QUANTITY; a "
        "retry under the same idempotencyKey moves nothing. A scanner receives at its own "
        "location only (FORBIDDEN).",
    )
    async def receive_purchase_order(
        self, info: Info, input: ReceivePurchaseOrderInput
    ) -> PurchaseOrderPayload:
        call = _procurement(info).ReceivePurchaseOrder(input.to_proto())
        return await answer(PurchaseOrderPayload, call, purchase_order=PurchaseOrder.from_proto)

    @strawberry.mutation(
        extensions=allow(*STAFF),
        description="Not in the client contract. Sends a DRAFT purchase order: it becomes OPEN "
        "and its units inTransit.",
    )
    async def open_purchase_order(self, info: Info, id: strawberry.ID) -> PurchaseOrderPayload:
        call = _procurement(info).OpenPurchaseOrder(_order(id))
        return await _answer_by_id(call)

    @strawberry.mutation(
        extensions=allow(*STAFF),
        description="Not in the client contract. Cancels a draft or open purchase order: what "
        "was not received leaves inTransit. A RECEIVED one is INVALID_STATE.",
    )
    async def cancel_purchase_order(self, info: Info, id: strawberry.ID) -> PurchaseOrderPayload:
        call = _procurement(info).CancelPurchaseOrder(_order(id))
        return await _answer_by_id(call)

    @strawberry.mutation(
        extensions=allow(*STAFF),
        description="Records a supplier invoice matched three ways: MATCHED, or ON_HOLD with a "
        "discrepancy per difference. The same number from the same supplier returns the first.",
    )
    async def record_supplier_invoice(
        self, info: Info, input: RecordSupplierInvoiceInput
    ) -> SupplierInvoicePayload:
        call = _procurement(info).RecordSupplierInvoice(input.to_proto())
        return await answer(SupplierInvoicePayload, call, invoice=SupplierInvoice.from_proto)

    @strawberry.mutation(
        extensions=allow(*STAFF),
        description="Not in the client contract. Releases an ON_HOLD invoice for payment, "
        "recording who approved it; a MATCHED one is INVALID_STATE.",
    )
    async def approve_supplier_invoice(
        self, info: Info, id: strawberry.ID
    ) -> SupplierInvoicePayload:
        call = _procurement(info).ApproveSupplierInvoice(
            pb.ApproveSupplierInvoiceRequest(invoice_id=id)
        )
        return await answer(
            SupplierInvoicePayload,
            call,
            argument=None,
            paths={"invoice_id": "id"},
            invoice=SupplierInvoice.from_proto,
        )

    @strawberry.mutation(
        extensions=allow(*STAFF),
        description="Not in the client contract. Turns chosen replenishment plan lines into "
        "DRAFT purchase orders, one per supplier and location, at the catalogue's unit cost.",
    )
    async def draft_purchase_orders(
        self, info: Info, input: DraftPurchaseOrdersInput
    ) -> PurchaseOrdersPayload:
        call = _procurement(info).DraftPurchaseOrders(input.to_proto())
        return await answer(
            PurchaseOrdersPayload,
            call,
            purchase_orders=lambda found: [
                PurchaseOrder.from_proto(x) for x in found.purchase_orders
            ],
        )
