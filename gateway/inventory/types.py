"""Inventory output types and their conversion from the inventory service's messages."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from gateway.context import Context
from gateway.convert import reply
from gateway.feed import StockChange
from gateway.mutations import Payload
from gateway.paging import PageInfo
from gateway.scalars import Int64
from oms.inventory.v1 import inventory_pb2 as pb
from services.kernel.caller import Caller
from services.kernel.capacity import load_ratio
from services.kernel.proto_enums import enum_name, enum_value

Info = strawberry.Info[Context, None]


@strawberry.enum
class LocationKind(Enum):
    DISTRIBUTION_CENTER = "DISTRIBUTION_CENTER"
    THIRD_PARTY_WAREHOUSE = "THIRD_PARTY_WAREHOUSE"
    STORE = "STORE"
    RETURN_HUB = "RETURN_HUB"

    @classmethod
    def from_proto(cls, kind: pb.LocationKind.ValueType) -> LocationKind:
        return cls[enum_name(pb.LocationKind, kind)]

    def to_proto(self) -> pb.LocationKind.ValueType:
        return enum_value(pb.LocationKind, self.name)


@strawberry.type
class Location:
    id: strawberry.ID
    code: str
    name: str
    kind: LocationKind
    latitude: float
    longitude: float
    ships_orders: bool = strawberry.field(description="Whether orders may ship from here.")
    accepts_returns: bool = strawberry.field(description="Whether returns may be sent here.")
    daily_ship_capacity: int | None = strawberry.field(
        description="Orders it can ship in a day; null: no limit."
    )
    daily_inspection_capacity: int | None = strawberry.field(
        description="Returns it can inspect in a day; null: no limit."
    )

    @strawberry.field(description="Its shipments allocated and not yet shipped.")
    async def ship_backlog(self, info: Info) -> int:
        return await info.context.backlogs.ship.load(self.code)

    @strawberry.field(
        description="shipBacklog ÷ dailyShipCapacity (1.0: a day's work waits; at 1.0 or more "
        "routing uses it only when no other location can serve); null without a capacity."
    )
    async def ship_backlog_ratio(self, info: Info) -> float | None:
        return load_ratio(await self.ship_backlog(info), self.daily_ship_capacity)

    @strawberry.field(
        description="Returns on their way here or received here and not yet inspected."
    )
    async def inspection_backlog(self, info: Info) -> int:
        return await info.context.backlogs.inspection.load(self.code)

    @strawberry.field(
        description="inspectionBacklog ÷ dailyInspectionCapacity (at 1.0 or more new returns "
        "go to another hub within reach, else the DC); null without a capacity."
    )
    async def inspection_backlog_ratio(self, info: Info) -> float | None:
        return load_ratio(await self.inspection_backlog(info), self.daily_inspection_capacity)

    @classmethod
    def from_proto(cls, location: pb.Location) -> Location:
        return reply(cls, location)


@strawberry.type
class Sku:
    code: str
    title: str
    unit_cost_cents: int
    weight_grams: int
    serialized: bool
    made_from_sku: str | None = strawberry.field(
        description="The blank it is made to order from; null when stocked as itself."
    )

    @classmethod
    def from_proto(cls, sku: pb.Sku) -> Sku:
        return reply(cls, sku, made_from_sku=sku.made_from_sku or None)


@strawberry.type(description="Units of one SKU at one location, in each state.")
class StockLevel:
    sku: str
    location_code: strawberry.Private[str]
    on_hand: int
    reserved: int
    available: int = strawberry.field(description="onHand - reserved; 0 while on hold.")
    in_transit: int
    pending_inspection: int
    in_repair: int
    on_hold: bool = strawberry.field(
        description="Not in the client contract. A count's open discrepancy beyond the drift "
        "threshold: nothing more sells from here until it is resolved."
    )

    @strawberry.field
    async def location(self, info: strawberry.Info[Context, None]) -> Location:
        return await _location(info, self.location_code)

    @classmethod
    def from_proto(cls, level: pb.StockLevel) -> StockLevel:
        return reply(cls, level)


@strawberry.type
class StockLevelEdge:
    cursor: str
    node: StockLevel


@strawberry.type
class StockLevelConnection:
    edges: list[StockLevelEdge]
    page_info: PageInfo

    @classmethod
    def from_proto(cls, page: pb.ListStockLevelsResponse) -> StockLevelConnection:
        return cls(
            edges=[
                StockLevelEdge(cursor=e.cursor, node=StockLevel.from_proto(e.level))
                for e in page.edges
            ],
            page_info=PageInfo.from_proto(page),
        )


async def _location(info: strawberry.Info[Context, None], code: str) -> Location:
    location = await info.context.loaders.locations.load(code)
    if location is None:
        raise LookupError(f"stock level at unknown location {code!r}")
    return Location.from_proto(location)


HIDDEN_FROM_STOREFRONTS = "Null for storefronts."


@strawberry.type(
    description="A stock level right after it changed, and why it changed. A storefront sees "
    "what it may sell (the SKU, where, and the units available there); the other states and "
    "the reason, which names other buyers' orders and the business's own moves, are null."
)
class InventoryChange:
    sku: str
    location_code: strawberry.Private[str]
    available: int = strawberry.field(description="onHand - reserved.")
    occurred_at: datetime
    on_hand: int | None = strawberry.field(description=HIDDEN_FROM_STOREFRONTS)
    reserved: int | None = strawberry.field(description=HIDDEN_FROM_STOREFRONTS)
    in_transit: int | None = strawberry.field(description=HIDDEN_FROM_STOREFRONTS)
    pending_inspection: int | None = strawberry.field(description=HIDDEN_FROM_STOREFRONTS)
    in_repair: int | None = strawberry.field(description=HIDDEN_FROM_STOREFRONTS)
    reason: str | None = strawberry.field(description=HIDDEN_FROM_STOREFRONTS)

    @strawberry.field
    async def location(self, info: strawberry.Info[Context, None]) -> Location:
        return await _location(info, self.location_code)

    @classmethod
    def from_change(cls, change: StockChange, caller: Caller | None) -> InventoryChange:
        """The change as `caller` may see it (the feed comes from the broker, not from a
        service that would decide it)."""
        if caller is not None and caller.sees_internals:
            return reply(cls, change.level, occurred_at=change.occurred_at)
        level = change.level
        return cls(
            sku=level.sku,
            location_code=level.location_code,
            available=level.available,
            occurred_at=change.occurred_at,
            on_hand=None,
            reserved=None,
            in_transit=None,
            pending_inspection=None,
            in_repair=None,
            reason=None,
        )


@strawberry.type
class SkuAvailability:
    sku: str
    available: Int64 = strawberry.field(
        description="Summed over the locations that ship: may exceed a 32-bit Int."
    )


@strawberry.type
class SafetyStock:
    sku: str
    units: int


@strawberry.type
class Channel:
    code: str
    default_safety_stock: int
    safety_stock: list[SafetyStock]
    allow_backorders: bool = strawberry.field(
        description="Whether orders short on hand are accepted against units on order."
    )

    @classmethod
    def from_proto(cls, channel: pb.Channel) -> Channel:
        return reply(cls, channel)


@strawberry.type
class UpsertLocationPayload(Payload):
    location: Location | None = None


@strawberry.type
class UpsertSkuPayload(Payload):
    sku: Sku | None = None


@strawberry.type
class AdjustStockPayload(Payload):
    stock_level: StockLevel | None = None


@strawberry.type
class UpsertChannelPayload(Payload):
    channel: Channel | None = None
