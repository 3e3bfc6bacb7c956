"""Batch loaders for inventory records: one gRPC call per kind of record and request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from oms.inventory.v1 import inventory_pb2 as pb
from services.kernel.bounds import MAX_CODES

if TYPE_CHECKING:  # the asyncio stub's type exists for the type checker only
    from gateway.availability import AvailabilityModel
    from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceAsyncStub


@dataclass(frozen=True)
class InventoryLoaders:
    locations: DataLoader[str, pb.Location | None]
    skus: DataLoader[str, pb.Sku | None]

    @classmethod
    def over(
        cls,
        inventory: InventoryServiceAsyncStub,
        cache: bool = True,
        model: AvailabilityModel | None = None,
    ) -> InventoryLoaders:
        """Loaders over inventory's RPCs; locations from the read model when it holds them
        (a placed order's shipments name theirs: one RPC less per order)."""

        async def load_locations(codes: list[str]) -> list[pb.Location | None]:
            held = await model.locations(inventory, codes) if model else None
            if held is not None:
                return [held.get(code) for code in codes]
            response = await inventory.ListLocations(pb.ListLocationsRequest(codes=codes))
            found = {location.code: location for location in response.locations}
            return [found.get(code) for code in codes]

        async def load_skus(codes: list[str]) -> list[pb.Sku | None]:
            response = await inventory.ListSkus(pb.ListSkusRequest(codes=codes))
            found = {sku.code: sku for sku in response.skus}
            return [found.get(code) for code in codes]

        # A batch asks for no more codes than the service takes at once.
        most = MAX_CODES
        return cls(
            DataLoader(load_locations, cache=cache, max_batch_size=most),
            DataLoader(load_skus, cache=cache, max_batch_size=most),
        )
