"""Returns output types and their conversion from the returns service's messages."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from gateway.context import Context
from gateway.convert import reply
from gateway.inventory.types import Location, LocationKind
from gateway.mutations import Payload
from gateway.paging import PageInfo
from gateway.scalars import Int64
from oms.returns.v1 import returns_pb2 as pb
from services.kernel.proto_enums import enum_value

Info = strawberry.Info[Context, None]


@strawberry.enum
class ReturnReason(Enum):
    COLOR = "COLOR"
    DEFECTIVE = "DEFECTIVE"
    NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED"
    OTHER = "OTHER"
    SIZE_TOO_LARGE = "SIZE_TOO_LARGE"
    SIZE_TOO_SMALL = "SIZE_TOO_SMALL"
    STYLE = "STYLE"
    UNWANTED = "UNWANTED"
    WRONG_ITEM = "WRONG_ITEM"


@strawberry.enum
class ReturnStatus(Enum):
    REQUESTED = "REQUESTED"
    RECEIVED = "RECEIVED"
    INSPECTED = "INSPECTED"
    REJECTED = "REJECTED"
    CLOSED = "CLOSED"

    def to_proto(self) -> pb.ReturnStatus.ValueType:
        return enum_value(pb.ReturnStatus, self.name)


@strawberry.enum
class Grade(Enum):
    NEW = "NEW"
    LIKE_NEW = "LIKE_NEW"
    GOOD = "GOOD"
    DAMAGED = "DAMAGED"
    UNSALEABLE = "UNSALEABLE"


@strawberry.enum
class Disposition(Enum):
    RESTOCK = "RESTOCK"
    REFURBISH = "REFURBISH"
    LIQUIDATE = "LIQUIDATE"
    RECYCLE = "RECYCLE"


@strawberry.enum
class RefundStatus(Enum):
    PENDING = "PENDING"
    ISSUED = "ISSUED"
    WITHHELD = "WITHHELD"


@strawberry.enum
class ReturnsPlatform(Enum):
    LOOP = "LOOP"
    HAPPY_RETURNS = "HAPPY_RETURNS"
    NARVAR = "NARVAR"


@strawberry.type(
    description="What was said about a return between us and its returns platform: IN the "
    "platform told us, OUT we told it (PENDING until it took it)."
)
class PlatformUpdate:
    direction: str
    kind: str
    status: str
    recorded_at: datetime
    sent_at: datetime | None
    detail: str

    @classmethod
    def from_proto(cls, update: pb.PlatformUpdate) -> PlatformUpdate:
        return reply(cls, update)


@strawberry.type(description="A returns platform account; its secret and token are never shown.")
class ReturnsPlatformConnection:
    code: str
    platform: ReturnsPlatform
    channel: str
    api_base_url: str
    connected_at: datetime

    @classmethod
    def from_proto(cls, connection: pb.ReturnsPlatformConnection) -> ReturnsPlatformConnection:
        return reply(cls, connection)


@strawberry.type(
    description="A platform's return we could not map (an unknown order or SKU, nothing "
    "returnable), kept for an operator: fix the cause, and the platform's next delivery or a "
    "return requested by hand takes it."
)
class ParkedPlatformReturn:
    connection_code: str
    platform: ReturnsPlatform
    platform_return_id: str
    problem_code: str = strawberry.field(description="The refusal's code, e.g. NOT_FOUND.")
    problem: str
    recorded_at: datetime

    @classmethod
    def from_proto(cls, parked: pb.ParkedPlatformReturn) -> ParkedPlatformReturn:
        return reply(cls, parked)


@strawberry.type
class ConnectReturnsPlatformPayload(Payload):
    connection: ReturnsPlatformConnection | None = None


async def _location(info: Info, code: str) -> Location:
    # Through the request's loader, so a hub's queue asks inventory once for its locations.
    location = await info.context.loaders.locations.load(code)
    if location is None:
        raise LookupError(f"return refers to unknown location {code!r}")
    return Location.from_proto(location)


@strawberry.type(description="Units of one SKU in a return; split by grade once inspected.")
class ReturnLine:
    sku: str
    quantity: int
    reason: ReturnReason
    grade: Grade | None = strawberry.field(description="Null until inspected.")
    disposition: Disposition | None = strawberry.field(description="Null until inspected.")
    settled_quantity: int = strawberry.field(
        description="Units whose disposition is carried out (restocked, refurbished, ...)."
    )

    @classmethod
    def from_proto(cls, line: pb.ReturnLine) -> ReturnLine:
        return reply(cls, line)


@strawberry.type
class Refund:
    status: RefundStatus
    amount_cents: Int64
    issued_at: datetime | None

    @classmethod
    def from_proto(cls, refund: pb.Refund) -> Refund:
        return reply(cls, refund)


@strawberry.type(
    description="A customer's return: where it goes, what inspection found, the refund."
)
class Return:
    id: strawberry.ID
    status: ReturnStatus
    order_id: strawberry.ID
    destination_code: strawberry.Private[str]
    estimated_cost_cents: Int64 = strawberry.field(description="Handling cost of the chosen route.")
    centralized_cost_cents: Int64 = strawberry.field(
        description="What the same return would cost through the distribution centre."
    )
    lines: list[ReturnLine]
    fraud_flags: list[str] = strawberry.field(
        description="Why the parcel is not what was sold (WEIGHT_MISMATCH, SERIAL_MISMATCH, "
        "QUANTITY_MISMATCH); empty when it is, and always for storefronts."
    )
    refund: Refund | None = strawberry.field(description="Null until inspected.")
    notes: str | None = strawberry.field(description="The inspector's notes; null for storefronts.")
    measured_weight_grams: int | None = strawberry.field(
        description="What the hub weighed; null for storefronts."
    )
    requested_at: datetime
    received_at: datetime | None
    inspected_at: datetime | None
    closed_at: datetime | None
    expected_inspection_hours: float | None = strawberry.field(
        description="Hours until its destination inspects it (and the refund follows), from "
        "that location's backlog and daily inspection capacity when the return was routed; "
        "null when the destination declared no capacity."
    )
    platform_code: str | None = strawberry.field(
        description="The returns platform connection that started the return; null otherwise."
    )
    platform_return_id: str | None = strawberry.field(
        description="The platform's own id of the return; null when none started it."
    )
    tracking_number: str | None = strawberry.field(
        description="The return label's carrier tracking number, when the platform sent one."
    )
    platform_updates: list[PlatformUpdate] = strawberry.field(
        description="The status history with the platform, oldest first (100 at most)."
    )

    @strawberry.field(description="Where the parcel goes: the hub near the customer, or a DC.")
    async def destination(self, info: Info) -> Location:
        return await _location(info, self.destination_code)

    @classmethod
    def from_proto(cls, found: pb.Return) -> Return:
        # Empty notes and no weight read as not given.
        given = {
            "notes": found.notes or None,
            "measured_weight_grams": found.measured_weight_grams or None,
            "expected_inspection_hours": (
                found.expected_inspection_hours
                if found.HasField("expected_inspection_hours")
                else None
            ),
            "platform_code": found.platform_code or None,
            "platform_return_id": found.platform_return_id or None,
            "tracking_number": found.tracking_number or None,
        }
        return reply(cls, found, **given)


@strawberry.type(description="Returns sent to one kind of location, and what they cost.")
class DestinationKindFigures:
    kind: LocationKind
    returns: int
    handling_cost_cents: Int64
    centralized_cost_cents: Int64 = strawberry.field(
        description="What the same returns would have cost through the distribution centre."
    )


@strawberry.type(description="What waits for inspection at one location now.")
class HubBacklog:
    location_code: strawberry.Private[str]
    awaiting_inspection: int
    oldest_minutes: int = strawberry.field(
        description="Minutes since the oldest parcel waiting there was received."
    )

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await _location(info, self.location_code)


@strawberry.type(
    description="Returns requested in the period: cost against the central route, how fast "
    "refunds and restocks happen; the backlog as it is now, whatever the period."
)
class ReturnsReport:
    returns: int
    by_destination_kind: list[DestinationKindFigures]
    handling_cost_cents: Int64
    centralized_cost_cents: Int64
    saving_cents: Int64 = strawberry.field(description="centralizedCostCents - handlingCostCents.")
    request_to_refund_hours_p50: float
    request_to_refund_hours_p90: float
    receipt_to_restock_hours_p50: float
    receipt_to_restock_hours_p90: float
    backlog: list[HubBacklog]
    awaiting_inspection: int

    @classmethod
    def from_proto(cls, report: pb.ReturnsReport) -> ReturnsReport:
        return reply(cls, report)


@strawberry.type
class RequestReturnPayload(Payload):
    return_: Return | None = strawberry.field(name="return", default=None)


@strawberry.type
class ReceiveReturnPayload(Payload):
    return_: Return | None = strawberry.field(name="return", default=None)


@strawberry.type
class InspectReturnPayload(Payload):
    return_: Return | None = strawberry.field(name="return", default=None)


@strawberry.type
class ReturnEdge:
    cursor: str
    node: Return


@strawberry.type
class ReturnConnection:
    edges: list[ReturnEdge]
    page_info: PageInfo

    @classmethod
    def from_proto(cls, page: pb.ListReturnsResponse) -> ReturnConnection:
        return cls(
            edges=[ReturnEdge(cursor=e.cursor, node=Return.from_proto(e.node)) for e in page.edges],
            page_info=PageInfo.from_proto(page),
        )
