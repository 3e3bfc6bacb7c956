"""A wholesale customer's purchase orders as a CSV file, in our terms: one order per PO number,
shipped complete unless a row says otherwise. Pure: the whole file is read before anything is
applied, and one row that cannot be read refuses the file, naming its line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from services.channels.domain.model import Line, MappedOrder, ShipTo
from services.kernel import bounds
from services.kernel.csv_files import csv_refusal, csv_rows
from services.kernel.errors import DomainError, ErrorCode

MAX_ROWS = 10_000
MAX_ORDERS = 1_000
# The orders service asks every order for an email: here, the buyer's at the customer.
REQUIRED = (
    "po_number",
    "sku",
    "quantity",
    "unit_price",
    "email",
    "ship_to_postal_code",
    "ship_to_country",
)
OPTIONAL = ("ship_to_name", "ship_to_line1", "ship_to_city", "requested_ship_date", "ship_complete")
# What every row of one PO must repeat alike: they describe the order, not the line.
ORDER_COLUMNS = (
    "email",
    "requested_ship_date",
    "ship_complete",
    "ship_to_name",
    "ship_to_line1",
    "ship_to_city",
    "ship_to_postal_code",
    "ship_to_country",
)
# Longest value per column; a SKU or PO number is a code like any other.
LONGEST = {"email": 320, "ship_to_postal_code": 20, "ship_to_country": 2, "ship_to_city": 100}


def wholesale_orders(text: str) -> list[MappedOrder]:
    """The orders of a CSV file with a header row (columns in any order, REQUIRED present),
    in the order their PO numbers first appear. INVALID_INPUT naming the line (the header is
    line 1) for the first row that cannot be read, or for a file out of bounds."""
    rows: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, row in csv_rows(text, REQUIRED, MAX_ROWS):
        rows.setdefault(_cell(row, "po_number", line), []).append((line, row))
        if len(rows) > MAX_ORDERS:
            raise csv_refusal(line, "po_number", f"more than {MAX_ORDERS} purchase orders")
    if not rows:
        raise DomainError(ErrorCode.INVALID_INPUT, "a file without orders", "csv")
    return [_order(po, po_rows) for po, po_rows in rows.items()]


def _requested_ship_date(order_rows: list[tuple[int, dict[str, str]]]) -> date | None:
    line, row = order_rows[0]
    given = _cell(row, "requested_ship_date", line, required=False)
    try:
        return date.fromisoformat(given) if given else None
    except ValueError:
        raise csv_refusal(line, "requested_ship_date", "not a date (YYYY-MM-DD)") from None


def _order(po: str, rows: list[tuple[int, dict[str, str]]]) -> MappedOrder:
    first_line, first = rows[0]
    for line, row in rows[1:]:
        for column in ORDER_COLUMNS:
            if row.get(column, "").strip() != first.get(column, "").strip():
                raise csv_refusal(line, column, f"differs from line {first_line}, same PO {po}")
    if len(rows) > bounds.MAX_LINES:
        raise csv_refusal(rows[-1][0], "sku", f"more than {bounds.MAX_LINES} lines in PO {po}")
    lines = [_line(line, row) for line, row in rows]
    seen: set[str] = set()
    for (line, _), order_line in zip(rows, lines, strict=True):
        if order_line.sku in seen:
            raise csv_refusal(line, "sku", f"{order_line.sku} twice in PO {po}")
        seen.add(order_line.sku)
    ship_to = ShipTo(
        name=_cell(first, "ship_to_name", first_line, required=False),
        line1=_cell(first, "ship_to_line1", first_line, required=False),
        city=_cell(first, "ship_to_city", first_line, required=False),
        postal_code=_cell(first, "ship_to_postal_code", first_line),
        country=_cell(first, "ship_to_country", first_line).upper(),
    )
    return MappedOrder(
        po,
        _cell(first, "email", first_line),
        ship_to,
        tuple(lines),
        ship_complete=_ship_complete(first_line, first),
        requested_ship_date=_requested_ship_date(rows),
    )


def _line(line: int, row: dict[str, str]) -> Line:
    sku = _cell(row, "sku", line)
    quantity = _cell(row, "quantity", line)
    if not quantity.isdigit() or not 1 <= int(quantity) <= bounds.MAX_UNITS:
        raise csv_refusal(line, "quantity", f"not a whole number from 1 to {bounds.MAX_UNITS}")
    try:
        price = Decimal(_cell(row, "unit_price", line))
    except InvalidOperation:
        raise csv_refusal(line, "unit_price", "not a decimal amount") from None
    if (
        not price.is_finite()
        or not 0 <= price * 100 <= bounds.MAX_CENTS
        or price != round(price, 2)
    ):
        raise csv_refusal(line, "unit_price", "not an amount in cents within range")
    return Line(sku, int(quantity), int(price * 100))


def _ship_complete(line: int, row: dict[str, str]) -> bool:
    given = _cell(row, "ship_complete", line, required=False).lower()
    if given not in ("", "yes", "no"):
        raise csv_refusal(line, "ship_complete", "not yes or no")
    return given != "no"


def _cell(row: dict[str, str], column: str, line: int, required: bool = True) -> str:
    value = (row.get(column) or "").strip()
    if required and not value:
        raise csv_refusal(line, column, "empty")
    if len(value) > LONGEST.get(column, 200 if column.startswith("ship_to_") else 64):
        raise csv_refusal(line, column, "too long")
    return value
