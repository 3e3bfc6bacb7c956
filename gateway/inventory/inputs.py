"""Inventory input types and the requests they become."""

from __future__ import annotations

import strawberry

from gateway.inventory.types import LocationKind
from oms.inventory.v1 import inventory_pb2 as pb


@strawberry.input
class LocationInput:
    code: str
    name: str
    kind: LocationKind
    latitude: float
    longitude: float
    ships_orders: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Left out or null: the default for the kind."
    )
    accepts_returns: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Left out or null: the default for the kind."
    )
    daily_ship_capacity: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Orders this location can ship in a day; no limit when left out.",
    )
    daily_inspection_capacity: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Returns this location can inspect in a day; no limit when left out.",
    )

    def capacities_given(self) -> list[str]:
        """The capacity fields the caller set (not acted on yet)."""
        given = {
            "dailyShipCapacity": self.daily_ship_capacity,
            "dailyInspectionCapacity": self.daily_inspection_capacity,
        }
        return [name for name, value in given.items() if isinstance(value, int)]

    def to_proto(self) -> pb.UpsertLocationRequest:
        request = pb.UpsertLocationRequest(
            code=self.code,
            name=self.name,
            kind=self.kind.to_proto(),
            latitude=self.latitude,
            longitude=self.longitude,
        )
        # Presence matters: a flag left unset takes the kind's default in the service.
        if isinstance(self.ships_orders, bool):
            request.ships_orders = self.ships_orders
        if isinstance(self.accepts_returns, bool):
            request.accepts_returns = self.accepts_returns
        return request


@strawberry.input
class SkuInput:
    code: str
    title: str
    unit_cost_cents: int
    weight_grams: int
    serialized: bool | None = strawberry.field(
        default=False,
        description=(
            "Serialized goods (phones, laptops) are refurbished, not restocked as-is, "
            "unless graded NEW."
        ),
    )

    def to_proto(self) -> pb.UpsertSkuRequest:
        return pb.UpsertSkuRequest(
            code=self.code,
            title=self.title,
            unit_cost_cents=self.unit_cost_cents,
            weight_grams=self.weight_grams,
            serialized=bool(self.serialized),
        )


@strawberry.input
class StockAdjustmentInput:
    sku: str
    location_code: str
    delta: int = strawberry.field(description="Signed change to on-hand units.")
    reason: str

    def to_proto(self) -> pb.AdjustStockRequest:
        return pb.AdjustStockRequest(
            sku=self.sku, location_code=self.location_code, delta=self.delta, reason=self.reason
        )


@strawberry.input
class SafetyStockInput:
    sku: str
    units: int


@strawberry.input
class ChannelInput:
    code: str
    default_safety_stock: int = strawberry.field(
        description="Units held back from every SKU without an override."
    )
    safety_stock: list[SafetyStockInput] = strawberry.field(
        default_factory=list,
        description="Per-SKU overrides; they replace the channel's previous overrides.",
    )

    def to_proto(self) -> pb.UpsertChannelRequest:
        return pb.UpsertChannelRequest(
            code=self.code,
            default_safety_stock=self.default_safety_stock,
            safety_stock=[pb.SafetyStock(sku=s.sku, units=s.units) for s in self.safety_stock],
        )
