"""Orders types the storefront contract names; the resolvers come with the orders service's RPCs."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class SplitPolicy(Enum):
    ALLOW_SPLIT = strawberry.enum_value(
        "ALLOW_SPLIT", description="Ship from as many locations as the cheapest plan needs."
    )
    SHIP_COMPLETE = strawberry.enum_value(
        "SHIP_COMPLETE",
        description="All lines from one location, or the order is refused with INSUFFICIENT_STOCK.",
    )


@strawberry.enum
class OrderStatus(Enum):
    ALLOCATED = "ALLOCATED"
    BACKORDERED = "BACKORDERED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


@strawberry.enum
class ShipmentStatus(Enum):
    ALLOCATED = "ALLOCATED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


@strawberry.input
class AddressInput:
    name: str | None = strawberry.UNSET
    line1: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET
    country: str | None = strawberry.UNSET
    latitude: float
    longitude: float


@strawberry.input
class OrderLineInput:
    sku: str
    quantity: int
    unit_price_cents: int


@strawberry.input
class PlaceOrderInput:
    channel: str
    external_id: str = strawberry.field(
        description="The order's id in its sales channel; placing the same (channel, externalId) "
        "again returns the first order."
    )
    email: str
    ship_to: AddressInput
    lines: list[OrderLineInput]
    split_policy: SplitPolicy | None = SplitPolicy.ALLOW_SPLIT


TYPES = (SplitPolicy, OrderStatus, ShipmentStatus, AddressInput, OrderLineInput, PlaceOrderInput)
