"""Inventory queries, mutations and the stock feed subscription, each calling the inventory
service once (the locations they mention are batched through the request's loader)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

import strawberry

from gateway.context import Context
from gateway.errors import query_answer
from gateway.inventory.inputs import ChannelInput, LocationInput, SkuInput, StockAdjustmentInput
from gateway.inventory.types import (
    AdjustStockPayload,
    Channel,
    InventoryChange,
    Location,
    Sku,
    SkuAvailability,
    StockLevel,
    StockLevelConnection,
    UpsertChannelPayload,
    UpsertLocationPayload,
    UpsertSkuPayload,
)
from gateway.mutations import answer
from gateway.permissions import allow
from gateway.scalars import Int64
from oms.inventory.v1 import inventory_pb2 as pb
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from services.kernel import bounds
from services.kernel.caller import Role

if TYPE_CHECKING:  # the asyncio stub's type exists for the type checker only
    from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceAsyncStub

Info = strawberry.Info[Context, None]

STOCK_READERS = (Role.SCANNER, Role.BACKOFFICE, Role.ADMIN)
STOCK_WRITERS = (Role.BACKOFFICE, Role.ADMIN)
SELLERS = (Role.STOREFRONT, Role.BACKOFFICE, Role.ADMIN)


def answerable_in_memory(skus: list[str], channel: str) -> bool:
    """Whether the request is one the RPC would accept as it is (what it refuses, it refuses
    with its own codes and fields, so the read model leaves those to it)."""
    if len(skus) > bounds.MAX_CODES or bounds.text_problem(channel, bounds.MAX_CODE) is not None:
        return False
    if not channel or channel != channel.strip() or any(ch.isspace() for ch in channel):
        return False
    return all(bounds.text_problem(sku, bounds.MAX_CODE) is None for sku in skus)


def inventory_stub(info: Info) -> InventoryServiceAsyncStub:
    return info.context.services[InventoryServiceStub]


@strawberry.type
class InventoryQuery:
    @strawberry.field(extensions=allow(*STOCK_READERS))
    async def locations(self, info: Info) -> list[Location]:
        response = await query_answer(inventory_stub(info).ListLocations(pb.ListLocationsRequest()))
        return [Location.from_proto(location) for location in response.locations]

    @strawberry.field(
        extensions=allow(*STOCK_READERS), description="Every SKU when `codes` is left out."
    )
    async def skus(self, info: Info, codes: list[str] | None = None) -> list[Sku]:
        if codes is None:
            response = await query_answer(inventory_stub(info).ListSkus(pb.ListSkusRequest()))
            return [Sku.from_proto(sku) for sku in response.skus]
        found = await query_answer(info.context.loaders.skus.load_many(codes))
        return [Sku.from_proto(sku) for sku in found if sku is not None]

    @strawberry.field(
        extensions=allow(*STOCK_READERS),
        description="The SKU's level at each location (a scanner sees its own location only).",
    )
    async def stock_levels(self, info: Info, sku: str) -> list[StockLevel]:
        request = pb.GetStockLevelsRequest(skus=[sku])
        response = await query_answer(inventory_stub(info).GetStockLevels(request))
        return [StockLevel.from_proto(level) for level in response.levels]

    @strawberry.field(
        extensions=allow(*STOCK_READERS),
        description="The location's levels by SKU, `first` within 1..200; a scanner reads its "
        "own location only (FORBIDDEN).",
    )
    async def stock_levels_at(
        self, info: Info, location_code: str, first: int = 50, after: str | None = None
    ) -> StockLevelConnection:
        request = pb.ListStockLevelsRequest(
            location_code=location_code, first=first, after=after or ""
        )
        page = await query_answer(inventory_stub(info).ListStockLevels(request))
        return StockLevelConnection.from_proto(page)

    @strawberry.field(
        extensions=allow(*SELLERS),
        description="Sellable units per SKU over the locations that ship, less the channel's "
        "safety stock, never below zero.",
    )
    async def availability(
        self, info: Info, skus: list[str], channel: str
    ) -> list[SkuAvailability]:
        model = info.context.feed.availability
        if answerable_in_memory(skus, channel):
            kept = await query_answer(model.availability(inventory_stub(info), skus, channel))
            if kept is not None:
                return [SkuAvailability(sku=sku, available=Int64(n)) for sku, n in kept]
        request = pb.GetAvailabilityRequest(skus=skus, channel=channel)
        response = await query_answer(inventory_stub(info).GetAvailability(request))
        return [
            SkuAvailability(sku=a.sku, available=Int64(a.available)) for a in response.availability
        ]


@strawberry.type
class InventoryMutation:
    @strawberry.mutation(
        extensions=allow(*STOCK_WRITERS), description="Creates or updates by code."
    )
    async def upsert_location(self, info: Info, input: LocationInput) -> UpsertLocationPayload:
        call = inventory_stub(info).UpsertLocation(input.to_proto())
        try:
            return await answer(UpsertLocationPayload, call, location=Location.from_proto)
        finally:
            # Read after write here, before its LocationChanged arrives.
            info.context.feed.availability.forget_locations()

    @strawberry.mutation(
        extensions=allow(*STOCK_WRITERS), description="Creates or updates by code."
    )
    async def upsert_sku(self, info: Info, input: SkuInput) -> UpsertSkuPayload:
        call = inventory_stub(info).UpsertSku(input.to_proto())
        return await answer(UpsertSkuPayload, call, sku=Sku.from_proto)

    @strawberry.mutation(
        extensions=allow(*STOCK_WRITERS),
        description="Changes on-hand units; never below zero or below what is reserved.",
    )
    async def adjust_stock(self, info: Info, input: StockAdjustmentInput) -> AdjustStockPayload:
        call = inventory_stub(info).AdjustStock(input.to_proto())
        return await answer(AdjustStockPayload, call, stock_level=StockLevel.from_proto)

    @strawberry.mutation(
        extensions=allow(*STOCK_WRITERS), description="Creates or updates by code."
    )
    async def upsert_channel(self, info: Info, input: ChannelInput) -> UpsertChannelPayload:
        call = inventory_stub(info).UpsertChannel(input.to_proto())
        return await answer(UpsertChannelPayload, call, channel=Channel.from_proto)


@strawberry.type
class InventorySubscription:
    @strawberry.subscription(
        extensions=allow(*SELLERS),
        description="Every change to a stock level of these SKUs (all SKUs when left out).",
    )
    async def inventory_changed(
        self, info: Info, skus: list[str] | None = None
    ) -> AsyncGenerator[InventoryChange, None]:
        async for change in info.context.feed.changes(skus):
            yield InventoryChange.from_change(change, info.context.principal)
