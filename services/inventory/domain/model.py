"""The inventory's nouns: locations, SKUs, stock levels and the movements that change them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class LocationKind(StrEnum):
    DISTRIBUTION_CENTER = "DISTRIBUTION_CENTER"
    THIRD_PARTY_WAREHOUSE = "THIRD_PARTY_WAREHOUSE"
    STORE = "STORE"
    RETURN_HUB = "RETURN_HUB"


class SourceType(StrEnum):
    """What caused a stock movement; every ledger row names one."""

    ADJUSTMENT = "ADJUSTMENT"
    RESERVATION = "RESERVATION"
    SHIPMENT = "SHIPMENT"
    RETURN = "RETURN"
    RECEIPT = "RECEIPT"
    WORK_ORDER = "WORK_ORDER"
    COUNT = "COUNT"


class ReservationStatus(StrEnum):
    HELD = "HELD"
    RELEASED = "RELEASED"
    COMMITTED = "COMMITTED"
    PARTIALLY_COMMITTED = "PARTIALLY_COMMITTED"


@dataclass(frozen=True)
class Location:
    id: str
    code: str
    name: str
    kind: LocationKind
    latitude: float
    longitude: float
    ships_orders: bool
    accepts_returns: bool
    # What it can do in a day; None: no limit.
    daily_ship_capacity: int | None = None
    daily_inspection_capacity: int | None = None


@dataclass(frozen=True)
class LocationChange:
    """An upsert of a location by code as the operator sent it; None is a part left out."""

    code: str
    name: str
    kind: LocationKind | None
    latitude: float
    longitude: float
    ships_orders: bool | None = None
    accepts_returns: bool | None = None
    daily_ship_capacity: int | None = None
    daily_inspection_capacity: int | None = None


@dataclass(frozen=True)
class Sku:
    code: str
    title: str
    unit_cost_cents: int
    weight_grams: int
    serialized: bool
    # Made to order: the blank each unit is made from by a value-add step; empty: stocked.
    made_from_sku: str = ""


# Slots (here and in AppliedMovement): an import holds two levels per row, and an instance
# without a `__dict__` is one object, not two, for the garbage collector to walk.
@dataclass(frozen=True, slots=True)
class StockLevel:
    """Units of one SKU at one location, by state. Reserved units are part of on hand;
    promised units (backorders) are part of in transit when promised. A level `on_hold` (a
    count found it off by more than the threshold) has nothing available: its units are held
    back from sale until an operator decides, and only what was reserved before still ships."""

    sku: str
    location_code: str
    on_hand: int = 0
    reserved: int = 0
    in_transit: int = 0
    pending_inspection: int = 0
    in_repair: int = 0
    promised: int = 0
    on_hold: bool = False
    # One more with every change to the level's row; not part of what the level holds, so
    # two levels with the same units are equal whatever their histories.
    version: int = field(default=0, compare=False)

    @property
    def available(self) -> int:
        return 0 if self.on_hold else self.on_hand - self.reserved


@dataclass(frozen=True)
class InventoryValue:
    """Units in each state at their SKU's unit cost, in cents; sellable is on hand less
    reserved, so sellable + reserved is what is on hand."""

    sellable: int = 0
    reserved: int = 0
    in_transit: int = 0
    pending_inspection: int = 0
    in_repair: int = 0


@dataclass(frozen=True)
class Adjustment:
    """A change to on-hand units an operator asked for under an idempotency key."""

    key: str
    sku: str
    location_code: str
    delta: int


@dataclass(frozen=True)
class StockDelta:
    """A signed change to each state of one stock level."""

    on_hand: int = 0
    reserved: int = 0
    in_transit: int = 0
    pending_inspection: int = 0
    in_repair: int = 0
    promised: int = 0

    @property
    def claims_available(self) -> bool:
        """Whether it reserves units already on hand for a new holder (a level on hold
        refuses it); a backorder filled by a receipt, or units made for an order that held
        their blank, take nothing that was for sale."""
        return self.reserved > 0 and self.on_hand == 0 and self.promised == 0


@dataclass(frozen=True)
class Movement:
    """One change to one stock level and its cause: what a ledger row records."""

    sku: str
    location_code: str
    delta: StockDelta
    reason: str
    source_type: SourceType
    source_id: str

    @property
    def claims_available(self) -> bool:
        """Whether it uses units that were for sale, which a level on hold refuses: a new
        reservation of units on hand, or a work order consuming parts straight off on hand (a
        unit the node says it does not have cannot go into a kit either). Units a work order
        held before the hold were taken off sale then, and are consumed as held."""
        internal_use = (
            self.source_type is SourceType.WORK_ORDER
            and self.delta.on_hand < 0
            and self.delta.reserved == 0
        )
        return self.delta.claims_available or internal_use


@dataclass(frozen=True)
class LedgerEntry:
    """A movement as the append-only ledger holds it: numbered in the order it was applied."""

    id: int
    movement: Movement
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class AppliedMovement:
    """What applying a movement left: the level after it, and its ledger entry's number."""

    level: StockLevel
    movement_id: int


@dataclass(frozen=True)
class ReservationLine:
    sku: str
    location_code: str
    quantity: int


@dataclass(frozen=True)
class Reservation:
    key: str
    status: ReservationStatus
    held: tuple[ReservationLine, ...] = ()
    committed: tuple[ReservationLine, ...] = ()
    released: tuple[ReservationLine, ...] = ()
    # Backorders: units still on their way, held once a receipt brings them.
    promised: tuple[ReservationLine, ...] = ()


@dataclass(frozen=True)
class SafetyStock:
    sku: str
    units: int


@dataclass(frozen=True)
class Channel:
    code: str
    default_safety_stock: int
    safety_stock: tuple[SafetyStock, ...] = ()
    # Orders short on hand may be promised units on open purchase orders.
    allow_backorders: bool = False


@dataclass(frozen=True)
class Supply:
    """Units of a purchase order line still to come, and when they are expected."""

    expected_at: datetime | None
    units: int


class DiscrepancyStatus(StrEnum):
    OPEN = "OPEN"
    ACCEPTED = "ACCEPTED"
    DISMISSED = "DISMISSED"
    # A later count of the SKU at the location replaced it.
    CLOSED = "CLOSED"


class DiscrepancyDecision(StrEnum):
    ACCEPT = "ACCEPT"
    DISMISS = "DISMISS"


@dataclass(frozen=True)
class CountLine:
    sku: str
    counted: int


@dataclass(frozen=True)
class StockCount:
    """A location's count as a node or a person reported it; `complete`: every SKU the
    location holds was counted, so one left out was counted 0."""

    location_code: str
    source: str
    lines: tuple[CountLine, ...]
    complete: bool = False


@dataclass(frozen=True)
class DriftThreshold:
    """How far a count may differ from our on hand before the level is held back from sale:
    at least `units` units, or at least `percent` percent of our on hand, either way."""

    units: int = 25
    percent: int = 10


@dataclass(frozen=True)
class Discrepancy:
    """One SKU a count found different from our on hand at a location; `difference` is theirs
    less ours and `value_cents` that many units at the SKU's unit cost."""

    id: int
    sku: str
    location_code: str
    ours: int
    theirs: int
    difference: int
    value_cents: int
    source: str
    counted_at: datetime
    status: DiscrepancyStatus = DiscrepancyStatus.OPEN
    holds: bool = False
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class CountReconciliation:
    discrepancies: tuple[Discrepancy, ...]
    compared: int
    matched: int
    closed: int
