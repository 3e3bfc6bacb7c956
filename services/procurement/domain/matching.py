"""The three-way match of a supplier invoice: each line against the purchase order's unit cost
and against the units received so far."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.kernel import bounds
from services.kernel.errors import DomainError, ErrorCode
from services.procurement.domain.model import (
    Discrepancy,
    DiscrepancyKind,
    InvoiceLine,
    InvoiceStatus,
    NewInvoice,
    PurchaseOrder,
)

MAX_INVOICE_NUMBER = 64
BASIS_POINTS = 10_000


@dataclass(frozen=True)
class Tolerance:
    """How far an invoice may stray and still be paid without a person looking.

    Both are zero unless an operator sets them: a three-way match pays "only for what was
    ordered and received, at the ordered price" (DOMAIN.md), so the default is exact.
    """

    # Of the purchase order's unit cost, in hundredths of a percent (100 = 1%).
    price_bps: int = 0
    # Units invoiced beyond those received.
    quantity_units: int = 0


def require_invoice(new: NewInvoice) -> NewInvoice:
    """An invoice as given: a number, 1..MAX_LINES lines with each SKU once, 1..MAX_UNITS units
    and a unit cost within 0..MAX_CENTS."""
    number = bounds.require_text(
        new.invoice_number, "invoice_number", "invoice number", MAX_INVOICE_NUMBER
    )
    bounds.require_count(new.lines, "lines", bounds.MAX_LINES, "lines")
    if not new.lines:
        raise DomainError(ErrorCode.INVALID_INPUT, "an invoice needs a line", "lines")
    checked: list[InvoiceLine] = []
    for index, line in enumerate(new.lines):
        sku = bounds.require_code(line.sku, f"lines.{index}.sku", "SKU code")
        if any(x.sku == sku for x in checked):
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"{sku} is named twice", f"lines.{index}.sku"
            )
        if not 1 <= line.quantity <= bounds.MAX_UNITS:
            raise DomainError(
                ErrorCode.INVALID_QUANTITY,
                f"quantity must be within 1..{bounds.MAX_UNITS}",
                f"lines.{index}.quantity",
            )
        bounds.require_range(
            line.unit_cost_cents, f"lines.{index}.unit_cost_cents", "unit cost", 0, bounds.MAX_CENTS
        )
        checked.append(InvoiceLine(sku, line.quantity, line.unit_cost_cents))
    return NewInvoice(new.purchase_order_id, number, tuple(checked))


def match(
    order: PurchaseOrder, lines: Sequence[InvoiceLine], tolerance: Tolerance
) -> tuple[InvoiceStatus, tuple[Discrepancy, ...]]:
    """MATCHED when every line is on the order, at its unit cost within `tolerance.price_bps`
    and for no more than the units received plus `tolerance.quantity_units`; else ON_HOLD with
    one discrepancy per difference, expected next to actual, in the invoice's line order.

    Invoicing fewer units than received is no discrepancy: a supplier may bill in parts.
    """
    on_order = {line.sku: line for line in order.lines}
    found: list[Discrepancy] = []
    for line in lines:
        ordered = on_order.get(line.sku)
        if ordered is None:
            found.append(Discrepancy(line.sku, DiscrepancyKind.NOT_ON_ORDER, 0, line.quantity))
            continue
        allowed = ordered.unit_cost_cents * tolerance.price_bps // BASIS_POINTS
        if abs(line.unit_cost_cents - ordered.unit_cost_cents) > allowed:
            found.append(
                Discrepancy(
                    line.sku, DiscrepancyKind.PRICE, ordered.unit_cost_cents, line.unit_cost_cents
                )
            )
        if line.quantity > ordered.quantity_received + tolerance.quantity_units:
            found.append(
                Discrepancy(
                    line.sku, DiscrepancyKind.QUANTITY, ordered.quantity_received, line.quantity
                )
            )
    status = InvoiceStatus.ON_HOLD if found else InvoiceStatus.MATCHED
    return status, tuple(found)


def total_cents(lines: Sequence[InvoiceLine]) -> int:
    return sum(line.quantity * line.unit_cost_cents for line in lines)
