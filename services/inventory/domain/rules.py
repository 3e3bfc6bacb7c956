"""Inventory rules: input validation, what a location can do, levels, the ledger, availability,
reservations.

Invariants every stock level keeps (the store enforces them atomically, these functions state
them): each state is never negative nor above MAX_LEVEL_UNITS, and reserved never exceeds on
hand, so available (on hand - reserved) is never negative.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from services.inventory.domain.model import (
    Adjustment,
    Location,
    LocationChange,
    LocationKind,
    Movement,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockDelta,
    StockLevel,
    Supply,
)
from services.kernel import bounds
from services.kernel.errors import DomainError, ErrorCode

# The most levels one page of a location's stock holds, and the kind of its cursors
# (services/kernel/paging.py: a cursor names the last SKU shown).
MAX_LEVELS_PAGE = 200
LEVELS_CURSOR = "stock"
# The most ledger entries one page of a level's history returns.
MAX_MOVEMENTS_PAGE = 1000
# The most lines one reservation holds: an order's lines, each split over a few locations.
MAX_RESERVATION_LINES = 1000

# Codes and free text, as every service bounds them (services/kernel/bounds.py).
require_code = bounds.require_code


def require_words(value: str, field: str, what: str) -> str:
    """Free text (a name, a title, a reason): trimmed, non-empty, bounded length."""
    return bounds.require_text(value, field, what, bounds.MAX_TEXT)


def require_codes(codes: Sequence[str], field: str, what: str) -> list[str]:
    """Codes a query asks about: at most MAX_CODES of them, each within a code's bounds (a code
    nothing is known under is no refusal: it simply matches nothing)."""
    bounds.require_count(codes, field, bounds.MAX_CODES, what)
    for index, code in enumerate(codes):
        problem = bounds.text_problem(code, bounds.MAX_CODE)
        if problem is not None:
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"a code must be {problem}", f"{field}.{index}"
            )
    return list(codes)


def require_coordinates(latitude: float, longitude: float) -> None:
    if not -90.0 <= latitude <= 90.0:
        raise DomainError(ErrorCode.INVALID_INPUT, "latitude must be within -90..90", "latitude")
    if not -180.0 <= longitude <= 180.0:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "longitude must be within -180..180", "longitude"
        )


def require_non_negative(value: int, field: str, what: str, most: int = bounds.INT32_MAX) -> None:
    """0 <= value <= most (by default what a stored figure holds)."""
    if value < 0:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{what} cannot be negative", field)
    if value > most:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{what} must be at most {most}", field)


def default_capabilities(kind: LocationKind) -> tuple[bool, bool]:
    """(ships orders, accepts returns) for a kind, when the operator says nothing.

    Every kind may ship: a unit at a hub or store near the customer is the cheapest to send.
    Third-party warehouses usually take no returns (their contracts price them separately).
    """
    return True, kind is not LocationKind.THIRD_PARTY_WAREHOUSE


def require_location_change(change: LocationChange) -> LocationChange:
    """The change with its code and name trimmed; refuses a blank or overlong code or name, a
    missing kind, coordinates off the map and a negative capacity."""
    if change.kind is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "location kind is required", "kind")
    require_coordinates(change.latitude, change.longitude)
    for field in ("daily_ship_capacity", "daily_inspection_capacity"):
        capacity = getattr(change, field)
        if capacity is not None:
            require_non_negative(capacity, field, "a daily capacity")
    return dataclasses.replace(
        change,
        code=require_code(change.code, "code", "location code"),
        name=require_words(change.name, "name", "name"),
    )


def upserted_location(existing: Location | None, change: LocationChange, new_id: str) -> Location:
    """The location an upsert by code leaves (`change` as `require_location_change` left it).

    A location keeps its id (`new_id` names a new one); name, kind, coordinates and daily
    capacities are replaced (a capacity left out is no limit). A capability the operator leaves
    out (None) keeps its current value, or, for a new location, takes its kind's default
    (`default_capabilities`): changing an existing location's kind never silently changes what
    it does.
    """
    assert change.kind is not None, "require_location_change refuses a missing kind"
    if existing is None:
        default_ships, default_returns = default_capabilities(change.kind)
        current_id, current_ships, current_returns = new_id, default_ships, default_returns
    else:
        current_id = existing.id
        current_ships, current_returns = existing.ships_orders, existing.accepts_returns
    return Location(
        id=current_id,
        code=change.code,
        name=change.name,
        kind=change.kind,
        latitude=change.latitude,
        longitude=change.longitude,
        ships_orders=current_ships if change.ships_orders is None else change.ships_orders,
        accepts_returns=(
            current_returns if change.accepts_returns is None else change.accepts_returns
        ),
        daily_ship_capacity=change.daily_ship_capacity,
        daily_inspection_capacity=change.daily_inspection_capacity,
    )


def require_adjustment(delta: int, reason: str, idempotency_key: str = "") -> str:
    """The reason trimmed; refuses a zero delta, one beyond what a level holds, and an
    overlong or non-text idempotency key."""
    if delta == 0:
        raise DomainError(ErrorCode.INVALID_QUANTITY, "delta must not be zero", "delta")
    if abs(delta) > bounds.MAX_LEVEL_UNITS:
        raise DomainError(
            ErrorCode.INVALID_QUANTITY,
            f"delta must be within ±{bounds.MAX_LEVEL_UNITS}",
            "delta",
        )
    if idempotency_key:
        bounds.require_text(idempotency_key, "idempotency_key", "idempotencyKey", bounds.MAX_KEY)
    return require_words(reason, "reason", "reason")


def require_same_adjustment(first: Adjustment, again: Adjustment) -> None:
    """An idempotency key names one adjustment: sending it again with another SKU, location or
    delta is a client's mistake, refused rather than answered with the first one's level."""
    if (first.sku, first.location_code, first.delta) != (
        again.sku,
        again.location_code,
        again.delta,
    ):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "idempotencyKey was used for another adjustment",
            "idempotency_key",
        )


def over_capacity(field: str | None) -> DomainError:
    """The refusal of a change that would take a level past what it holds (MAX_LEVEL_UNITS)."""
    return DomainError(
        ErrorCode.INVALID_QUANTITY,
        f"a stock level holds at most {bounds.MAX_LEVEL_UNITS} units in each state",
        field,
    )


def apply_delta(level: StockLevel, delta: StockDelta) -> StockLevel:
    return StockLevel(
        sku=level.sku,
        location_code=level.location_code,
        on_hand=level.on_hand + delta.on_hand,
        reserved=level.reserved + delta.reserved,
        in_transit=level.in_transit + delta.in_transit,
        pending_inspection=level.pending_inspection + delta.pending_inspection,
        in_repair=level.in_repair + delta.in_repair,
        promised=level.promised + delta.promised,
    )


def is_consistent(level: StockLevel) -> bool:
    """The invariant: every state within 0..MAX_LEVEL_UNITS and no more reserved than on hand."""
    states = (
        level.on_hand,
        level.reserved,
        level.in_transit,
        level.pending_inspection,
        level.in_repair,
        level.promised,
    )
    return (
        min(states) >= 0
        and max(states) <= bounds.MAX_LEVEL_UNITS
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


def ledger_discrepancies(
    stored: Iterable[StockLevel], ledger: Iterable[Movement]
) -> list[tuple[StockLevel | None, StockLevel]]:
    """Levels that differ from a replay of the whole ledger, as (stored, rebuilt) pairs sorted
    by SKU and location; stored is None for a level the ledger moved that is not stored at all.

    Every change to a level is a ledger row written in the same transaction, so the replay
    equals the stored levels unless something changed a level outside a movement (or removed
    its row, which a check of the stored levels alone would never see).
    """
    rebuilt = levels_from_ledger((m.sku, m.location_code, m.delta) for m in ledger)
    stored_by_key = {(level.sku, level.location_code): level for level in stored}
    mismatches: list[tuple[StockLevel | None, StockLevel]] = []
    for key in sorted(stored_by_key.keys() | rebuilt.keys()):
        level = stored_by_key.get(key)
        replayed = rebuilt.get(key, StockLevel(*key))
        # A hold moves no units: the ledger does not record it.
        if level is None or dataclasses.replace(level, on_hold=False) != replayed:
            mismatches.append((level, replayed))
    return mismatches


def movements_page(limit: int, most: int = MAX_MOVEMENTS_PAGE) -> int:
    """How many ledger entries one page returns: what was asked for, within 1..`most`."""
    return max(1, min(limit, most))


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
    bounds.require_count(lines, "lines", MAX_RESERVATION_LINES, "lines")
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for index, line in enumerate(lines):
        if not 1 <= line.quantity <= bounds.MAX_LEVEL_UNITS:
            raise DomainError(
                ErrorCode.INVALID_QUANTITY,
                f"quantity must be within 1..{bounds.MAX_LEVEL_UNITS}",
                f"lines.{index}.quantity",
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


def holds(reservation: Reservation, wanted: ReservationLine) -> bool:
    """Whether the reservation still holds at least `wanted`'s units of its SKU there."""
    return any(
        (line.sku, line.location_code) == (wanted.sku, wanted.location_code)
        and line.quantity >= wanted.quantity
        for line in reservation.held
    )


def lines_to_ship(reservation: Reservation, location_code: str = "") -> list[ReservationLine]:
    """The held lines a commit ships: all of them, or those at one location when named."""
    return [
        line
        for line in reservation.held
        if not location_code or line.location_code == location_code
    ]


def settled(
    reservation: Reservation, lines: Sequence[ReservationLine], outcome: ReservationStatus
) -> Reservation:
    """The reservation once `lines` (some of its held lines) were shipped (`COMMITTED`) or given
    back (`RELEASED`).

    Those lines leave `held` for `outcome`'s group, each group stays in (SKU, location) order,
    and the status follows from how many lines are in each state (`reservation_status`), so a
    commit or release that settles nothing still leaves the status its lines imply.
    """
    if outcome not in (ReservationStatus.COMMITTED, ReservationStatus.RELEASED):
        raise ValueError(f"a held line is settled as COMMITTED or RELEASED, not {outcome}")
    moved = set(lines)
    held = tuple(line for line in reservation.held if line not in moved)
    committed, released = list(reservation.committed), list(reservation.released)
    (committed if outcome is ReservationStatus.COMMITTED else released).extend(
        line for line in reservation.held if line in moved
    )

    def in_lock_order(group: list[ReservationLine]) -> tuple[ReservationLine, ...]:
        return tuple(sorted(group, key=lambda line: (line.sku, line.location_code)))

    return Reservation(
        key=reservation.key,
        status=reservation_status(len(held), len(committed), len(released)),
        held=held,
        committed=in_lock_order(committed),
        released=in_lock_order(released),
    )


def whole_lines(reservation: Reservation) -> Reservation:
    """The reservation with each backordered line counted whole among the held ones (the part
    promised and the part already held), as a release settles it."""
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for line in (*reservation.held, *reservation.promised):
        merged[(line.sku, line.location_code)] += line.quantity
    held = tuple(ReservationLine(sku, loc, qty) for (sku, loc), qty in sorted(merged.items()))
    return dataclasses.replace(reservation, held=held, promised=())


def fill_oldest_first(backorders: Sequence[tuple[str, int]], units: int) -> list[tuple[str, int]]:
    """How many received units each backorder gets: (key, units) for `backorders` given as
    (key, units promised), oldest first.

    Strictly oldest first: a backorder gets units only once every older one has all it was
    promised, so a younger order never overtakes an older one; the last one served may be
    filled in part. Never more than `units` in all, nor more than a backorder was promised.
    """
    filled = []
    for key, promised in backorders:
        if units <= 0:
            break
        taken = min(promised, units)
        filled.append((key, taken))
        units -= taken
    return filled


def expected_arrival(supply: Sequence[Supply], promised_before: int, units: int) -> datetime | None:
    """When `units` promised after `promised_before` others are expected in: receipts serve
    promises in turn, so they come with the purchase order whose units, counted in order of
    arrival, reach promised_before + units. None when no dated supply reaches that far (a
    purchase order opened without a date, or one cancelled since)."""
    needed = promised_before + units
    dated = sorted((s for s in supply if s.expected_at is not None), key=_arrival)
    counted = 0
    for line in dated:
        counted += line.units
        if counted >= needed:
            return line.expected_at
    return None


def _arrival(supply: Supply) -> datetime:
    assert supply.expected_at is not None
    return supply.expected_at
