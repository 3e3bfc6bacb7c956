"""The orders service over gRPC, in the returns' own terms: the adapter behind `ports.Orders`."""

from __future__ import annotations

from datetime import datetime

import grpc

from oms.orders.v1 import orders_pb2 as pb
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from services.kernel.errors import DomainError, ErrorCode, from_rpc_error
from services.returns.domain.model import ShippedOrder, ShippedParcel


class OrdersClient:
    """Orders as the returns use cases ask for them."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = OrdersServiceStub(channel)

    async def shipped_order(self, order_id: str) -> ShippedOrder:
        """The order with its shipped parcels; NOT_FOUND (on `order_id`) when unknown."""
        try:
            order = await self._stub.GetOrder(pb.GetOrderRequest(id=order_id))
        except grpc.aio.AioRpcError as error:
            refusal = from_rpc_error(error)
            if refusal is not None and refusal.code is ErrorCode.NOT_FOUND:
                raise DomainError(
                    ErrorCode.NOT_FOUND, f"no order {order_id}", "order_id"
                ) from error
            raise refusal or error from error
        return _shipped(order)

    async def find_order(self, channel: str, external_id: str) -> str:
        """The id of the order placed under (channel, external id); NOT_FOUND when none."""
        request = pb.FindOrderRequest(channel=channel, external_id=external_id)
        try:
            order = await self._stub.FindOrder(request)
        except grpc.aio.AioRpcError as error:
            refusal = from_rpc_error(error)
            if refusal is not None:
                raise DomainError(refusal.code, refusal.message, "order_reference") from error
            raise
        return str(order.id)


def _shipped(order: pb.Order) -> ShippedOrder:
    return ShippedOrder(
        id=order.id,
        channel=order.channel,
        placed_by=order.placed_by,
        ship_to=(order.ship_to.latitude, order.ship_to.longitude),
        lines=tuple((x.sku, x.quantity, x.unit_price_cents) for x in order.lines),
        parcels=tuple(
            _parcel(s) for s in order.shipments if s.status == pb.SHIPMENT_STATUS_SHIPPED
        ),
    )


def _parcel(shipment: pb.Shipment) -> ShippedParcel:
    return ShippedParcel(
        shipped_at=datetime.fromisoformat(shipment.shipped_at),
        lines=tuple((x.sku, x.quantity, tuple(x.serial_numbers)) for x in shipment.lines),
    )
