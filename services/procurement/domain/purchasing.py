"""Purchase order rules: what a valid supplier, purchase order and receipt are, and what a
receipt does to an order's lines and status."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from services.kernel import bounds
from services.kernel.errors import DomainError, ErrorCode
from services.procurement.domain.model import (
    OPEN_STATUSES,
    NewLine,
    NewPurchaseOrder,
    NewSupplier,
    PurchaseOrder,
    PurchaseOrderStatus,
    Receipt,
    ReceivedLine,
)

# A quarter of a year: past it a declared lead time is more likely a typo than a supplier.
MAX_LEAD_TIME_DAYS = 365
MAX_PACK_SIZE = 10_000
NUMBER_PREFIX = "PO-"


def po_number(sequence: int) -> str:
    """The human number of the `sequence`th purchase order: PO-000042."""
    return f"{NUMBER_PREFIX}{sequence:06d}"


def require_supplier(new: NewSupplier) -> NewSupplier:
    """A supplier as given, trimmed and bounded: a code, a name, a lead time within
    0..MAX_LEAD_TIME_DAYS days, a pack size within 1..MAX_PACK_SIZE when given, SKUs once each."""
    code = bounds.require_code(new.code, "code", "supplier code")
    name = bounds.require_text(new.name, "name", "supplier name")
    lead = bounds.require_range(
        new.lead_time_days, "lead_time_days", "lead time in days", 0, MAX_LEAD_TIME_DAYS
    )
    if new.pack_size is not None:
        bounds.require_range(new.pack_size, "pack_size", "pack size", 1, MAX_PACK_SIZE)
    bounds.require_count(new.skus, "skus", bounds.MAX_CODES, "SKUs")
    skus = [bounds.require_code(sku, f"skus.{i}", "SKU code") for i, sku in enumerate(new.skus)]
    return dataclasses.replace(
        new, code=code, name=name, lead_time_days=lead, skus=tuple(dict.fromkeys(skus))
    )


def require_purchase_order(new: NewPurchaseOrder) -> NewPurchaseOrder:
    """A purchase order as given: a supplier, a location, 1..MAX_LINES lines with each SKU once,
    1..MAX_UNITS units and a unit cost within 0..MAX_CENTS."""
    supplier = bounds.require_code(new.supplier_code, "supplier_code", "supplier code")
    location = bounds.require_code(new.location_code, "location_code", "location code")
    return NewPurchaseOrder(supplier, location, require_lines(new.lines))


def require_lines(lines: Sequence[NewLine]) -> tuple[NewLine, ...]:
    bounds.require_count(lines, "lines", bounds.MAX_LINES, "lines")
    if not lines:
        raise DomainError(ErrorCode.INVALID_INPUT, "a purchase order needs a line", "lines")
    checked: list[NewLine] = []
    for index, line in enumerate(lines):
        sku = _sku(line.sku, index, [x.sku for x in checked])
        _units(line.quantity, f"lines.{index}.quantity")
        bounds.require_range(
            line.unit_cost_cents, f"lines.{index}.unit_cost_cents", "unit cost", 0, bounds.MAX_CENTS
        )
        checked.append(NewLine(sku, line.quantity, line.unit_cost_cents))
    return tuple(checked)


def require_receipt(receipt: Receipt) -> Receipt:
    """A receipt as scanned: 1..MAX_LINES lines, each SKU once, each 1..MAX_UNITS units."""
    bounds.require_count(receipt.lines, "lines", bounds.MAX_LINES, "lines")
    if not receipt.lines:
        raise DomainError(ErrorCode.INVALID_INPUT, "a receipt needs a line", "lines")
    key = bounds.require_text(
        receipt.idempotency_key,
        "idempotency_key",
        "idempotency key",
        bounds.MAX_KEY,
        required=False,
    )
    checked: list[ReceivedLine] = []
    for index, line in enumerate(receipt.lines):
        sku = _sku(line.sku, index, [x.sku for x in checked])
        _units(line.quantity, f"lines.{index}.quantity")
        checked.append(ReceivedLine(sku, line.quantity))
    return Receipt(receipt.purchase_order_id, tuple(checked), key)


def receive(order: PurchaseOrder, receipt: Receipt) -> PurchaseOrder:
    """The order after `receipt`: each line's received units raised, PARTIALLY_RECEIVED while
    any unit is still open, RECEIVED when none is.

    Invariant: no line ever has more received than ordered. A receipt naming a SKU the order
    does not hold is NOT_FOUND, one of more units than are still open INVALID_QUANTITY (the
    message says how many are open; a RECEIVED order has none), one of a draft or a cancelled
    order INVALID_STATE.
    """
    if order.status not in (*OPEN_STATUSES, PurchaseOrderStatus.RECEIVED):
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"purchase order {order.number} is {order.status.value}",
            "purchase_order_id",
        )
    by_sku = {line.sku: line for line in order.lines}
    for index, received in enumerate(receipt.lines):
        line = by_sku.get(received.sku)
        if line is None:
            raise DomainError(
                ErrorCode.NOT_FOUND,
                f"{received.sku} is not on purchase order {order.number}",
                f"lines.{index}.sku",
            )
        if received.quantity > line.open_quantity:
            raise DomainError(
                ErrorCode.INVALID_QUANTITY,
                f"{line.open_quantity} units of {received.sku} are still open",
                f"lines.{index}.quantity",
            )
        by_sku[received.sku] = dataclasses.replace(
            line, quantity_received=line.quantity_received + received.quantity
        )
    lines = tuple(by_sku[line.sku] for line in order.lines)
    done = all(line.open_quantity == 0 for line in lines)
    status = PurchaseOrderStatus.RECEIVED if done else PurchaseOrderStatus.PARTIALLY_RECEIVED
    return dataclasses.replace(order, lines=lines, status=status)


def require_cancellable(order: PurchaseOrder) -> None:
    """A draft or an order with units still open may be cancelled; a received one may not."""
    if order.status is PurchaseOrderStatus.RECEIVED:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"purchase order {order.number} is RECEIVED",
            "purchase_order_id",
        )


def _sku(value: str, index: int, seen: Sequence[str]) -> str:
    sku = bounds.require_code(value, f"lines.{index}.sku", "SKU code")
    if sku in seen:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{sku} is named twice", f"lines.{index}.sku")
    return sku


def _units(quantity: int, field: str) -> None:
    if not 1 <= quantity <= bounds.MAX_UNITS:
        raise DomainError(
            ErrorCode.INVALID_QUANTITY, f"quantity must be within 1..{bounds.MAX_UNITS}", field
        )
