"""Procurement types the back-office contract names; resolvers come with the service's RPCs."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class PurchaseOrderStatus(Enum):
    OPEN = "OPEN"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    CANCELLED = "CANCELLED"


@strawberry.input
class SupplierInput:
    code: str
    name: str
    lead_time_days: int


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


@strawberry.input
class ReceivedLineInput:
    sku: str
    quantity: int


@strawberry.input
class ReceivePurchaseOrderInput:
    purchase_order_id: strawberry.ID
    lines: list[ReceivedLineInput]


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


TYPES = (
    PurchaseOrderStatus,
    SupplierInput,
    PurchaseOrderLineInput,
    CreatePurchaseOrderInput,
    ReceivedLineInput,
    ReceivePurchaseOrderInput,
    InvoiceStatus,
    DiscrepancyKind,
    SupplierInvoiceLineInput,
    RecordSupplierInvoiceInput,
)
