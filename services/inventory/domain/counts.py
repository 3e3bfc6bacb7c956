"""Stock counts and drift: a location's count read and checked, compared SKU by SKU with our on
hand, and the rules that decide which difference holds a level back from sale and how an
operator's decision settles it. Pure: no I/O, so every rule is tested without a database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.inventory.domain.model import (
    CountLine,
    Discrepancy,
    DiscrepancyDecision,
    DiscrepancyStatus,
    DriftThreshold,
    StockCount,
)
from services.kernel import bounds
from services.kernel.csv_files import csv_refusal, csv_rows
from services.kernel.errors import DomainError, ErrorCode

# SKUs one count may list (a CSV file's rows; the gRPC and GraphQL edges bound lists tighter).
MAX_COUNT_LINES = 10_000
MAX_DISCREPANCIES_PAGE = 200
DEFAULT_DISCREPANCIES_PAGE = 50
CSV_COLUMNS = ("sku", "counted")


@dataclass(frozen=True)
class Compared:
    """One SKU of a count beside our on hand at the location when it was counted."""

    sku: str
    ours: int
    theirs: int

    @property
    def difference(self) -> int:
        return self.theirs - self.ours


def require_stock_count(count: StockCount) -> StockCount:
    """The count with its codes trimmed; INVALID_INPUT for a blank or overlong code, a SKU
    listed twice, a count outside 0..MAX_LEVEL_UNITS, more than MAX_COUNT_LINES lines, or no
    line at all in a count that is not `complete` (a complete count of nothing says the
    location is empty)."""
    location = bounds.require_code(count.location_code, "location_code", "location code")
    source = bounds.require_code(count.source, "source", "count source")
    bounds.require_count(count.lines, "lines", MAX_COUNT_LINES, "lines")
    if not count.lines and not count.complete:
        raise DomainError(ErrorCode.INVALID_INPUT, "a count needs lines", "lines")
    seen: set[str] = set()
    lines = []
    for index, line in enumerate(count.lines):
        sku = bounds.require_code(line.sku, f"lines.{index}.sku", "SKU code")
        if sku in seen:
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"{sku} is counted twice", f"lines.{index}.sku"
            )
        seen.add(sku)
        bounds.require_range(
            line.counted, f"lines.{index}.counted", "a count", 0, bounds.MAX_LEVEL_UNITS
        )
        lines.append(CountLine(sku, line.counted))
    return StockCount(location, source, tuple(lines), count.complete)


def count_lines_from_csv(text: str) -> tuple[CountLine, ...]:
    """The lines of a count file: a header row naming the columns `sku` and `counted` (in any
    order; other columns are ignored), then one row per SKU. The whole file is read before
    anything is applied: INVALID_INPUT on `csv.<line>.<column>` (the header is line 1) for the
    first row that cannot be read, a SKU listed twice, or a file out of bounds."""
    lines: list[CountLine] = []
    first_line: dict[str, int] = {}
    for line, row in csv_rows(text, CSV_COLUMNS, MAX_COUNT_LINES):
        sku = (row.get("sku") or "").strip()
        if bounds.text_problem(sku, bounds.MAX_CODE) or not sku or " " in sku:
            raise csv_refusal(line, "sku", "not a SKU code")
        if sku in first_line:
            raise csv_refusal(line, "sku", f"{sku} is counted on line {first_line[sku]} already")
        counted = (row.get("counted") or "").strip()
        if not counted.isdigit() or int(counted) > bounds.MAX_LEVEL_UNITS:
            raise csv_refusal(
                line, "counted", f"not a whole number from 0 to {bounds.MAX_LEVEL_UNITS}"
            )
        first_line[sku] = line
        lines.append(CountLine(sku, int(counted)))
    if not lines:
        raise DomainError(ErrorCode.INVALID_INPUT, "a file without counts", "csv")
    return tuple(lines)


def compared(count: StockCount, on_hand: Mapping[str, int]) -> list[Compared]:
    """Each SKU the count names beside our on hand (`on_hand` by SKU: the location's physical
    units, reserved ones included since they are still on the shelf; 0 for a SKU without a
    level there), by SKU. A `complete` count also compares every SKU of `on_hand` it leaves
    out, as counted 0: a full count of a node that does not list a SKU says it has none."""
    counted = {line.sku: line.counted for line in count.lines}
    if count.complete:
        counted = {sku: 0 for sku in on_hand} | counted
    return [Compared(sku, on_hand.get(sku, 0), counted[sku]) for sku in sorted(counted)]


def holds_back(ours: int, theirs: int, threshold: DriftThreshold) -> bool:
    """Whether a count this far from our on hand holds the level back from sale: a difference
    of at least `threshold.units` units, or of at least `threshold.percent` percent of our on
    hand (any difference from nothing on hand is beyond every percentage). A matching count
    never holds."""
    difference = abs(theirs - ours)
    if difference == 0:
        return False
    return difference >= threshold.units or difference * 100 >= threshold.percent * ours


def resolution(discrepancy: Discrepancy, decision: DiscrepancyDecision) -> DiscrepancyStatus:
    """The status an operator's decision gives an open discrepancy. The same decision again is
    no refusal (its status is answered, nothing changes); INVALID_STATE for a discrepancy
    already settled otherwise (decided the other way, or closed by a later count)."""
    wanted = {
        DiscrepancyDecision.ACCEPT: DiscrepancyStatus.ACCEPTED,
        DiscrepancyDecision.DISMISS: DiscrepancyStatus.DISMISSED,
    }[decision]
    if discrepancy.status in (DiscrepancyStatus.OPEN, wanted):
        return wanted
    raise DomainError(
        ErrorCode.INVALID_STATE,
        f"discrepancy {discrepancy.id} is {discrepancy.status.value.lower()} already",
        "id",
    )


def discrepancies_page(limit: int) -> int:
    """How many discrepancies one page holds: what was asked (0: the default), at most
    MAX_DISCREPANCIES_PAGE."""
    if limit == 0:
        return DEFAULT_DISCREPANCIES_PAGE
    return bounds.require_range(limit, "limit", "a page", 1, MAX_DISCREPANCIES_PAGE)


def value_of(difference: int, unit_cost_cents: int) -> int:
    return difference * unit_cost_cents


def require_decision(decision: DiscrepancyDecision | None) -> DiscrepancyDecision:
    if decision is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "a decision: ACCEPT or DISMISS", "decision")
    return decision
