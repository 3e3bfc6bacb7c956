"""The orders service over gRPC, in the channels' own terms: the adapter behind `ports.Orders`."""

from __future__ import annotations

import grpc

from oms.orders.v1 import orders_pb2 as pb
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from services.channels.domain.model import MappedOrder
from services.channels.domain.shipbob import Recipient
from services.kernel.errors import from_rpc_error

# A placement asks inventory in turn: room for both, well within the recovery's patience.
CALL_SECONDS = 10.0


class OrdersClient:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = OrdersServiceStub(channel)

    async def place(self, channel_code: str, order: MappedOrder) -> str:
        request = place_order_request(channel_code, order)
        try:
            placed = await self._stub.PlaceOrder(request, timeout=CALL_SECONDS)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) or error from error
        return placed.id

    async def cancel(self, order_id: str) -> None:
        try:
            await self._stub.CancelOrder(pb.CancelOrderRequest(id=order_id), timeout=CALL_SECONDS)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) or error from error

    async def destination(self, order_id: str, shipment_id: str) -> tuple[Recipient, str] | None:
        try:
            order = await self._stub.GetOrder(pb.GetOrderRequest(id=order_id), timeout=CALL_SECONDS)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) or error from error
        shipment = next((s for s in order.shipments if s.id == shipment_id), None)
        if shipment is None or shipment.status == pb.SHIPMENT_STATUS_CANCELLED:
            return None
        a = order.ship_to
        recipient = Recipient(a.name, order.email, a.line1, a.city, a.postal_code, a.country)
        return recipient, order.number

    async def ship(self, shipment_id: str, tracking_number: str) -> None:
        request = pb.ShipShipmentRequest(shipment_id=shipment_id, tracking_number=tracking_number)
        try:
            await self._stub.ShipShipment(request, timeout=CALL_SECONDS)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) or error from error


def place_order_request(channel_code: str, order: MappedOrder) -> pb.PlaceOrderRequest:
    """The channel's order as the orders service takes it: coordinates only when both are known
    (else the orders service places the address itself)."""
    a = order.ship_to
    address = pb.Address(
        name=a.name, line1=a.line1, city=a.city, postal_code=a.postal_code, country=a.country
    )
    if a.latitude is not None and a.longitude is not None:
        address.latitude, address.longitude = a.latitude, a.longitude
    return pb.PlaceOrderRequest(
        channel=channel_code,
        external_id=order.external_id,
        email=order.email,
        ship_to=address,
        lines=[
            pb.OrderLine(sku=x.sku, quantity=x.quantity, unit_price_cents=x.unit_price_cents)
            for x in order.lines
        ],
        split_policy=pb.SPLIT_POLICY_SHIP_COMPLETE
        if order.ship_complete
        else pb.SPLIT_POLICY_UNSPECIFIED,
    )
