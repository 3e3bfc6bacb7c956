"""Order rules: what a valid order is, what shipments it opens, how shipments decide its
status, which orders clients see and wait on, and how a page of them is resumed."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from services.kernel import bounds, paging
from services.kernel.caller import Caller
from services.kernel.errors import DomainError, ErrorCode
from services.orders.domain.model import (
    NewOrder,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentStatus,
)
from services.orders.domain.routing import RoutingPlan, SplitPolicy

MAX_LINES = bounds.MAX_LINES
MAX_SERIAL_LENGTH = bounds.MAX_SERIAL
MAX_TRACKING_NUMBER = 128
MAX_PAGE = 100
# The most orders asked for by id at once.
MAX_IDS = bounds.MAX_CODES
# Each part of an address, and how long it may be.
ADDRESS_PARTS = {
    "name": bounds.MAX_TEXT,
    "line1": bounds.MAX_TEXT,
    "city": bounds.MAX_TEXT,
    "postal_code": bounds.MAX_POSTAL_CODE,
    "country": bounds.MAX_CODE,
}
# States a client never sees: a claim is not an order until its stock is held.
HIDDEN = (OrderStatus.PLACING,)
# Orders whose stock is not held yet: a claim being placed, a backorder waiting for a receipt.
AWAITING_STOCK = (OrderStatus.PLACING, OrderStatus.BACKORDERED)
# Orders waiting to ship: what the pending summary counts.
PENDING = (OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.BACKORDERED)
# Shipments a location still has to ship: what counts against its daily ship capacity.
UNSHIPPED = (ShipmentStatus.ALLOCATED, ShipmentStatus.SHIPPING)
_CURSOR_KIND = "order"


def validate_new_order(order: NewOrder) -> None:
    """Refuses what cannot be placed, naming the input field at fault: every text within its
    bounds (services/kernel/bounds.py: a channel is a code, an external id, an email and each
    part of the address are bounded), lines within MAX_LINES, each 1..MAX_UNITS units at
    0..MAX_CENTS a unit."""
    bounds.require_code(order.channel, "channel", "channel")
    bounds.require_text(order.external_id, "external_id", "externalId", bounds.MAX_EXTERNAL_ID)
    bounds.require_text(order.email, "email", "email", bounds.MAX_EMAIL)
    if "@" not in order.email:
        raise DomainError(ErrorCode.INVALID_INPUT, "email must be an address", "email")
    for part, most in ADDRESS_PARTS.items():
        where = f"ship_to.{part}"
        bounds.require_text(getattr(order.ship_to, part), where, part, most, required=False)
    if not -90 <= order.ship_to.latitude <= 90:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "latitude must be within -90..90", "ship_to.latitude"
        )
    if not -180 <= order.ship_to.longitude <= 180:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "longitude must be within -180..180", "ship_to.longitude"
        )
    if not order.lines:
        raise DomainError(ErrorCode.INVALID_QUANTITY, "an order needs at least one line", "lines")
    if len(order.lines) > MAX_LINES:
        raise DomainError(ErrorCode.INVALID_INPUT, f"at most {MAX_LINES} lines", "lines")
    for index, line in enumerate(order.lines):
        bounds.require_code(line.sku, f"lines.{index}.sku", "SKU code")
        if line.quantity < 1:
            raise DomainError(
                ErrorCode.INVALID_QUANTITY, "quantity must be at least 1", f"lines.{index}.quantity"
            )
        if line.quantity > bounds.MAX_UNITS:
            raise DomainError(
                ErrorCode.INVALID_QUANTITY,
                f"quantity must be at most {bounds.MAX_UNITS}",
                f"lines.{index}.quantity",
            )
        if line.unit_price_cents < 0:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "price cannot be negative",
                f"lines.{index}.unit_price_cents",
            )
        if line.unit_price_cents > bounds.MAX_CENTS:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"price must be at most {bounds.MAX_CENTS} cents",
                f"lines.{index}.unit_price_cents",
            )


def units_by_sku(order: NewOrder) -> dict[str, int]:
    """Units ordered per SKU; lines naming one SKU twice add up."""
    units: dict[str, int] = {}
    for line in order.lines:
        units[line.sku] = units.get(line.sku, 0) + line.quantity
    return units


def units_by_source(units: Mapping[str, int], made_from: Mapping[str, str]) -> dict[str, int]:
    """Units to route and hold per source SKU: a SKU made to order is routed as its blank
    (one per unit), added to the blank's own units when the order names both."""
    sources: dict[str, int] = {}
    for sku, quantity in units.items():
        source = made_from.get(sku, sku)
        sources[source] = sources.get(source, 0) + quantity
    return sources


def as_ordered(
    parcels: Sequence[tuple[str, tuple[tuple[str, int], ...]]],
    lines: Sequence[OrderLine],
    made_from: Mapping[str, str],
) -> list[tuple[str, tuple[tuple[str, int], ...]]]:
    """The shipments in the order's SKUs, from parcels of what is held (source SKUs).

    Invariants: a parcel's units of a source SKU become exactly as many units of the ordered
    SKUs made from it (or of itself), so every held unit ships once and nothing else does;
    every ordered unit lands in one shipment when the parcels hold the whole order. Within a
    source SKU, made-to-order SKUs (by code) take the held units first, then the SKU itself;
    parcels are served in the order given."""
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    takers: dict[str, list[str]] = {}
    for sku in sorted(wanted, key=lambda s: (s not in made_from, s)):
        takers.setdefault(made_from.get(sku, sku), []).append(sku)
    shipments = []
    for location_code, held in parcels:
        shipped: dict[str, int] = {}
        for source, units in held:
            for sku in takers.get(source, []):
                taken = min(units, wanted[sku])
                if taken:
                    shipped[sku] = shipped.get(sku, 0) + taken
                    wanted[sku] -= taken
                    units -= taken
            if units:
                shipped[source] = shipped.get(source, 0) + units
        shipments.append((location_code, tuple(shipped.items())))
    return shipments


def made_to_order(shipment: Shipment, made_from: Mapping[str, str]) -> list[tuple[str, str, int]]:
    """The shipment's lines made to order, as (sku, blank sku, units)."""
    return [(sku, made_from[sku], units) for sku, units in shipment.lines if sku in made_from]


def require_made(shipment: Shipment, held: Sequence[tuple[str, str, int]] | None) -> None:
    """A shipment ships once its order holds every unit of it at its location as the SKU
    shipped: a made-to-order unit is held as its blank until its work order made it
    (INVALID_STATE until then)."""
    there: dict[str, int] = {}
    for sku, location_code, units in held or ():
        if location_code == shipment.location_code:
            there[sku] = there.get(sku, 0) + units
    for sku, units in shipment.lines:
        if there.get(sku, 0) < units:
            raise DomainError(
                ErrorCode.INVALID_STATE,
                f"{sku} is not made yet: its work order is not complete",
                "shipment_id",
            )


def shipped_serials(
    entries: Sequence[tuple[str, Sequence[str]]], shipped: Mapping[str, int]
) -> dict[str, tuple[str, ...]]:
    """The serial numbers scanned into a parcel, by SKU.

    Entries for one SKU add up; a SKU of the shipment gets at most as many serial numbers as
    units it ships (INVALID_QUANTITY), a SKU outside it none; a serial number is non-blank,
    bounded, and scanned once per SKU (one unit cannot leave twice).
    """
    by_sku: dict[str, list[str]] = {}
    for index, (sku, numbers) in enumerate(entries):
        if sku not in shipped:
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"{sku!r} is not in this shipment", f"serials.{index}.sku"
            )
        collected = by_sku.setdefault(sku, [])
        for position, raw in enumerate(numbers):
            serial, where = raw.strip(), f"serials.{index}.serial_numbers.{position}"
            if not serial or bounds.text_problem(serial, MAX_SERIAL_LENGTH) is not None:
                raise DomainError(
                    ErrorCode.INVALID_INPUT,
                    f"a serial number is 1-{MAX_SERIAL_LENGTH} characters",
                    where,
                )
            if serial in collected:
                raise DomainError(
                    ErrorCode.INVALID_INPUT, f"serial number {serial!r} is scanned twice", where
                )
            collected.append(serial)
        if len(collected) > shipped[sku]:
            raise DomainError(
                ErrorCode.INVALID_QUANTITY,
                f"{len(collected)} serial numbers for {shipped[sku]} unit(s) of {sku}",
                f"serials.{index}.serial_numbers",
            )
    return {sku: tuple(numbers) for sku, numbers in by_sku.items() if numbers}


def require_known_skus(lines: Sequence[OrderLine], unknown: Collection[str]) -> None:
    """Refuses an order naming a SKU inventory does not know (NOT_FOUND), on the first line
    that names one."""
    for index, line in enumerate(lines):
        if line.sku in unknown:
            raise DomainError(
                ErrorCode.NOT_FOUND, f"unknown SKU {line.sku!r}", f"lines.{index}.sku"
            )


def short_of_stock(policy: SplitPolicy) -> DomainError:
    """The refusal of an order the stock cannot fill (under SHIP_COMPLETE: from one location)."""
    where = " from one location" if policy is SplitPolicy.SHIP_COMPLETE else ""
    return DomainError(
        ErrorCode.INSUFFICIENT_STOCK, f"not enough stock to fill the order{where}", "lines"
    )


def lines_to_hold(plan: RoutingPlan) -> list[tuple[str, str, int]]:
    """What inventory is asked to hold for a plan: (sku, location, units), parcel by parcel."""
    return [(sku, p.location_code, units) for p in plan.parcels for sku, units in p.lines]


def parcels_by_location(
    plan: RoutingPlan | None, held: Sequence[tuple[str, str, int]] = ()
) -> list[tuple[str, tuple[tuple[str, int], ...]]]:
    """The shipments an allocation opens: one per location, as (location, ((sku, units), ...)),
    by location code.

    From a plan, each parcel becomes a shipment with its lines as planned; from what inventory
    holds (a placement completed after a crash, with no plan left), each held line joins its
    location's shipment in the order inventory lists them. Every held unit ships exactly once.
    """
    parcels: dict[str, list[tuple[str, int]]] = {}
    if plan is not None:
        for parcel in plan.parcels:
            parcels[parcel.location_code] = list(parcel.lines)
    for sku, location_code, units in held:
        parcels.setdefault(location_code, []).append((sku, units))
    return [(code, tuple(lines)) for code, lines in sorted(parcels.items())]


def require_tracking_number(tracking_number: str) -> None:
    """A tracking number is bounded (it may be empty: not every carrier gives one)."""
    bounds.require_text(
        tracking_number, "tracking_number", "tracking number", MAX_TRACKING_NUMBER, required=False
    )


def require_shippable(shipment: Shipment) -> None:
    """A cancelled shipment never ships (its stock went back when its order was cancelled)."""
    if shipment.status is ShipmentStatus.CANCELLED:
        raise DomainError(ErrorCode.INVALID_STATE, "the shipment was cancelled", "shipment_id")


def status_after_shipping(shipment_statuses: Sequence[ShipmentStatus]) -> OrderStatus:
    """The order's status once its shipments are in these states: SHIPPED when all shipped,
    PARTIALLY_SHIPPED when some did, ALLOCATED while none has."""
    shipped = sum(1 for s in shipment_statuses if s is ShipmentStatus.SHIPPED)
    if shipped == len(shipment_statuses):
        return OrderStatus.SHIPPED
    return OrderStatus.PARTIALLY_SHIPPED if shipped else OrderStatus.ALLOCATED


def status_once_shipped(shipments: Sequence[Shipment], shipment_id: str) -> OrderStatus:
    """The order's status once the shipment `shipment_id` has shipped, the others as they are."""
    return status_after_shipping(
        [ShipmentStatus.SHIPPED if s.id == shipment_id else s.status for s in shipments]
    )


def require_cancellable(status: OrderStatus, shipment_statuses: Sequence[ShipmentStatus]) -> None:
    """An order may be cancelled until any of its shipments has started to ship."""
    if status is OrderStatus.CANCELLED:
        return
    if any(s in (ShipmentStatus.SHIPPING, ShipmentStatus.SHIPPED) for s in shipment_statuses):
        raise DomainError(
            ErrorCode.INVALID_STATE, "an order with a shipped shipment cannot be cancelled", "id"
        )


def is_visible(status: OrderStatus) -> bool:
    """Whether clients see an order in this state (a PLACING claim they never do)."""
    return status not in HIDDEN


def require_page_size(first: int) -> None:
    """A page holds 1..MAX_PAGE orders."""
    paging.require_page_size(first, MAX_PAGE)


def encode_cursor(number: int) -> str:
    """The opaque cursor of the order with this number: the page after it starts below it."""
    return paging.encode_cursor(_CURSOR_KIND, str(number))


def decode_cursor(cursor: str) -> int:
    """The order number an `encode_cursor` cursor names; anything else (a number no order can
    have included) is refused (INVALID_INPUT on `after`), never read as some other position."""
    number = paging.decode_cursor(_CURSOR_KIND, cursor)
    if not number.isdigit() or not 1 <= int(number) <= bounds.INT64_MAX:
        raise DomainError(ErrorCode.INVALID_INPUT, "not a cursor from this list", "after")
    return int(number)


def pending_summary(
    count: int, oldest_placed_at: datetime | None, now: datetime
) -> tuple[int, int]:
    """(orders waiting to ship, whole minutes the oldest of them has waited); (0, 0) when none
    waits."""
    if not count or oldest_placed_at is None:
        return 0, 0
    return count, int((now - oldest_placed_at).total_seconds() // 60)


def require_sells_on(caller: Caller, channel: str) -> None:
    """A storefront places orders on the channels its token names only (FORBIDDEN on
    `channel`), so it can never take another channel's external ids."""
    if not caller.sells_on(channel):
        raise DomainError(
            ErrorCode.FORBIDDEN, f"this storefront does not sell on channel {channel!r}", "channel"
        )


def may_see(order: Order, caller: Caller) -> bool:
    """Whether `caller` sees the order at all: a storefront sees the orders it placed on the
    channels it sells on; every other caller sees every order."""
    return caller.sees_order(order.placed_by, order.channel)


def shown_to(order: Order, caller: Caller) -> Order:
    """The order as `caller` sees it: without its routing (the internal cost model: what each
    location and parcel costs) unless the caller sees how the business runs."""
    if caller.sees_internals or order.routing is None:
        return order
    return dataclasses.replace(order, routing=None)


def require_own_external_id(first: Order, caller: Caller) -> None:
    """A storefront that names an order another caller placed is told the id is taken, and
    nothing of what that order holds."""
    if not caller.sees_orders_of(first.placed_by):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "externalId already names an order placed by another caller",
            "external_id",
        )


def require_same_order(first: Order, again: NewOrder) -> None:
    """An external id names one order: placing it again with the same request (lines in any
    order, email, address, split policy) is a retry and gets the first order; with another
    request it is a client's mistake, refused (INVALID_INPUT on `external_id`) rather than
    answered with an order the client did not ask for."""
    asked = (again.email, again.ship_to, again.split_policy, sorted(again.lines, key=_line_key))
    placed = (first.email, first.ship_to, first.split_policy, sorted(first.lines, key=_line_key))
    if asked != placed:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"externalId {again.external_id!r} was already used for a different order",
            "external_id",
        )


def _line_key(line: OrderLine) -> tuple[str, int, int]:
    return line.sku, line.quantity, line.unit_price_cents


def ship_capacities(plan: RoutingPlan | None) -> dict[str, int]:
    """The daily ship capacity each location of the plan declared when it was made (locations
    without one are left out): what its shipments' changes of backlog are measured against."""
    if plan is None:
        return {}
    return {p.location_code: p.daily_capacity for p in plan.parcels if p.daily_capacity is not None}
