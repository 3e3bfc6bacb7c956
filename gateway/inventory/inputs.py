"""Inventory input types and the requests they become."""

from __future__ import annotations

import strawberry

from gateway.convert import request
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

    def to_proto(self) -> pb.UpsertLocationRequest:
        # Presence matters: a flag left out keeps its value (or takes the kind's default).
        return request(pb.UpsertLocationRequest, self)


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
    # Beyond the contract, optional so that its documents stay valid.
    made_from_sku: str | None = strawberry.field(
        default=None,
        description=(
            "Made to order from this blank by a value-add step (an embroidered hoodie from a "
            'plain one). Left out: as declared before; "": stocked as itself.'
        ),
    )

    def to_proto(self) -> pb.UpsertSkuRequest:
        return pb.UpsertSkuRequest(
            code=self.code,
            title=self.title,
            unit_cost_cents=self.unit_cost_cents,
            weight_grams=self.weight_grams,
            serialized=bool(self.serialized),
            made_from_sku=self.made_from_sku,
        )


@strawberry.input
class StockAdjustmentInput:
    sku: str
    location_code: str
    delta: int = strawberry.field(description="Signed change to on-hand units.")
    reason: str
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Chosen by the client: sending the same key again changes nothing and "
        "answers the stock level as it is (the same key with another SKU, location or delta "
        "is refused).",
    )

    def to_proto(self) -> pb.AdjustStockRequest:
        return pb.AdjustStockRequest(
            sku=self.sku,
            location_code=self.location_code,
            delta=self.delta,
            reason=self.reason,
            idempotency_key=self.idempotency_key or "",
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
    allow_backorders: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Accept orders short on hand against units on open purchase orders "
        "(BACKORDERED, allocated when the receipt lands). Left out: as it was (off for a new "
        "channel). An extension outside the client contract.",
    )

    def to_proto(self) -> pb.UpsertChannelRequest:
        request = pb.UpsertChannelRequest(
            code=self.code,
            default_safety_stock=self.default_safety_stock,
            safety_stock=[pb.SafetyStock(sku=s.sku, units=s.units) for s in self.safety_stock],
        )
        if isinstance(self.allow_backorders, bool):  # left out (UNSET) or null: unchanged
            request.allow_backorders = self.allow_backorders
        return request
