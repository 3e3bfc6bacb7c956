"""The returns' nouns and states. Return status, line disposition and refund status are three
separate fields, as Shopify keeps them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReturnStatus(StrEnum):
    REQUESTED = "REQUESTED"
    RECEIVED = "RECEIVED"
    INSPECTED = "INSPECTED"
    REJECTED = "REJECTED"
    CLOSED = "CLOSED"


class ReturnReason(StrEnum):
    COLOR = "COLOR"
    DEFECTIVE = "DEFECTIVE"
    NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED"
    OTHER = "OTHER"
    SIZE_TOO_LARGE = "SIZE_TOO_LARGE"
    SIZE_TOO_SMALL = "SIZE_TOO_SMALL"
    STYLE = "STYLE"
    UNWANTED = "UNWANTED"
    WRONG_ITEM = "WRONG_ITEM"


class Grade(StrEnum):
    NEW = "NEW"
    LIKE_NEW = "LIKE_NEW"
    GOOD = "GOOD"
    DAMAGED = "DAMAGED"
    UNSALEABLE = "UNSALEABLE"


class Disposition(StrEnum):
    RESTOCK = "RESTOCK"
    REFURBISH = "REFURBISH"
    LIQUIDATE = "LIQUIDATE"
    RECYCLE = "RECYCLE"


class RefundStatus(StrEnum):
    PENDING = "PENDING"
    ISSUED = "ISSUED"
    WITHHELD = "WITHHELD"


class FraudFlag(StrEnum):
    WEIGHT_MISMATCH = "WEIGHT_MISMATCH"
    SERIAL_MISMATCH = "SERIAL_MISMATCH"
    QUANTITY_MISMATCH = "QUANTITY_MISMATCH"


@dataclass(frozen=True)
class ReturnSite:
    """A location that may take returns, as the returns service sees it."""

    code: str
    kind: str
    latitude: float
    longitude: float
    # Returns it inspects in a day (None: no limit), and its returns on their way or received
    # and not inspected.
    daily_inspection_capacity: int | None = None
    backlog: int = 0


@dataclass(frozen=True)
class CatalogueSku:
    """What the catalogue says about a SKU that matters to a return."""

    code: str
    weight_grams: int
    serialized: bool


@dataclass(frozen=True)
class ShippedParcel:
    """One shipped shipment of an order: when it left and what it carried (sku, units, serials)."""

    shipped_at: datetime
    lines: tuple[tuple[str, int, tuple[str, ...]], ...]


@dataclass(frozen=True)
class ShippedOrder:
    """An order as the returns service needs it: its channel, where it went, what was paid and
    what has shipped (only shipped shipments)."""

    id: str
    channel: str
    ship_to: tuple[float, float]
    placed_by: str
    # (sku, units, unit price in cents) per order line.
    lines: tuple[tuple[str, int, int], ...]
    parcels: tuple[ShippedParcel, ...]


@dataclass(frozen=True)
class ShippedLine:
    """What the order shipped of one SKU: units, price paid, serials, weight per unit, and when
    its last parcel left (the return window runs from then)."""

    sku: str
    quantity: int
    unit_price_cents: int
    unit_weight_grams: int
    serialized: bool
    serial_numbers: tuple[str, ...] = ()
    shipped_at: datetime | None = None


@dataclass(frozen=True)
class RequestedLine:
    sku: str
    quantity: int
    reason: str


@dataclass(frozen=True)
class NewReturn:
    order_id: str
    lines: tuple[RequestedLine, ...]
    # Where the customer is now; the order's ship-to when None.
    customer: tuple[float, float] | None = None
    # Chosen by the client: the same key again, for the same order, answers the first return.
    idempotency_key: str = ""


@dataclass(frozen=True)
class AcceptedReturn:
    """A request that passed every check, as it is stored: routed, costed, and with what the
    order shipped of each requested SKU (the snapshot inspection checks the parcel against)."""

    id: str
    order_id: str
    placed_by: str
    destination: ReturnSite
    estimated_cost_cents: int
    centralized_cost_cents: int
    customer: tuple[float, float]
    lines: tuple[RequestedLine, ...]
    shipped: Mapping[str, ShippedLine]
    requested_at: datetime
    idempotency_key: str = ""
    expected_inspection_hours: float | None = None
    # Set when a returns platform started the return.
    platform: PlatformLink | None = None


@dataclass(frozen=True)
class ReturnParcel:
    """A return as the hub handles it: where it goes, where it stands, what it asks for, and
    what the order shipped of those SKUs as of the request (so inspection needs no other
    service)."""

    id: str
    order_id: str
    status: ReturnStatus
    destination_code: str
    lines: tuple[RequestedLine, ...]
    shipped: Mapping[str, ShippedLine]
    # The destination's daily inspection capacity when the return was routed (None: no limit).
    destination_capacity: int | None = None
    # The returns platform connection it came through; "" for a return requested here.
    platform_code: str = ""


@dataclass(frozen=True)
class InspectedUnit:
    sku: str
    grade: Grade
    serial_number: str = ""


@dataclass(frozen=True)
class Inspection:
    return_id: str
    units: tuple[InspectedUnit, ...]
    measured_weight_grams: int | None = None
    notes: str = ""
    # The scanner's own location when a scanner inspects; empty for back-office tools.
    acting_location_code: str = ""


@dataclass(frozen=True)
class SettledUnit:
    """An inspected unit with its disposition and the requested line it answers (None for a
    unit the return never asked for, which only a rejected return can hold)."""

    unit: InspectedUnit
    line_number: int | None
    disposition: Disposition | None
    settled: bool


@dataclass(frozen=True)
class Verdict:
    """What an inspection decided: the return's next status, why the parcel is not what was
    sold (no flags: verified), each unit's disposition, and the refund it earns (verified) or
    withholds (rejected)."""

    status: ReturnStatus
    fraud_flags: tuple[FraudFlag, ...]
    units: tuple[SettledUnit, ...]
    refund_cents: int
    notes: str = ""
    measured_weight_grams: int | None = None

    @property
    def verified(self) -> bool:
        return not self.fraud_flags


@dataclass(frozen=True)
class ReturnLineView:
    """A line as clients see it: the requested line, split by grade and disposition once
    inspected."""

    sku: str
    quantity: int
    reason: str
    grade: str = ""
    disposition: str = ""
    settled_quantity: int = 0


@dataclass(frozen=True)
class Refund:
    id: str
    return_id: str
    order_id: str
    status: RefundStatus
    amount_cents: int
    currency: str
    provider: str
    issued_at: datetime | None = None


@dataclass(frozen=True)
class RefundPayment:
    """What a provider needs to pay one refund."""

    refund_id: str
    return_id: str
    order_id: str
    amount_cents: int
    currency: str
    # The platform's return id when a returns platform pays it ("" otherwise).
    platform_return_id: str = ""


@dataclass(frozen=True)
class RefundAttempt:
    """A refund claimed for one try at paying it: the `attempt`-th (counting this one), with
    the provider it was recorded for and the return's platform connection ("" for none)."""

    payment: RefundPayment
    attempt: int
    provider: str = ""
    platform_code: str = ""


class Platform(StrEnum):
    LOOP = "LOOP"
    HAPPY_RETURNS = "HAPPY_RETURNS"
    NARVAR = "NARVAR"


@dataclass(frozen=True)
class PlatformConnection:
    """A returns platform account: how its webhooks are verified and its API reached. The
    secret and the token never leave the service."""

    code: str
    platform: Platform
    # The sales channel whose orders it returns: their external id is the platform's order id.
    channel: str
    webhook_secret: str
    api_base_url: str
    access_token: str
    connected_at: datetime | None = None


@dataclass(frozen=True)
class PlatformLink:
    """Where a return came from: the connection, the platform's return id, its label."""

    connection_code: str
    platform_return_id: str
    tracking_number: str = ""


class Direction(StrEnum):
    IN = "IN"  # the platform told us
    OUT = "OUT"  # we tell the platform


class UpdateStatus(StrEnum):
    PENDING = "PENDING"  # owed to the platform, not yet taken
    SENT = "SENT"
    FAILED = "FAILED"  # refused by the platform: an operator looks at last_error
    ACCEPTED = "ACCEPTED"  # an inbound update we acted on
    PARKED = "PARKED"  # an inbound return we could not map: kept for an operator


class UpdateKind(StrEnum):
    RETURN_CREATED = "RETURN_CREATED"
    RECEIVED = "RECEIVED"
    INSPECTED = "INSPECTED"
    REJECTED = "REJECTED"
    REFUNDED = "REFUNDED"


@dataclass(frozen=True)
class ParkedPlatformReturn:
    """A platform's return we could not map, kept for an operator: the refusal's code and
    message (an unknown order or SKU, nothing returnable) and when it arrived."""

    connection_code: str
    platform: Platform
    platform_return_id: str
    problem_code: str
    problem: str
    recorded_at: datetime


@dataclass(frozen=True)
class PlatformUpdate:
    """One entry of a return's history with its platform, either way."""

    id: str
    connection_code: str
    direction: Direction
    kind: str
    status: UpdateStatus
    recorded_at: datetime
    return_id: str | None = None
    # Short text: the fraud flags of REJECTED ("WEIGHT_MISMATCH,SERIAL_MISMATCH"), the problem
    # of a PARKED return.
    detail: str = ""
    platform_return_id: str = ""
    sent_at: datetime | None = None
    last_error: str = ""


@dataclass(frozen=True)
class Return:
    id: str
    order_id: str
    status: ReturnStatus
    destination_code: str
    destination_kind: str
    estimated_cost_cents: int
    centralized_cost_cents: int
    lines: tuple[ReturnLineView, ...]
    fraud_flags: tuple[str, ...]
    refund: Refund | None
    requested_at: datetime
    received_at: datetime | None = None
    inspected_at: datetime | None = None
    closed_at: datetime | None = None
    notes: str = ""
    measured_weight_grams: int | None = None
    placed_by: str = ""
    # Hours until its destination inspects it, as routing saw the destination's backlog and
    # capacity; None when the destination declared no capacity.
    expected_inspection_hours: float | None = None
    platform_code: str = ""
    platform_return_id: str = ""
    tracking_number: str = ""
    platform_updates: tuple[PlatformUpdate, ...] = ()
