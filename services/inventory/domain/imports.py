"""Bulk imports from the back office: many SKUs, or many stock changes, read and checked whole
before any is applied, each refusal naming its row (`rows.<index>.<field>`) or its file line
(`csv.<line>.<column>`, the header is line 1). Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.inventory.domain.model import Sku, StockLevel
from services.kernel import bounds
from services.kernel.csv_files import csv_refusal, csv_rows
from services.kernel.errors import DomainError, ErrorCode

# Rows one import applies in one unit of work (a file larger than this is split by its sender,
# each part all or nothing).
MAX_IMPORT_ROWS = 50_000
STOCK_COLUMNS = ("sku", "location_code")
SKU_COLUMNS = ("code", "title", "unit_cost_cents", "weight_grams")
DEFAULT_REASON = "import"
# What `str.isspace` calls a space (the same characters, found without a loop in Python).
_WHITESPACE = re.compile(r"\s")


# Slots: an import holds tens of thousands of rows and changes at once, and each instance
# without a `__dict__` is one object less for the garbage collector to walk.
@dataclass(frozen=True, slots=True)
class StockImportRow:
    """One change of an import: a signed `delta` to on hand, or the `on_hand` to set (exactly
    one of them). `where` is the row's path in the request, for refusals."""

    sku: str
    location_code: str
    delta: int | None
    on_hand: int | None
    reason: str
    where: str


@dataclass(frozen=True, slots=True)
class StockChange:
    """A row as it applies to its level: the level before and the units on hand move by."""

    row: StockImportRow
    before: StockLevel
    delta: int


def require_stock_rows(rows: Sequence[StockImportRow]) -> list[StockImportRow]:
    """The rows with codes and reasons trimmed. INVALID_INPUT for no row, more than
    MAX_IMPORT_ROWS, a bad code or reason, or one level named twice (its second row);
    INVALID_QUANTITY for a row with neither or both of delta and on_hand, or out of range."""
    if not rows:
        raise DomainError(ErrorCode.INVALID_INPUT, "an import needs rows", "rows")
    bounds.require_count(rows, "rows", MAX_IMPORT_ROWS, "rows")
    first: dict[tuple[str, str], str] = {}
    checked = []
    for row in rows:
        sku = _code(row.sku, row.where, "sku")
        location = _code(row.location_code, row.where, "location_code")
        if (row.delta is None) == (row.on_hand is None):
            raise row_refusal(
                ErrorCode.INVALID_QUANTITY, row.where, "", "give either delta or on_hand"
            )
        if row.delta is not None and abs(row.delta) > bounds.MAX_LEVEL_UNITS:
            raise row_refusal(
                ErrorCode.INVALID_QUANTITY,
                row.where,
                "delta",
                f"within ±{bounds.MAX_LEVEL_UNITS}",
            )
        if row.on_hand is not None and not 0 <= row.on_hand <= bounds.MAX_LEVEL_UNITS:
            raise row_refusal(
                ErrorCode.INVALID_QUANTITY,
                row.where,
                "on_hand",
                f"within 0..{bounds.MAX_LEVEL_UNITS}",
            )
        reason = row.reason.strip() or DEFAULT_REASON
        if bounds.text_problem(reason, bounds.MAX_TEXT) is not None:
            raise row_refusal(ErrorCode.INVALID_INPUT, row.where, "reason", "not a reason")
        key = (sku, location)
        if key in first:
            raise row_refusal(
                ErrorCode.INVALID_INPUT,
                row.where,
                "sku",
                f"{sku} at {location} is imported by {first[key]} already",
            )
        first[key] = row.where
        if sku != row.sku or location != row.location_code or reason != row.reason:
            row = StockImportRow(sku, location, row.delta, row.on_hand, reason, row.where)
        checked.append(row)
    return checked


def stock_rows_from_csv(text: str) -> list[StockImportRow]:
    """The rows of a stock file: columns `sku`, `location_code`, and `delta` or `on_hand` (a
    row fills one of them), `reason` optional; other columns are ignored."""
    rows = []
    for line, cells in csv_rows(text, STOCK_COLUMNS, MAX_IMPORT_ROWS):
        where = f"csv.{line}"
        rows.append(
            StockImportRow(
                cells.get("sku", ""),
                cells.get("location_code", ""),
                _csv_int(cells, "delta", line),
                _csv_int(cells, "on_hand", line),
                cells.get("reason") or "",
                where,
            )
        )
    if not rows:
        raise DomainError(ErrorCode.INVALID_INPUT, "the file has no rows", "csv")
    return rows


def plan_stock_changes(
    rows: Iterable[StockImportRow], levels: Mapping[tuple[str, str], StockLevel]
) -> list[StockChange]:
    """Each row as a change to its level as it is now (a level not stored yet is at zero).

    On hand never goes below what is reserved (INSUFFICIENT_STOCK on the row) nor past what a
    level holds (INVALID_QUANTITY): the same invariants as one adjustment, checked for the whole
    import before any of it is written. A row that moves nothing is kept (delta 0)."""
    changes = []
    for row in rows:
        before = levels.get((row.sku, row.location_code)) or StockLevel(row.sku, row.location_code)
        target = before.on_hand + row.delta if row.delta is not None else row.on_hand or 0
        field = "delta" if row.delta is not None else "on_hand"
        if target > bounds.MAX_LEVEL_UNITS:
            raise row_refusal(
                ErrorCode.INVALID_QUANTITY, row.where, field, "more than a level holds"
            )
        if target < before.reserved:
            raise row_refusal(
                ErrorCode.INSUFFICIENT_STOCK,
                row.where,
                field,
                f"{before.reserved} of {row.sku} are reserved at {row.location_code}",
            )
        changes.append(StockChange(row, before, target - before.on_hand))
    return changes


def require_skus(skus: Sequence[tuple[str, Sku]]) -> list[Sku]:
    """SKUs of a bulk upsert, each with its path: codes and titles trimmed, costs and weights
    within range, no code twice. Made-to-order declarations stay as they are."""
    if not skus:
        raise DomainError(ErrorCode.INVALID_INPUT, "an import needs SKUs", "skus")
    bounds.require_count(skus, "skus", MAX_IMPORT_ROWS, "SKUs")
    first: dict[str, str] = {}
    checked = []
    for where, sku in skus:
        code = _code(sku.code, where, "code")
        title = sku.title.strip()
        if not title or bounds.text_problem(title, bounds.MAX_TEXT) is not None:
            raise row_refusal(ErrorCode.INVALID_INPUT, where, "title", "not a title")
        for name, value, most in (
            ("unit_cost_cents", sku.unit_cost_cents, bounds.MAX_CENTS),
            ("weight_grams", sku.weight_grams, bounds.INT32_MAX),
        ):
            if not 0 <= value <= most:
                raise row_refusal(ErrorCode.INVALID_INPUT, where, name, f"within 0..{most}")
        if code in first:
            raise row_refusal(
                ErrorCode.INVALID_INPUT, where, "code", f"{code} is imported by {first[code]}"
            )
        first[code] = where
        checked.append(Sku(code, title, sku.unit_cost_cents, sku.weight_grams, sku.serialized))
    return checked


def skus_from_csv(text: str) -> list[tuple[str, Sku]]:
    """The SKUs of a file: columns `code`, `title`, `unit_cost_cents`, `weight_grams`, and
    `serialized` (true/false, optional)."""
    skus = []
    for line, cells in csv_rows(text, SKU_COLUMNS, MAX_IMPORT_ROWS):
        serialized = (cells.get("serialized") or "false").strip().lower()
        if serialized not in ("true", "false", "1", "0", "yes", "no"):
            raise csv_refusal(line, "serialized", "not true or false")
        skus.append(
            (
                f"csv.{line}",
                Sku(
                    cells.get("code", ""),
                    cells.get("title", ""),
                    _csv_int(cells, "unit_cost_cents", line) or 0,
                    _csv_int(cells, "weight_grams", line) or 0,
                    serialized in ("true", "1", "yes"),
                ),
            )
        )
    if not skus:
        raise DomainError(ErrorCode.INVALID_INPUT, "the file has no rows", "csv")
    return skus


def _code(value: str, where: str, field: str) -> str:
    code = value.strip()
    if (
        not code
        or bounds.text_problem(code, bounds.MAX_CODE) is not None
        or _WHITESPACE.search(code) is not None
    ):
        raise row_refusal(ErrorCode.INVALID_INPUT, where, field, "not a code")
    return code


def _csv_int(cells: Mapping[str, str], column: str, line: int) -> int | None:
    text = (cells.get(column) or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise csv_refusal(line, column, "not a whole number") from None


def row_refusal(code: ErrorCode, where: str, field: str, why: str) -> DomainError:
    path = f"{where}.{field}" if field else where
    line = where.removeprefix("csv.") if where.startswith("csv.") else ""
    prefix = f"line {line}" if line else path
    return DomainError(code, f"{prefix}: {why}", path)


@dataclass(frozen=True)
class ImportOutcome:
    """What an import did: rows applied and levels whose on hand moved; `replayed` when an
    earlier import under the same key had done it."""

    rows: int
    levels_changed: int
    replayed: bool = False
