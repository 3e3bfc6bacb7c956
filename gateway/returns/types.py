"""Returns output types and their conversion from the returns service's messages."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from gateway.context import Context
from gateway.inventory.types import Location, LocationKind
from gateway.mutations import Payload
from oms.returns.v1 import returns_pb2 as pb
from services.kernel.proto_enums import enum_name

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

    @classmethod
    def from_proto(cls, status: pb.ReturnStatus.ValueType) -> ReturnStatus:
        return cls[enum_name(pb.ReturnStatus, status)]


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

    @classmethod
    def from_proto(cls, status: pb.RefundStatus.ValueType) -> RefundStatus:
        return cls[enum_name(pb.RefundStatus, status)]


def _timestamp(value: str) -> datetime | None:
    """The service sends RFC 3339, empty until the state is reached."""
    return datetime.fromisoformat(value) if value else None


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
        return cls(
            sku=line.sku,
            quantity=line.quantity,
            reason=ReturnReason[enum_name(pb.ReturnReason, line.reason)],
            grade=Grade[enum_name(pb.Grade, line.grade)] if line.grade else None,
            disposition=(
                Disposition[enum_name(pb.Disposition, line.disposition)]
                if line.disposition
                else None
            ),
            settled_quantity=line.settled_quantity,
        )


@strawberry.type
class Refund:
    status: RefundStatus
    amount_cents: int
    issued_at: datetime | None

    @classmethod
    def from_proto(cls, refund: pb.Refund) -> Refund:
        return cls(
            status=RefundStatus.from_proto(refund.status),
            amount_cents=refund.amount_cents,
            issued_at=_timestamp(refund.issued_at),
        )


@strawberry.type(
    description="A customer's return: where it goes, what inspection found, the refund."
)
class Return:
    id: strawberry.ID
    status: ReturnStatus
    order_id: strawberry.ID
    destination_code: strawberry.Private[str]
    estimated_cost_cents: int = strawberry.field(description="Handling cost of the chosen route.")
    centralized_cost_cents: int = strawberry.field(
        description="What the same return would cost through the distribution centre."
    )
    lines: list[ReturnLine]
    fraud_flags: list[str] = strawberry.field(
        description="Why the parcel is not what was sold (WEIGHT_MISMATCH, SERIAL_MISMATCH, "
        "QUANTITY_MISMATCH); empty when it is."
    )
    refund: Refund | None = strawberry.field(description="Null until inspected.")
    notes: str | None
    measured_weight_grams: int | None
    requested_at: datetime
    received_at: datetime | None
    inspected_at: datetime | None
    closed_at: datetime | None

    @strawberry.field(description="Where the parcel goes: the hub near the customer, or a DC.")
    async def destination(self, info: Info) -> Location:
        return await _location(info, self.destination_code)

    @classmethod
    def from_proto(cls, r: pb.Return) -> Return:
        return cls(
            id=strawberry.ID(r.id),
            status=ReturnStatus.from_proto(r.status),
            order_id=strawberry.ID(r.order_id),
            destination_code=r.destination_code,
            estimated_cost_cents=r.estimated_cost_cents,
            centralized_cost_cents=r.centralized_cost_cents,
            lines=[ReturnLine.from_proto(line) for line in r.lines],
            fraud_flags=list(r.fraud_flags),
            refund=Refund.from_proto(r.refund) if r.HasField("refund") else None,
            notes=r.notes or None,
            measured_weight_grams=r.measured_weight_grams or None,
            requested_at=datetime.fromisoformat(r.requested_at),
            received_at=_timestamp(r.received_at),
            inspected_at=_timestamp(r.inspected_at),
            closed_at=_timestamp(r.closed_at),
        )


@strawberry.type(description="Returns sent to one kind of location, and what they cost.")
class DestinationKindFigures:
    kind: LocationKind
    returns: int
    handling_cost_cents: int
    centralized_cost_cents: int = strawberry.field(
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
    handling_cost_cents: int
    centralized_cost_cents: int
    saving_cents: int = strawberry.field(description="centralizedCostCents - handlingCostCents.")
    request_to_refund_hours_p50: float
    request_to_refund_hours_p90: float
    receipt_to_restock_hours_p50: float
    receipt_to_restock_hours_p90: float
    backlog: list[HubBacklog]
    awaiting_inspection: int

    @classmethod
    def from_proto(cls, report: pb.ReturnsReport) -> ReturnsReport:
        return cls(
            returns=report.returns,
            by_destination_kind=[
                DestinationKindFigures(
                    kind=LocationKind[k.kind],
                    returns=k.returns,
                    handling_cost_cents=k.handling_cost_cents,
                    centralized_cost_cents=k.centralized_cost_cents,
                )
                for k in report.by_destination_kind
            ],
            handling_cost_cents=report.handling_cost_cents,
            centralized_cost_cents=report.centralized_cost_cents,
            saving_cents=report.saving_cents,
            request_to_refund_hours_p50=report.request_to_refund_hours_p50,
            request_to_refund_hours_p90=report.request_to_refund_hours_p90,
            receipt_to_restock_hours_p50=report.receipt_to_restock_hours_p50,
            receipt_to_restock_hours_p90=report.receipt_to_restock_hours_p90,
            backlog=[
                HubBacklog(
                    location_code=b.location_code,
                    awaiting_inspection=b.awaiting_inspection,
                    oldest_minutes=b.oldest_minutes,
                )
                for b in report.backlog
            ],
            awaiting_inspection=report.awaiting_inspection,
        )


@strawberry.type
class RequestReturnPayload(Payload):
    return_: Return | None = strawberry.field(name="return", default=None)


@strawberry.type
class ReceiveReturnPayload(Payload):
    return_: Return | None = strawberry.field(name="return", default=None)


@strawberry.type
class InspectReturnPayload(Payload):
    return_: Return | None = strawberry.field(name="return", default=None)
