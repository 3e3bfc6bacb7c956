"""Inventory rules: input validation, what a location can do, levels, availability, reservations.

Invariants every stock level keeps (the store enforces them atomically, these functions state
them): each state is never negative, and reserved never exceeds on hand, so available
(on hand - reserved) is never negative.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from services.inventory.domain.model import (
    LocationKind,
    ReservationLine,
    ReservationStatus,
    StockDelta,
    StockLevel,
)
from services.kernel.errors import DomainError, ErrorCode

MAX_CODE_LENGTH = 64
MAX_TEXT_LENGTH = 200


def require_code(value: str, field: str, what: str) -> str:
    """A business code: trimmed, non-empty, no whitespace inside, bounded length."""
    code = value.strip()
    if not code or any(ch.isspace() for ch in code) or len(code) > MAX_CODE_LENGTH:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"{what} must be 1-{MAX_CODE_LENGTH} characters without spaces",
            field,
        )
    return code


def require_text(value: str, field: str, what: str) -> str:
    text = value.strip()
    if not text or len(text) > MAX_TEXT_LENGTH:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"{what} must be 1-{MAX_TEXT_LENGTH} characters", field
        )
    return text


def require_coordinates(latitude: float, longitude: float) -> None:
    if not -90.0 <= latitude <= 90.0:
        raise DomainError(ErrorCode.INVALID_INPUT, "latitude must be within -90..90", "latitude")
    if not -180.0 <= longitude <= 180.0:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "longitude must be within -180..180", "longitude"
        )


def require_non_negative(value: int, field: str, what: str) -> None:
    if value < 0:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{what} cannot be negative", field)


def default_capabilities(kind: LocationKind) -> tuple[bool, bool]:
    """(ships orders, accepts returns) for a kind, when the operator says nothing.

    Every kind may ship: a unit at a hub or store near the customer is the cheapest to send.
    Third-party warehouses usually take no returns (their contracts price them separately).
    """
    return True, kind is not LocationKind.THIRD_PARTY_WAREHOUSE


def require_adjustment(delta: int, reason: str) -> str:
    if delta == 0:
        raise DomainError(ErrorCode.INVALID_QUANTITY, "delta must not be zero", "delta")
    return require_text(reason, "reason", "reason")


def apply_delta(level: StockLevel, delta: StockDelta) -> StockLevel:
    return StockLevel(
        sku=level.sku,
        location_code=level.location_code,
        on_hand=level.on_hand + delta.on_hand,
        reserved=level.reserved + delta.reserved,
        in_transit=level.in_transit + delta.in_transit,
        pending_inspection=level.pending_inspection + delta.pending_inspection,
        in_repair=level.in_repair + delta.in_repair,
    )


def is_consistent(level: StockLevel) -> bool:
    """The invariant: no state below zero and no more reserved than on hand."""
    return (
        min(
            level.on_hand,
            level.reserved,
            level.in_transit,
            level.pending_inspection,
            level.in_repair,
        )
        >= 0
        and level.reserved <= level.on_hand
    )


def levels_from_ledger(
    movements: Iterable[tuple[str, str, StockDelta]],
) -> dict[tuple[str, str], StockLevel]:
    """Rebuilds every level by replaying ledger rows (sku, location, delta) in order."""
    levels: dict[tuple[str, str], StockLevel] = {}
    for sku, location_code, delta in movements:
        key = (sku, location_code)
        levels[key] = apply_delta(levels.get(key, StockLevel(sku, location_code)), delta)
    return levels


def channel_availability(
    skus: Sequence[str],
    sellable_by_sku: Mapping[str, int],
    safety_stock_by_sku: Mapping[str, int],
    default_safety_stock: int,
) -> list[tuple[str, int]]:
    """Units a channel may promise per SKU: sellable units less safety stock, never below 0.

    `sellable_by_sku` sums `available` over the locations that ship orders.
    """
    result = []
    for sku in skus:
        held_back = safety_stock_by_sku.get(sku, default_safety_stock)
        result.append((sku, max(0, sellable_by_sku.get(sku, 0) - held_back)))
    return result


def normalize_reservation_lines(lines: Sequence[ReservationLine]) -> list[ReservationLine]:
    """Validates lines, merges repeats, and sorts them into the fixed lock order.

    Taking row locks in one global order (SKU, then location) means two reservations that
    touch the same levels can never wait on each other in a cycle.
    """
    if not lines:
        raise DomainError(ErrorCode.INVALID_QUANTITY, "a reservation needs lines", "lines")
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for index, line in enumerate(lines):
        if line.quantity < 1:
            raise DomainError(
                ErrorCode.INVALID_QUANTITY, "quantity must be at least 1", f"lines.{index}.quantity"
            )
        merged[(line.sku, line.location_code)] += line.quantity
    return [ReservationLine(sku, loc, qty) for (sku, loc), qty in sorted(merged.items())]


def reservation_status(held: int, committed: int, released: int) -> ReservationStatus:
    """The status of a reservation from how many of its lines are in each state."""
    if held and committed:
        return ReservationStatus.PARTIALLY_COMMITTED
    if held:
        return ReservationStatus.HELD
    if committed:
        return ReservationStatus.COMMITTED
    return ReservationStatus.RELEASED
