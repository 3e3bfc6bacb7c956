"""The inventory service over gRPC, as the channels ask it: each SKU's availability for one
channel (safety stock already held back by inventory), the whole catalogue, and a 3PL node's
count to reconcile with our on hand."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import grpc

from oms.inventory.v1 import inventory_pb2 as pb
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from services.kernel.bounds import MAX_CODES

log = logging.getLogger(__name__)

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

    async def known_skus(self, codes: Sequence[str]) -> set[str]:
        """Which of `codes` the catalogue has, asked in inventory's batches of MAX_CODES (not
        the whole catalogue, which may hold far more SKUs than a node counts)."""
        known: set[str] = set()
        for start in range(0, len(codes), MAX_CODES):
            request = pb.ListSkusRequest(codes=list(codes[start : start + MAX_CODES]))
            answer = await self._stub.ListSkus(request, timeout=CALL_SECONDS)
            known.update(x.code for x in answer.skus)
        return known

    async def kind_of(self, location_code: str) -> str | None:
        request = pb.ListLocationsRequest(codes=[location_code])
        answer = await self._stub.ListLocations(request, timeout=CALL_SECONDS)
        found = [x for x in answer.locations if x.code == location_code]
        if not found:
            return None
        return pb.LocationKind.Name(found[0].kind).removeprefix("LOCATION_KIND_")


class InventoryCounts:
    """The CountReconciler over inventory's ReconcileCount. A node may stock SKUs our catalogue
    does not have (another brand's, a retired one): inventory refuses a count naming one, so
    they are left out here and logged, and the rest of the count is still reconciled."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = InventoryServiceStub(channel)
        self._inventory = InventoryClient(channel)

    async def reconcile(
        self,
        location_code: str,
        source: str,
        lines: Sequence[tuple[str, int]],
        complete: bool,
    ) -> None:
        known = await self._inventory.known_skus([sku for sku, _ in lines])
        unknown = [sku for sku, _ in lines if sku not in known]
        if unknown:
            log.warning(
                "%s count of %s names %d SKUs not in the catalogue (left out): %s",
                source,
                location_code,
                len(unknown),
                ", ".join(unknown[:10]),
            )
        request = pb.ReconcileCountRequest(
            location_code=location_code,
            source=source,
            lines=[pb.CountLine(sku=sku, counted=units) for sku, units in lines if sku in known],
            complete=complete,
        )
        await self._stub.ReconcileCount(request, timeout=CALL_SECONDS)
