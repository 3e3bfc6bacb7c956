"""Orders output types and their conversion from the orders service's messages."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from gateway.context import Context
from gateway.convert import reply
from gateway.fulfillment_nodes import ShipmentEvent, history_of, tracking_of
from gateway.inventory.types import Location
from gateway.mutations import Payload
from gateway.paging import PageInfo
from gateway.scalars import Int64
from oms.orders.v1 import orders_pb2 as pb
from services.kernel.proto_enums import enum_value

Info = strawberry.Info[Context, None]


@strawberry.enum
class SplitPolicy(Enum):
    ALLOW_SPLIT = strawberry.enum_value(
        "ALLOW_SPLIT", description="Ship from as many locations as the cheapest plan needs."
    )
    SHIP_COMPLETE = strawberry.enum_value(
        "SHIP_COMPLETE",
        description="All lines from one location, or the order is refused with INSUFFICIENT_STOCK.",
    )

    def to_proto(self) -> pb.SplitPolicy.ValueType:
        return enum_value(pb.SplitPolicy, self.name)


@strawberry.enum
class OrderStatus(Enum):
    ALLOCATED = "ALLOCATED"
    BACKORDERED = "BACKORDERED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"

    def to_proto(self) -> pb.OrderStatus.ValueType:
        return enum_value(pb.OrderStatus, self.name)


@strawberry.enum
class ShipmentStatus(Enum):
    ALLOCATED = "ALLOCATED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


@strawberry.enum(description="How the ship-to address got the point its routing measures from.")
class AddressPlacement(Enum):
    COORDINATES = strawberry.enum_value(
        "COORDINATES", description="The latitude and longitude the client sent."
    )
    POSTAL_CODE = strawberry.enum_value("POSTAL_CODE", description="Its US ZIP code.")
    CITY = strawberry.enum_value("CITY", description="Its city, in its country.")
    COUNTRY = strawberry.enum_value(
        "COUNTRY", description="Its country's capital (or largest city): the coarsest guess."
    )


async def _location(info: Info, code: str) -> Location:
    # Through the request's loader, so a page of orders asks inventory once for all locations.
    location = await info.context.loaders.locations.load(code)
    if location is None:
        raise LookupError(f"order refers to unknown location {code!r}")
    return Location.from_proto(location)


@strawberry.type
class Address:
    name: str | None
    line1: str | None
    city: str | None
    postal_code: str | None
    country: str | None
    latitude: float
    longitude: float

    @classmethod
    def from_proto(cls, address: pb.Address) -> Address:
        return reply(cls, address)


@strawberry.type
class OrderLine:
    sku: str
    quantity: int
    unit_price_cents: int


@strawberry.type
class ShipmentLine:
    sku: str
    quantity: int
    serial_numbers: list[str] = strawberry.field(
        description="Serial numbers of the units shipped (serialized goods); empty until shipped."
    )


@strawberry.type(description="The units of an order that leave from one location.")
class Shipment:
    id: strawberry.ID
    status: ShipmentStatus
    location_code: strawberry.Private[str]
    lines: list[ShipmentLine]
    tracking_number: str | None
    shipped_at: datetime | None

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await _location(info, self.location_code)

    @strawberry.field(
        description="The carrier a third-party warehouse shipped it with (ShipBob's order.shipped"
        "); null for shipments from our own locations, which record no carrier."
    )
    async def carrier(self, info: Info) -> str | None:
        tracking = await tracking_of(info, self.id)
        return tracking.carrier or None if tracking else None

    @strawberry.field(
        description="Statuses the shipment reached at its third-party warehouse (created at "
        "ShipBob, shipped), oldest first; empty for other locations."
    )
    async def third_party_history(self, info: Info) -> list[ShipmentEvent]:
        return history_of(await tracking_of(info, self.id))

    @classmethod
    def from_proto(cls, shipment: pb.Shipment) -> Shipment:
        return reply(cls, shipment)


@strawberry.type(description="One parcel of the routing plan and what it costs.")
class Parcel:
    location_code: strawberry.Private[str]
    distance_km: float = strawberry.field(description="Great-circle distance to the ship-to.")
    shipping_cents: Int64
    handling_cents: Int64
    extra_parcel_cents: Int64 = strawberry.field(
        description="The charge for a parcel past the first."
    )
    backlog_cents: Int64 = strawberry.field(
        description="The charge for the location's orders waiting past a day's ship capacity "
        "(0 under it): paid only when no location under its capacity could serve."
    )
    total_cents: Int64
    units: int

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await _location(info, self.location_code)


@strawberry.type(description="Why the order ships from where it does: the cheapest plan found.")
class Routing:
    parcels: list[Parcel]
    total_cents: Int64
    algorithm: str = strawberry.field(
        description='"exact", or "greedy" for orders with too many candidate locations to search.'
    )
    candidates_considered: int
    explanation: str
    address_placement: AddressPlacement = strawberry.field(
        description="How the ship-to address was placed: without coordinates, from the postal "
        "code, city or country with data the server ships."
    )

    @classmethod
    def from_proto(cls, routing: pb.Routing) -> Routing:
        return reply(cls, routing)


@strawberry.type
class Order:
    id: strawberry.ID
    number: str
    status: OrderStatus
    channel: str
    external_id: str
    email: str
    ship_to: Address
    lines: list[OrderLine]
    shipments: list[Shipment]
    routing: Routing | None = strawberry.field(
        description="Null for an order recovered after a crash (its stock was held, but the "
        "plan that chose it was not recorded), and for storefronts: the cost model is internal."
    )
    placed_at: datetime
    shipped_at: datetime | None
    cancelled_at: datetime | None
    backorder_expected_at: datetime | None = strawberry.field(
        description="When a backordered order's units were expected in (its purchase order's "
        "date); null for an order never backordered or one whose purchase order has no date."
    )

    @classmethod
    def from_proto(cls, order: pb.Order) -> Order:
        return reply(cls, order)


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo

    @classmethod
    def from_proto(cls, page: pb.ListOrdersResponse) -> OrderConnection:
        return cls(
            edges=[OrderEdge(cursor=e.cursor, node=Order.from_proto(e.order)) for e in page.edges],
            page_info=PageInfo.from_proto(page),
        )


@strawberry.type
class PlaceOrderPayload(Payload):
    order: Order | None = None


@strawberry.type
class CancelOrderPayload(Payload):
    order: Order | None = None


@strawberry.type
class ShipShipmentPayload(Payload):
    shipment: Shipment | None = None
    order: Order | None = None
