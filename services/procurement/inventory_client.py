"""The inventory service over gRPC, in procurement's own terms: the adapter behind
`ports.Inventory`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import grpc

from oms.inventory.v1 import inventory_pb2 as pb
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from services.procurement.ports import Stock


class InventoryClient:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = InventoryServiceStub(channel)

    async def unit_costs(self, codes: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(codes))
        if not wanted:  # an empty list would ask for the whole catalogue
            return {}
        response = await self._stub.ListSkus(pb.ListSkusRequest(codes=wanted))
        return {x.code: x.unit_cost_cents for x in response.skus}

    async def location_exists(self, code: str) -> bool:
        response = await self._stub.ListLocations(pb.ListLocationsRequest(codes=[code]))
        return any(x.code == code for x in response.locations)

    async def stock(self, location_codes: Sequence[str]) -> dict[tuple[str, str], Stock]:
        request = pb.GetStockLevelsRequest(location_codes=list(location_codes))
        levels = (await self._stub.GetStockLevels(request)).levels
        return {
            (x.sku, x.location_code): Stock(
                x.on_hand, x.reserved, x.pending_inspection, x.in_repair
            )
            for x in levels
        }
