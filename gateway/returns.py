"""Returns types the scanner contract names; the resolvers come with the returns service's RPCs."""

from __future__ import annotations

from enum import Enum

import strawberry

from gateway.orders import AddressInput


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


@strawberry.input
class ReturnLineInput:
    sku: str
    quantity: int
    reason: ReturnReason


@strawberry.input
class RequestReturnInput:
    order_id: strawberry.ID
    lines: list[ReturnLineInput]
    customer_address: AddressInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="Where the customer is now; the order's ship-to address when left out.",
    )


@strawberry.input
class InspectedLineInput:
    sku: str
    grade: Grade
    serial_number: str | None = strawberry.UNSET


@strawberry.input
class InspectReturnInput:
    return_id: strawberry.ID
    lines: list[InspectedLineInput]
    measured_weight_grams: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Weight of the parcel's contents as scanned at the hub.",
    )
    notes: str | None = strawberry.UNSET


TYPES = (
    ReturnReason,
    ReturnStatus,
    Grade,
    Disposition,
    RefundStatus,
    ReturnLineInput,
    RequestReturnInput,
    InspectedLineInput,
    InspectReturnInput,
)
