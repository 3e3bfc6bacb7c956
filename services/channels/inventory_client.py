"""The inventory service over gRPC, as the availability push asks it: each SKU's availability
for one channel (safety stock already held back by inventory) and the whole catalogue."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from oms.inventory.v1 import inventory_pb2 as pb
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub

CALL_SECONDS = 5.0


class InventoryClient:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = InventoryServiceStub(channel)

    async def availability(self, channel_code: str, skus: Sequence[str]) -> dict[str, int]:
        """SKU -> units the channel may sell; at most 500 SKUs at once (inventory's bound)."""
        request = pb.GetAvailabilityRequest(skus=list(skus), channel=channel_code)
        answer = await self._stub.GetAvailability(request, timeout=CALL_SECONDS)
        return {x.sku: x.available for x in answer.availability}

    async def all_skus(self) -> list[str]:
        answer = await self._stub.ListSkus(pb.ListSkusRequest(), timeout=CALL_SECONDS)
        return [x.code for x in answer.skus]

    async def kind_of(self, location_code: str) -> str | None:
        request = pb.ListLocationsRequest(codes=[location_code])
        answer = await self._stub.ListLocations(request, timeout=CALL_SECONDS)
        found = [x for x in answer.locations if x.code == location_code]
        if not found:
            return None
        return pb.LocationKind.Name(found[0].kind).removeprefix("LOCATION_KIND_")
