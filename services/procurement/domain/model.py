"""Procurement's nouns: suppliers, purchase orders and their lines, supplier invoices and their
discrepancies, and the replenishment plan's lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class PurchaseOrderStatus(StrEnum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    CANCELLED = "CANCELLED"


# Supply still to come: what counts as in transit.
OPEN_STATUSES = (PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED)


class InvoiceStatus(StrEnum):
    MATCHED = "MATCHED"
    ON_HOLD = "ON_HOLD"
    APPROVED = "APPROVED"


class DiscrepancyKind(StrEnum):
    PRICE = "PRICE"
    QUANTITY = "QUANTITY"
    NOT_ON_ORDER = "NOT_ON_ORDER"


@dataclass(frozen=True)
class Supplier:
    code: str
    name: str
    lead_time_days: int
    pack_size: int = 0
    skus: tuple[str, ...] = ()
    # Order to receipt, averaged over receipts; None without history.
    observed_lead_time_days: float | None = None
    observed_receipts: int = 0


@dataclass(frozen=True)
class NewSupplier:
    code: str
    name: str
    lead_time_days: int
    pack_size: int | None = None
    skus: tuple[str, ...] = ()
    replace_skus: bool = False


@dataclass(frozen=True)
class NewLine:
    sku: str
    quantity: int
    unit_cost_cents: int


@dataclass(frozen=True)
class NewPurchaseOrder:
    supplier_code: str
    location_code: str
    lines: tuple[NewLine, ...]


@dataclass(frozen=True)
class PurchaseOrderLine:
    sku: str
    quantity_ordered: int
    unit_cost_cents: int
    quantity_received: int = 0

    @property
    def open_quantity(self) -> int:
        return self.quantity_ordered - self.quantity_received


@dataclass(frozen=True)
class PurchaseOrder:
    id: str
    number: str
    status: PurchaseOrderStatus
    supplier: Supplier
    location_code: str
    lines: tuple[PurchaseOrderLine, ...]
    created_at: datetime
    opened_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class ReceivedLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Receipt:
    purchase_order_id: str
    lines: tuple[ReceivedLine, ...]
    idempotency_key: str = ""


@dataclass(frozen=True)
class InvoiceLine:
    sku: str
    quantity: int
    unit_cost_cents: int


@dataclass(frozen=True)
class NewInvoice:
    purchase_order_id: str
    invoice_number: str
    lines: tuple[InvoiceLine, ...]


@dataclass(frozen=True)
class Discrepancy:
    sku: str
    kind: DiscrepancyKind
    # In cents for PRICE, in units for QUANTITY and NOT_ON_ORDER.
    expected: int
    actual: int


@dataclass(frozen=True)
class SupplierInvoice:
    id: str
    invoice_number: str
    supplier_code: str
    purchase_order_id: str
    status: InvoiceStatus
    total_cents: int
    lines: tuple[InvoiceLine, ...]
    discrepancies: tuple[Discrepancy, ...]
    recorded_at: datetime
    approved_by: str = ""
    approved_at: datetime | None = None


@dataclass(frozen=True)
class ChosenLine:
    sku: str
    location_code: str
    quantity: int | None = None


@dataclass(frozen=True)
class Yields:
    """Units of a SKU seen at each stage of the returns pipeline, and how many came out
    sellable: the history the expected-returns weights learn from."""

    inspected: int = 0
    # Of the inspected units: restocked at once, and sent to the repair bench.
    restocked: int = 0
    refurbished: int = 0
    # Refurbishments finished, and those repaired rather than scrapped.
    repaired: int = 0
    repaired_sellable: int = 0


@dataclass(frozen=True)
class Position:
    """Where a SKU stands at a location, as inventory and procurement see it."""

    on_hand: int = 0
    reserved: int = 0
    in_transit: int = 0
    returns_requested: int = 0
    pending_inspection: int = 0
    in_repair: int = 0


@dataclass(frozen=True)
class PlanExplanation:
    daily_demand: float
    demand_std_dev: float
    demand_days: int
    lead_time_days: float
    lead_time_source: str
    service_level: float
    safety_stock: float
    target: int
    reserved: int
    returns_requested: int
    returns_pending_inspection: int
    returns_in_repair: int
    requested_sellable_share: float
    inspection_sellable_share: float
    repair_sellable_share: float
    pack_size: int
    formula: str


@dataclass(frozen=True)
class PlanLine:
    sku: str
    location_code: str
    on_hand: int
    in_transit: int
    expected_returns: int
    suggested_quantity: int
    supplier_code: str
    explanation: PlanExplanation = field(compare=False)
