"""The inventory service over gRPC, in the returns' own terms: the adapter behind
`ports.Inventory`."""

from __future__ import annotations

from collections.abc import Iterable

import grpc

from oms.inventory.v1 import inventory_pb2 as pb
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from services.kernel.proto_enums import enum_name
from services.returns.domain.model import CatalogueSku, ReturnSite


class InventoryClient:
    """Locations and the catalogue as the returns use cases ask for them."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = InventoryServiceStub(channel)

    async def return_sites(self) -> list[ReturnSite]:
        """Every location that accepts returns."""
        response = await self._stub.ListLocations(pb.ListLocationsRequest())
        return [
            ReturnSite(
                code=x.code,
                kind=enum_name(pb.LocationKind, x.kind),
                latitude=x.latitude,
                longitude=x.longitude,
                daily_inspection_capacity=(
                    x.daily_inspection_capacity if x.HasField("daily_inspection_capacity") else None
                ),
            )
            for x in response.locations
            if x.accepts_returns
        ]

    async def catalogue(self, codes: Iterable[str]) -> dict[str, CatalogueSku]:
        """The known SKUs among `codes` (never the whole catalogue: `codes` must not be empty)."""
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        response = await self._stub.ListSkus(pb.ListSkusRequest(codes=wanted))
        return {x.code: CatalogueSku(x.code, x.weight_grams, x.serialized) for x in response.skus}

    async def location_exists(self, code: str) -> bool:
        response = await self._stub.ListLocations(pb.ListLocationsRequest(codes=[code]))
        return any(x.code == code for x in response.locations)
