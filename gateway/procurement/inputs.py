"""Procurement inputs and enums as the back-office contract names them (and the fields this
schema adds beyond it), and their requests."""

from __future__ import annotations

from enum import Enum

import strawberry

from gateway.convert import request
from oms.procurement.v1 import procurement_pb2 as pb


@strawberry.enum
class PurchaseOrderStatus(Enum):
    DRAFT = strawberry.enum_value(
        "DRAFT", description="Written from plan lines and not yet sent: nothing is in transit."
    )
    OPEN = "OPEN"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    CANCELLED = "CANCELLED"


@strawberry.input
class SupplierInput:
    code: str
    name: str
    lead_time_days: int
    pack_size: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Units per case: the replenishment plan rounds suggestions up to it.",
    )
    skus: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The SKUs it supplies (the plan buys them here); given, they replace the "
        "list, left out, it stays.",
    )

    def to_proto(self) -> pb.UpsertSupplierRequest:
        return request(pb.UpsertSupplierRequest, self, replace_skus=isinstance(self.skus, list))


@strawberry.input
class PurchaseOrderLineInput:
    sku: str
    quantity: int
    unit_cost_cents: int


@strawberry.input
class CreatePurchaseOrderInput:
    supplier_code: str
    location_code: str
    lines: list[PurchaseOrderLineInput]

    def to_proto(self) -> pb.CreatePurchaseOrderRequest:
        return request(pb.CreatePurchaseOrderRequest, self)


@strawberry.input
class ReceivedLineInput:
    sku: str
    quantity: int


@strawberry.input
class ReceivePurchaseOrderInput:
    purchase_order_id: strawberry.ID
    lines: list[ReceivedLineInput]
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The scan's own id: a receipt retried under it moves nothing twice.",
    )

    def to_proto(self) -> pb.ReceivePurchaseOrderRequest:
        return request(pb.ReceivePurchaseOrderRequest, self)


@strawberry.enum
class InvoiceStatus(Enum):
    MATCHED = strawberry.enum_value(
        "MATCHED",
        description="Every line agrees with the purchase order's price and the quantity "
        "received, within tolerance.",
    )
    ON_HOLD = strawberry.enum_value(
        "ON_HOLD",
        description="A price or quantity differs beyond tolerance; payment waits for a person.",
    )
    APPROVED = strawberry.enum_value(
        "APPROVED", description="A person released an ON_HOLD invoice for payment."
    )


@strawberry.enum
class DiscrepancyKind(Enum):
    PRICE = "PRICE"
    QUANTITY = "QUANTITY"
    NOT_ON_ORDER = "NOT_ON_ORDER"


@strawberry.input
class SupplierInvoiceLineInput:
    sku: str
    quantity: int
    unit_cost_cents: int


@strawberry.input
class RecordSupplierInvoiceInput:
    purchase_order_id: strawberry.ID
    invoice_number: str = strawberry.field(
        description="The supplier's own invoice number; recording the same number for the same "
        "supplier again returns the first invoice."
    )
    lines: list[SupplierInvoiceLineInput]

    def to_proto(self) -> pb.RecordSupplierInvoiceRequest:
        return request(pb.RecordSupplierInvoiceRequest, self)


@strawberry.input
class PlanLineChoice:
    sku: str
    location_code: str
    # None rather than UNSET: a nested input's fields reach the request as they are.
    quantity: int | None = strawberry.field(
        default=None, description="Left out: the plan's suggestion."
    )


@strawberry.input
class DraftPurchaseOrdersInput:
    lines: list[PlanLineChoice]

    def to_proto(self) -> pb.DraftPurchaseOrdersRequest:
        return request(pb.DraftPurchaseOrdersRequest, self)
