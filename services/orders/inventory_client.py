"""The orders service's port to the inventory service, in the orders' own terms, and its gRPC
adapter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import grpc

from oms.inventory.v1 import inventory_pb2 as pb
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from services.kernel.errors import ErrorCode, from_rpc_error
from services.kernel.proto_enums import enum_name
from services.orders.domain.routing import Candidate


class Inventory(Protocol):
    """What placement, cancellation and shipping ask of inventory. A reservation's key is the
    order's id; lines are (sku, location code, units)."""

    async def sourcing_options(
        self, skus: Sequence[str]
    ) -> tuple[list[Candidate], list[str], dict[str, str]]:
        """Where the SKUs can ship from, which of them inventory does not know, and the blank
        of each one made to order (the candidates count the blank's units in its place)."""
        ...

    async def reserve(self, key: str, lines: Sequence[tuple[str, str, int]]) -> bool:
        """Holds all lines or none; False when stock ran short. Holding again under a key that
        holds returns True and holds nothing more; under a released key it is refused
        (INVALID_STATE), so a late hold of an abandoned placement can never take stock."""
        ...

    async def backorder_options(
        self, skus: Sequence[str], channel: str
    ) -> tuple[bool, list[Candidate]]:
        """Whether the channel takes backorders, and where units of the SKUs on open purchase
        orders are not yet promised (the candidates count those units as available)."""
        ...

    async def promise(
        self, key: str, lines: Sequence[tuple[str, str, int]]
    ) -> tuple[bool, datetime | None]:
        """Promises all lines or none against units on open purchase orders: (True, when they
        are expected, None if unknown), or (False, None) when too few are left on order.
        Refused like `reserve` under a released key."""
        ...

    async def release(self, key: str) -> None:
        """Gives back what the key holds; a key never seen is remembered as released."""
        ...

    async def commit(self, key: str, location_code: str) -> None:
        """Ships what the key holds at the location (on hand and reserved go down); again, it
        ships nothing more. Refused for a released key (INVALID_STATE), an unknown one
        (NOT_FOUND)."""
        ...

    async def held_lines(self, key: str) -> list[tuple[str, str, int]] | None:
        """What the key holds; None when inventory never saw it."""
        ...


class InventoryClient:
    """`Inventory` over the inventory service's gRPC API."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = InventoryServiceStub(channel)

    async def sourcing_options(
        self, skus: Sequence[str]
    ) -> tuple[list[Candidate], list[str], dict[str, str]]:
        response = await self._stub.GetSourcingOptions(pb.GetSourcingOptionsRequest(skus=skus))
        candidates = _candidates(response.options)
        made_from = {x.sku: x.blank_sku for x in response.made_from}
        return candidates, list(response.unknown_skus), made_from

    async def reserve(self, key: str, lines: Sequence[tuple[str, str, int]]) -> bool:
        """Holds all lines (sku, location, units) or none; False when stock ran short."""
        request = pb.ReserveRequest(
            key=key,
            holder_type="order",
            lines=[pb.ReservationLine(sku=s, location_code=loc, quantity=q) for s, loc, q in lines],
        )
        try:
            await self._stub.Reserve(request)
        except grpc.aio.AioRpcError as error:
            refusal = from_rpc_error(error)
            if refusal is not None and refusal.code is ErrorCode.INSUFFICIENT_STOCK:
                return False
            raise _domain_or_original(error) from error
        return True

    async def backorder_options(
        self, skus: Sequence[str], channel: str
    ) -> tuple[bool, list[Candidate]]:
        request = pb.GetBackorderOptionsRequest(skus=skus, channel=channel)
        response = await self._stub.GetBackorderOptions(request)
        return response.allowed, _candidates(response.options)

    async def promise(
        self, key: str, lines: Sequence[tuple[str, str, int]]
    ) -> tuple[bool, datetime | None]:
        request = pb.PromiseRequest(
            key=key,
            lines=[pb.ReservationLine(sku=s, location_code=loc, quantity=q) for s, loc, q in lines],
        )
        try:
            promise = await self._stub.PromiseStock(request)
        except grpc.aio.AioRpcError as error:
            refusal = from_rpc_error(error)
            if refusal is not None and refusal.code is ErrorCode.INSUFFICIENT_STOCK:
                return False, None
            raise _domain_or_original(error) from error
        expected = datetime.fromisoformat(promise.expected_at) if promise.expected_at else None
        return True, expected

    async def release(self, key: str) -> None:
        await self._stub.Release(pb.ReleaseRequest(key=key))

    async def commit(self, key: str, location_code: str) -> None:
        try:
            await self._stub.Commit(pb.CommitRequest(key=key, location_code=location_code))
        except grpc.aio.AioRpcError as error:
            raise _domain_or_original(error) from error

    async def held_lines(self, key: str) -> list[tuple[str, str, int]] | None:
        """What the key holds as (sku, location, units); None when inventory never saw it."""
        try:
            reservation = await self._stub.GetReservation(pb.GetReservationRequest(key=key))
        except grpc.aio.AioRpcError as error:
            refusal = from_rpc_error(error)
            if refusal is not None and refusal.code is ErrorCode.NOT_FOUND:
                return None
            raise
        return [(x.sku, x.location_code, x.quantity) for x in reservation.held]


def _candidates(options: Sequence[pb.SourcingOption]) -> list[Candidate]:
    return [
        Candidate(
            code=option.location.code,
            kind=enum_name(pb.LocationKind, option.location.kind),
            latitude=option.location.latitude,
            longitude=option.location.longitude,
            available={units.sku: units.available for units in option.available},
            daily_capacity=(
                option.location.daily_ship_capacity
                if option.location.HasField("daily_ship_capacity")
                else None
            ),
        )
        for option in options
    ]


def _domain_or_original(error: grpc.aio.AioRpcError) -> Exception:
    return from_rpc_error(error) or error
