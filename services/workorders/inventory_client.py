"""The inventory service over gRPC, in the work orders' own terms: the adapter behind
`ports.Inventory`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import grpc

from oms.inventory.v1 import inventory_pb2 as pb
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from services.kernel.errors import ErrorCode, from_rpc_error
from services.workorders.domain.model import Component
from services.workorders.ports import CatalogueSku

HOLDER = "work_order"


def _lines(location_code: str, lines: Sequence[Component]) -> list[pb.ReservationLine]:
    return [
        pb.ReservationLine(sku=x.sku, location_code=location_code, quantity=x.quantity)
        for x in lines
    ]


class InventoryClient:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = InventoryServiceStub(channel)

    async def catalogue(self, codes: Iterable[str]) -> dict[str, CatalogueSku]:
        wanted = sorted(set(codes))
        if not wanted:  # an empty list would ask for the whole catalogue
            return {}
        response = await self._stub.ListSkus(pb.ListSkusRequest(codes=wanted))
        return {
            x.code: CatalogueSku(x.code, x.unit_cost_cents, x.serialized) for x in response.skus
        }

    async def location_exists(self, code: str) -> bool:
        response = await self._stub.ListLocations(pb.ListLocationsRequest(codes=[code]))
        return any(x.code == code for x in response.locations)

    async def reserve(self, key: str, location_code: str, lines: Sequence[Component]) -> bool:
        request = pb.ReserveRequest(key=key, holder_type=HOLDER, lines=_lines(location_code, lines))
        try:
            await self._stub.Reserve(request)
        except grpc.aio.AioRpcError as error:
            refusal = from_rpc_error(error)
            if refusal is not None and refusal.code is ErrorCode.INSUFFICIENT_STOCK:
                return False
            raise refusal or error from error
        return True

    async def release(self, key: str) -> None:
        await self._stub.Release(pb.ReleaseRequest(key=key))

    async def holds(self, key: str) -> bool:
        try:
            reservation = await self._stub.GetReservation(pb.GetReservationRequest(key=key))
        except grpc.aio.AioRpcError as error:
            refusal = from_rpc_error(error)
            if refusal is not None and refusal.code is ErrorCode.NOT_FOUND:
                return False
            raise
        return bool(reservation.held)

    async def short(self, location_code: str, lines: Sequence[Component]) -> list[str]:
        request = pb.GetStockLevelsRequest(
            skus=[x.sku for x in lines], location_codes=[location_code]
        )
        levels = {x.sku: x.available for x in (await self._stub.GetStockLevels(request)).levels}
        return [x.sku for x in lines if levels.get(x.sku, 0) < x.quantity]

    async def consume(
        self, key: str, location_code: str, lines: Sequence[Component], reason: str
    ) -> None:
        request = pb.ConsumeStockRequest(key=key, reason=reason, lines=_lines(location_code, lines))
        try:
            await self._stub.ConsumeStock(request)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) or error from error
