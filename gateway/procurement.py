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


TYPES = (
    PurchaseOrderStatus,
    SupplierInput,
    PurchaseOrderLineInput,
    CreatePurchaseOrderInput,
    ReceivedLineInput,
    ReceivePurchaseOrderInput,
)
