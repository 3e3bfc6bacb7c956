"""Returns rules: where a return goes and what it costs, what may be returned and until when,
what happens to each unit, when a parcel is not what was sold, and what is refunded.

Defaults follow the field's figures (../shared/DOMAIN.md): a return through a central warehouse
costs about $35 all-in (return shipping $15-25 by distance, $8-12 of processing labour); one
dropped at a local hub about $5 (no long-haul shipping, about $5 of labour).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.kernel import bounds
from services.kernel.caller import Caller
from services.kernel.capacity import expected_wait_hours, is_full
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.geo import distance_km
from services.returns.domain.model import (
    CatalogueSku,
    Disposition,
    FraudFlag,
    Grade,
    InspectedUnit,
    Inspection,
    NewReturn,
    PlatformConnection,
    RequestedLine,
    Return,
    ReturnLineView,
    ReturnParcel,
    ReturnReason,
    ReturnSite,
    ReturnStatus,
    SettledUnit,
    ShippedLine,
    ShippedOrder,
    Verdict,
)

HUB = "RETURN_HUB"
DC = "DISTRIBUTION_CENTER"
MAX_LINES = bounds.MAX_LINES
MAX_NOTES = bounds.MAX_NOTES
# The most returns a hub's queue lists at once (the oldest first).
MAX_QUEUE = 500
# The most returns on one page of the list of returns.
MAX_PAGE = 100
# The kind of a returns list's cursors (services/kernel/paging.py).
PAGE_CURSOR = "return"
# The most returns asked for by id at once.
MAX_IDS = bounds.MAX_CODES
# Returns a location still has to inspect: on their way, or received.
AWAITING_INSPECTION = (ReturnStatus.REQUESTED, ReturnStatus.RECEIVED)
# Dispositions carried out the moment inspection decides them; refurbishment takes a work order.
SETTLED_AT_INSPECTION = frozenset({Disposition.RESTOCK, Disposition.LIQUIDATE, Disposition.RECYCLE})


def _default_shipping_zones() -> tuple[tuple[float, int], ...]:
    # (up to km, return label price in cents); within reach the customer drops the parcel off.
    return ((50, 0), (200, 1500), (800, 2000), (float("inf"), 2500))


def _default_labour() -> dict[str, int]:
    return {HUB: 500, DC: 1000, "STORE": 700, "THIRD_PARTY_WAREHOUSE": 1200}


@dataclass(frozen=True)
class ReturnCostModel:
    """Handling cost of one return: the return label by distance, plus labour per unit."""

    shipping_zones: tuple[tuple[float, int], ...] = field(default_factory=_default_shipping_zones)
    labour_per_unit_cents: Mapping[str, int] = field(default_factory=_default_labour)
    # How far a customer will take a parcel to a hub (drop-off, no label).
    local_reach_km: float = 50.0

    def shipping_cents(self, km: float) -> int:
        for up_to, cents in self.shipping_zones:
            if km <= up_to:
                return cents
        return self.shipping_zones[-1][1]

    def cost_cents(self, site: ReturnSite, customer: tuple[float, float], units: int) -> int:
        km = distance_km(site.latitude, site.longitude, *customer)
        return self.shipping_cents(km) + self.labour_per_unit_cents.get(site.kind, 1000) * units


@dataclass(frozen=True)
class ReturnRoute:
    destination: ReturnSite
    estimated_cost_cents: int
    # What the same return would cost through the distribution centre.
    centralized_cost_cents: int
    # Hours until the destination inspects it (None: it declared no capacity).
    expected_inspection_hours: float | None = None


def route_return(
    sites: Sequence[ReturnSite],
    customer: tuple[float, float],
    units: int,
    model: ReturnCostModel,
) -> ReturnRoute:
    """The nearest return hub within reach of the customer that is not full, else the nearest
    distribution centre.

    A hub is full when its backlog (returns on their way or received, not inspected) reached
    its declared daily inspection capacity; one without a capacity is never full, so without
    capacities the nearest hub within reach takes the return. When every hub within reach is
    full the DC takes it, or, without a DC, the nearest hub within reach still does.
    `sites` are the locations that accept returns. Without a DC among them the nearest site of
    any kind takes the return, and the centralized cost is that route's. Ties break by code.
    Invariants: the destination is one of `sites`; a DC destination costs what the centralized
    route costs; a full hub is chosen only when no hub within reach is under its capacity and
    there is no DC.
    """

    def km(site: ReturnSite) -> float:
        return distance_km(site.latitude, site.longitude, *customer)

    by_distance = sorted(sites, key=lambda s: (km(s), s.code))
    if not by_distance:
        raise DomainError(ErrorCode.INVALID_STATE, "no location takes returns")
    central = next((s for s in by_distance if s.kind == DC), None)
    hubs = [s for s in by_distance if s.kind == HUB and km(s) <= model.local_reach_km]
    hub = next((s for s in hubs if not is_full(s.backlog, s.daily_inspection_capacity)), None)
    destination = hub or central or next(iter(hubs), by_distance[0])
    return ReturnRoute(
        destination=destination,
        estimated_cost_cents=model.cost_cents(destination, customer, units),
        centralized_cost_cents=model.cost_cents(central or destination, customer, units),
        expected_inspection_hours=expected_wait_hours(
            destination.backlog, destination.daily_inspection_capacity
        ),
    )


# Requesting


def validate_new_return(new: NewReturn) -> None:
    """Refuses a request that cannot be a return, naming the input field at fault: a blank or
    overlong order id or idempotency key, no lines or more than MAX_LINES, a line's SKU that is
    no code, a quantity outside 1..MAX_UNITS, an unknown reason, coordinates off the map."""
    if not new.order_id.strip():
        raise DomainError(ErrorCode.INVALID_INPUT, "orderId is required", "order_id")
    bounds.require_text(new.order_id, "order_id", "orderId", bounds.MAX_ID)
    if new.idempotency_key:
        bounds.require_text(
            new.idempotency_key, "idempotency_key", "idempotencyKey", bounds.MAX_KEY
        )
    if not new.lines:
        raise DomainError(ErrorCode.INVALID_QUANTITY, "a return needs at least one line", "lines")
    if len(new.lines) > MAX_LINES:
        raise DomainError(ErrorCode.INVALID_INPUT, f"at most {MAX_LINES} lines", "lines")
    for index, line in enumerate(new.lines):
        bounds.require_code(line.sku, f"lines.{index}.sku", "SKU code")
        if not 1 <= line.quantity <= bounds.MAX_UNITS:
            raise DomainError(
                ErrorCode.INVALID_QUANTITY,
                f"quantity must be within 1..{bounds.MAX_UNITS}",
                f"lines.{index}.quantity",
            )
        if line.reason not in ReturnReason.__members__:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"reason must be one of {', '.join(ReturnReason)}",
                f"lines.{index}.reason",
            )
    if new.customer is not None:
        latitude, longitude = new.customer
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise DomainError(
                ErrorCode.INVALID_INPUT, "coordinates out of range", "customer.latitude"
            )


def require_known_skus(lines: Sequence[RequestedLine], catalogue: Mapping[str, object]) -> None:
    for index, line in enumerate(lines):
        if line.sku not in catalogue:
            raise DomainError(
                ErrorCode.NOT_FOUND, f"unknown SKU {line.sku!r}", f"lines.{index}.sku"
            )


def shipped_lines(
    order: ShippedOrder, catalogue: Mapping[str, CatalogueSku]
) -> dict[str, ShippedLine]:
    """What the order shipped, per SKU of the catalogue: units and serials of every shipped
    parcel, the price paid (the lowest, when the SKU is on several lines: never refund more than
    any unit cost), and when the last parcel carrying it left."""
    units: Counter[str] = Counter()
    serials: dict[str, list[str]] = {}
    shipped_at: dict[str, datetime] = {}
    for parcel in order.parcels:
        for sku, quantity, numbers in parcel.lines:
            units[sku] += quantity
            serials.setdefault(sku, []).extend(numbers)
            shipped_at[sku] = max(shipped_at.get(sku, parcel.shipped_at), parcel.shipped_at)
    prices: dict[str, int] = {}
    for sku, _quantity, price in order.lines:
        prices[sku] = min(prices.get(sku, price), price)
    return {
        sku: ShippedLine(
            sku=sku,
            quantity=count,
            unit_price_cents=prices.get(sku, 0),
            unit_weight_grams=catalogue[sku].weight_grams,
            serialized=catalogue[sku].serialized,
            serial_numbers=tuple(serials[sku]),
            shipped_at=shipped_at[sku],
        )
        for sku, count in units.items()
        if sku in catalogue
    }


def require_within_window(
    lines: Sequence[RequestedLine],
    shipped: Mapping[str, ShippedLine],
    window: timedelta,
    now: datetime,
) -> None:
    """Each line's SKU must have left no longer than `window` ago (its last parcel counts)."""
    for index, line in enumerate(lines):
        found = shipped.get(line.sku)
        if found is None or found.shipped_at is None:
            continue
        closes = found.shipped_at + window
        if closes < now:
            raise DomainError(
                ErrorCode.OUTSIDE_WINDOW,
                f"the return window for {line.sku} closed on {closes:%Y-%m-%d}",
                f"lines.{index}.sku",
            )


def require_returnable(
    lines: Sequence[RequestedLine],
    shipped: Mapping[str, ShippedLine],
    already_requested: Mapping[str, int],
) -> None:
    """No line may take the SKU past what shipped less what other live returns already asked
    for (lines of one SKU count together, first line first)."""
    taken = Counter(already_requested)
    for index, line in enumerate(lines):
        found = shipped.get(line.sku)
        left = max(0, (found.quantity if found else 0) - taken[line.sku])
        if line.quantity > left:
            raise DomainError(
                ErrorCode.INVALID_QUANTITY,
                f"only {left} unit(s) of {line.sku} shipped and not yet returned",
                f"lines.{index}.quantity",
            )
        taken[line.sku] += line.quantity


def units_by_sku(lines: Iterable[RequestedLine]) -> dict[str, int]:
    units: Counter[str] = Counter()
    for line in lines:
        units[line.sku] += line.quantity
    return dict(units)


# Inspecting


def parse_status(name: str, field: str) -> ReturnStatus:
    if name not in ReturnStatus.__members__:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"status must be one of {', '.join(ReturnStatus)}", field
        )
    return ReturnStatus(name)


def page_position(found: Return) -> str:
    """Where a return stands in the list of returns (newest requested first, then by id): the
    position its cursor names."""
    return f"{found.requested_at.isoformat()}|{found.id}"


def parse_page_position(position: str) -> tuple[datetime, str]:
    """(requested at, id) of a `page_position`; anything else is refused (INVALID_INPUT on
    `after`)."""
    requested_at, bar, return_id = position.partition("|")
    try:
        parsed = datetime.fromisoformat(requested_at)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or not bar or not return_id:
        raise DomainError(ErrorCode.INVALID_INPUT, "not a cursor from this list", "after")
    return parsed, return_id


def parse_grade(name: str, field: str) -> Grade:
    if name not in Grade.__members__:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"grade must be one of {', '.join(Grade)}", field
        )
    return Grade(name)


def validate_inspection(
    units: Sequence[InspectedUnit],
    shipped: Mapping[str, ShippedLine],
    measured_weight_grams: int | None,
    notes: str,
) -> None:
    """Refuses what the scanner must correct: more than MAX_INSPECTED_UNITS units, a SKU that
    is no code, a serial number beyond its bounds, a serialized unit scanned without its serial
    number, a weight outside 0..INT32_MAX grams, notes beyond MAX_NOTES. (A unit of a SKU not in
    the return is not an input error: it is what fraud checks are for.)"""
    bounds.require_count(units, "lines", bounds.MAX_INSPECTED_UNITS, "units")
    for index, unit in enumerate(units):
        bounds.require_code(unit.sku, f"lines.{index}.sku", "SKU code")
        bounds.require_text(
            unit.serial_number,
            f"lines.{index}.serial_number",
            "serial number",
            bounds.MAX_SERIAL,
            required=False,
        )
        line = shipped.get(unit.sku)
        if line is not None and line.serialized and not unit.serial_number.strip():
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"{unit.sku} is serialized: scan the unit's serial number",
                f"lines.{index}.serial_number",
            )
    if measured_weight_grams is not None and measured_weight_grams < 0:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "weight cannot be negative", "measured_weight_grams"
        )
    if measured_weight_grams is not None and measured_weight_grams > bounds.INT32_MAX:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"weight must be at most {bounds.INT32_MAX} grams",
            "measured_weight_grams",
        )
    bounds.require_text(notes, "notes", "notes", MAX_NOTES, required=False)


def require_inspectable(parcel: ReturnParcel, acting_location_code: str) -> None:
    """A return is inspected once, after its receipt, and by its destination: a scanner at
    another location (FORBIDDEN, on the return) or a return not RECEIVED (INVALID_STATE) is
    refused. Back-office tools name no acting location."""
    acting = acting_location_code
    if acting and acting != parcel.destination_code:
        raise DomainError(
            ErrorCode.FORBIDDEN,
            f"return {parcel.id} is inspected at {parcel.destination_code}, not {acting}",
            "return_id",
        )
    if parcel.status is not ReturnStatus.RECEIVED:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"only a received return is inspected; this one is {parcel.status}",
            "return_id",
        )


def inspection_verdict(
    parcel: ReturnParcel, inspection: Inspection, weight_tolerance: float
) -> Verdict:
    """What the inspection of `parcel` decides, once the scan is valid (`validate_inspection`).

    Invariants: a parcel with any fraud flag is REJECTED, its units get no disposition and its
    refund withholds the paid price of the units asked for; a verified parcel refunds the paid
    price of every unit found, and is CLOSED at once unless a unit waits for refurbishment.
    """
    weight = inspection.measured_weight_grams
    validate_inspection(inspection.units, parcel.shipped, weight, inspection.notes)
    flags = fraud_flags(
        units_by_sku(parcel.lines), inspection.units, parcel.shipped, weight, weight_tolerance
    )
    verified = not flags
    serialized = {sku: line.serialized for sku, line in parcel.shipped.items()}
    units = settle_units(parcel.lines, inspection.units, serialized, verified)
    return Verdict(
        status=status_after_inspection(units, verified),
        fraud_flags=tuple(flags),
        units=tuple(units),
        refund_cents=(
            refund_cents(inspection.units, parcel.shipped)
            if verified
            else requested_value_cents(parcel.lines, parcel.shipped)
        ),
        notes=inspection.notes,
        measured_weight_grams=weight,
    )


def disposition_for(grade: Grade, serialized: bool) -> Disposition:
    """NEW and LIKE_NEW restock (a serialized LIKE_NEW unit is refurbished: it must be wiped
    and tested before resale); GOOD is refurbished; DAMAGED liquidated; UNSALEABLE recycled."""
    if grade is Grade.NEW:
        return Disposition.RESTOCK
    if grade is Grade.LIKE_NEW:
        return Disposition.REFURBISH if serialized else Disposition.RESTOCK
    if grade is Grade.GOOD:
        return Disposition.REFURBISH
    if grade is Grade.DAMAGED:
        return Disposition.LIQUIDATE
    return Disposition.RECYCLE


def fraud_flags(
    requested: Mapping[str, int],
    inspected: Sequence[InspectedUnit],
    shipped: Mapping[str, ShippedLine],
    measured_weight_grams: int | None,
    weight_tolerance: float,
) -> list[FraudFlag]:
    """Why the parcel is not what was sold (empty when it is).

    - QUANTITY_MISMATCH: the units found per SKU differ from the units the return asked for —
      more (or a SKU never asked for) is a refused over-return; fewer is the empty-box case,
      and a partial verification is not a verified inspection;
    - SERIAL_MISMATCH: a serialized unit whose serial number is not one the order shipped (when
      the order recorded serials), or one serial number scanned twice;
    - WEIGHT_MISMATCH: the parcel weighs less than the expected weight of the requested units
      by more than `weight_tolerance` (0.3: refused below 70%); bricks weigh in wrong.
    """
    flags: list[FraudFlag] = []
    if Counter(unit.sku for unit in inspected) != Counter(requested):
        flags.append(FraudFlag.QUANTITY_MISMATCH)
    if _serials_mismatch(inspected, shipped):
        flags.append(FraudFlag.SERIAL_MISMATCH)
    if measured_weight_grams is not None:
        expected = sum(
            shipped[sku].unit_weight_grams * units
            for sku, units in requested.items()
            if sku in shipped
        )
        if expected and measured_weight_grams < expected * (1 - weight_tolerance):
            flags.append(FraudFlag.WEIGHT_MISMATCH)
    return flags


def _serials_mismatch(
    inspected: Sequence[InspectedUnit], shipped: Mapping[str, ShippedLine]
) -> bool:
    seen: set[tuple[str, str]] = set()
    for unit in inspected:
        line = shipped.get(unit.sku)
        if line is None or not line.serialized:
            continue
        key = (unit.sku, unit.serial_number)
        if key in seen or (line.serial_numbers and unit.serial_number not in line.serial_numbers):
            return True
        seen.add(key)
    return False


def settle_units(
    requested: Sequence[RequestedLine],
    inspected: Sequence[InspectedUnit],
    serialized: Mapping[str, bool],
    verified: bool,
) -> list[SettledUnit]:
    """Each inspected unit with the requested line it answers (lines of a SKU fill in order)
    and, when the inspection `verified` the parcel, its disposition; RESTOCK, LIQUIDATE and
    RECYCLE are carried out at once, REFURBISH when its work order completes."""
    open_lines: dict[str, list[int]] = {}
    for number, line in enumerate(requested):
        open_lines.setdefault(line.sku, []).extend([number] * line.quantity)
    settled = []
    for unit in inspected:
        slots = open_lines.get(unit.sku)
        line_number = slots.pop(0) if slots else None
        disposition = disposition_for(unit.grade, serialized.get(unit.sku, False))
        if not verified:
            settled.append(SettledUnit(unit, line_number, None, False))
        else:
            settled.append(
                SettledUnit(unit, line_number, disposition, disposition in SETTLED_AT_INSPECTION)
            )
    return settled


def status_after_inspection(units: Sequence[SettledUnit], verified: bool) -> ReturnStatus:
    if not verified:
        return ReturnStatus.REJECTED
    return ReturnStatus.CLOSED if all(u.settled for u in units) else ReturnStatus.INSPECTED


def inspected_totals(units: Sequence[SettledUnit]) -> list[tuple[str, Grade, Disposition, int]]:
    """Units per (sku, grade, disposition), in the order first inspected: the ReturnInspected
    lines inventory and work orders act on."""
    totals: Counter[tuple[str, Grade, Disposition]] = Counter()
    for u in units:
        if u.disposition is not None:
            totals[(u.unit.sku, u.unit.grade, u.disposition)] += 1
    return [(sku, grade, disposition, n) for (sku, grade, disposition), n in totals.items()]


def present_lines(
    requested: Sequence[RequestedLine], units: Sequence[SettledUnit]
) -> tuple[ReturnLineView, ...]:
    """The requested lines; once units have dispositions, each split by (grade, disposition)
    with the units settled so far. A rejected return shows its lines as requested."""
    views: list[ReturnLineView] = []
    for number, line in enumerate(requested):
        mine = [u for u in units if u.line_number == number and u.disposition is not None]
        if not mine:
            views.append(ReturnLineView(line.sku, line.quantity, line.reason))
            continue
        groups: dict[tuple[Grade, Disposition], list[SettledUnit]] = {}
        for u in mine:
            if u.disposition is not None:  # `mine` holds disposed units only
                groups.setdefault((u.unit.grade, u.disposition), []).append(u)
        for (grade, disposition), group in groups.items():
            settled = sum(1 for u in group if u.settled)
            views.append(
                ReturnLineView(line.sku, len(group), line.reason, grade, disposition, settled)
            )
    return tuple(views)


def refund_cents(inspected: Sequence[InspectedUnit], shipped: Mapping[str, ShippedLine]) -> int:
    """The paid price of every unit the inspection verified."""
    return sum(shipped[u.sku].unit_price_cents for u in inspected if u.sku in shipped)


def requested_value_cents(
    requested: Sequence[RequestedLine], shipped: Mapping[str, ShippedLine]
) -> int:
    """The paid price of the units the return asked for: what a rejection withholds."""
    return sum(
        shipped[line.sku].unit_price_cents * line.quantity
        for line in requested
        if line.sku in shipped
    )


def retry_delay_seconds(attempts: int, base_seconds: float, max_seconds: float) -> float:
    """Exponential backoff after `attempts` failed tries: base, 2·base, 4·base, … capped."""
    return float(min(max_seconds, base_seconds * 2 ** max(0, min(attempts - 1, 30))))


def may_see(found: Return, caller: Caller) -> bool:
    """A scanner sees the returns bound for its location, a storefront those of the orders it
    placed; the other callers see every return."""
    return caller.works_at(found.destination_code) and caller.sees_orders_of(found.placed_by)


def may_return(order: ShippedOrder, caller: Caller) -> bool:
    """A storefront returns the orders it placed on the channels it sells on; the other callers
    (back office, the returns platform) any order."""
    return caller.sees_order(order.placed_by, order.channel)


def shown_to(found: Return, caller: Caller) -> Return:
    """The return as `caller` sees it: a storefront sees neither the fraud signals nor the
    inspector's notes and weighing (what the hub found is for the business to act on; the
    status and the refund say what the customer needs to know)."""
    if caller.sees_internals:
        return found
    return dataclasses.replace(found, fraud_flags=(), notes="", measured_weight_grams=None)


def require_works_at(caller: Caller, location_code: str, field: str = "location_code") -> None:
    """A scanner acts at its own location only (FORBIDDEN on `field` elsewhere)."""
    if not caller.works_at(location_code):
        raise DomainError(
            ErrorCode.FORBIDDEN,
            f"this scanner works at {caller.location_code}, not at {location_code}",
            field,
        )


# Returns platform connections a business holds; each is tried for a webhook's signature.
MAX_CONNECTIONS = 50
# Parked platform returns listed at once.
MAX_PARKED = 100


def parked_problem(problem: str) -> tuple[str, str]:
    """(code, message) of a parked return's problem, which is kept as "CODE: message"; a
    problem without a code is all message."""
    code, colon, message = problem.partition(": ")
    if not colon or not code.isupper() or " " in code:
        return "", problem
    return code, message


MIN_SECRET = 8


def require_connection(connection: PlatformConnection) -> PlatformConnection:
    """The connection with its fields trimmed and bounded: a code and channel code, a secret of
    at least MIN_SECRET characters, an http(s) API base URL and a token; INVALID_INPUT names
    the field at fault."""
    code = bounds.require_code(connection.code, "code", "code")
    channel = bounds.require_code(connection.channel, "channel", "channel")
    secret = bounds.require_text(connection.webhook_secret, "webhook_secret", "webhookSecret")
    if len(secret) < MIN_SECRET:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"webhookSecret must be at least {MIN_SECRET} characters",
            "webhook_secret",
        )
    url = bounds.require_text(connection.api_base_url, "api_base_url", "apiBaseUrl", 500)
    if not url.startswith(("https://", "http://")):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "apiBaseUrl must be an http(s) URL", "api_base_url"
        )
    token = bounds.require_text(connection.access_token, "access_token", "accessToken", 500)
    return replace(
        connection,
        code=code,
        channel=channel,
        webhook_secret=secret,
        api_base_url=url,
        access_token=token,
    )
