"""Procurement output types and their conversion from the procurement service's messages."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.context import Context
from gateway.convert import reply
from gateway.inventory.types import Location
from gateway.mutations import Payload
from gateway.procurement.inputs import DiscrepancyKind, InvoiceStatus, PurchaseOrderStatus
from gateway.scalars import Int64
from oms.procurement.v1 import procurement_pb2 as pb

Info = strawberry.Info[Context, None]


async def _location(info: Info, code: str) -> Location:
    location = await info.context.loaders.locations.load(code)
    if location is None:
        raise LookupError(f"procurement refers to unknown location {code!r}")
    return Location.from_proto(location)


@strawberry.type
class Supplier:
    code: str
    name: str
    lead_time_days: int = strawberry.field(description="As the supplier declares it.")
    pack_size: int = strawberry.field(description="Units per case; 0: single units.")
    skus: list[str]
    observed_lead_time_days: float | None = strawberry.field(
        description="Opening to receipt, averaged over receipts; null without history."
    )

    @classmethod
    def from_proto(cls, found: pb.Supplier) -> Supplier:
        return reply(cls, found)


@strawberry.type
class PurchaseOrderLine:
    sku: str
    quantity_ordered: int
    quantity_received: int
    unit_cost_cents: Int64


@strawberry.type
class PurchaseOrder:
    id: strawberry.ID
    number: str
    status: PurchaseOrderStatus
    supplier: Supplier
    location_code: strawberry.Private[str]
    lines: list[PurchaseOrderLine]
    created_at: datetime
    opened_at: datetime | None

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await _location(info, self.location_code)

    @classmethod
    def from_proto(cls, found: pb.PurchaseOrder) -> PurchaseOrder:
        return reply(cls, found)


@strawberry.type
class Discrepancy:
    sku: str
    kind: DiscrepancyKind
    expected: Int64 = strawberry.field(description="Cents for PRICE, units otherwise.")
    actual: Int64


@strawberry.type
class SupplierInvoiceLine:
    sku: str
    quantity: int
    unit_cost_cents: Int64


@strawberry.type
class SupplierInvoice:
    id: strawberry.ID
    invoice_number: str
    supplier_code: str
    purchase_order_id: strawberry.ID
    status: InvoiceStatus
    total_cents: Int64
    lines: list[SupplierInvoiceLine]
    discrepancies: list[Discrepancy]
    recorded_at: datetime
    approved_by: str | None = strawberry.field(description="Who released it from hold.")
    approved_at: datetime | None

    @classmethod
    def from_proto(cls, found: pb.SupplierInvoice) -> SupplierInvoice:
        return reply(cls, found, approved_by=found.approved_by or None)


@strawberry.type(description="Every figure a plan line's suggestion came from.")
class PlanExplanation:
    daily_demand: float
    demand_std_dev: float
    demand_days: int
    lead_time_days: float
    lead_time_source: str = strawberry.field(description="OBSERVED, DECLARED or DEFAULT.")
    service_level: float
    safety_stock: float
    target: int = strawberry.field(description="Demand over the lead time plus safety stock.")
    reserved: int
    returns_requested: int
    returns_pending_inspection: int
    returns_in_repair: int
    requested_sellable_share: float
    inspection_sellable_share: float
    repair_sellable_share: float
    pack_size: int
    formula: str


@strawberry.type
class ReplenishmentLine:
    sku: str
    location_code: strawberry.Private[str]
    on_hand: int
    in_transit: int
    expected_returns: int = strawberry.field(
        description="Units requested for return, pending inspection or in repair, weighted by "
        "the share that comes back sellable."
    )
    suggested_quantity: int
    supplier_code: str | None = strawberry.field(description="Who the plan would buy from.")
    explanation: PlanExplanation

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await _location(info, self.location_code)

    @classmethod
    def from_proto(cls, found: pb.PlanLine) -> ReplenishmentLine:
        return reply(cls, found, supplier_code=found.supplier_code or None)


@strawberry.type
class SupplierPayload(Payload):
    supplier: Supplier | None = None


@strawberry.type
class PurchaseOrderPayload(Payload):
    purchase_order: PurchaseOrder | None = None


@strawberry.type
class PurchaseOrdersPayload(Payload):
    purchase_orders: list[PurchaseOrder] | None = None


@strawberry.type
class SupplierInvoicePayload(Payload):
    invoice: SupplierInvoice | None = None
