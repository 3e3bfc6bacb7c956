"""Orders queries and mutations, each calling the orders service once; the locations they
mention are batched through the request's loader.

The orders service decides what the caller may see (each call carries whom it is for): a
storefront sees, lists and cancels only the orders it placed, and any other order is answered
exactly like one that does not exist, so nothing leaks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from gateway.context import Context
from gateway.errors import query_answer
from gateway.mutations import answer
from gateway.orders.inputs import PlaceOrderInput, ShippedSerialsInput
from gateway.orders.types import (
    CancelOrderPayload,
    Order,
    OrderConnection,
    OrderStatus,
    PlaceOrderPayload,
    Shipment,
    ShipShipmentPayload,
)
from gateway.permissions import allow
from oms.orders.v1 import orders_pb2 as pb
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from services.kernel.caller import Role

if TYPE_CHECKING:  # the asyncio stub's type exists for the type checker only
    from oms.orders.v1.orders_pb2_grpc import OrdersServiceAsyncStub

Info = strawberry.Info[Context, None]

SELLERS = (Role.STOREFRONT, Role.BACKOFFICE, Role.ADMIN)
SHIPPERS = (Role.BACKOFFICE, Role.ADMIN)

# shipShipment's arguments are `id` and `serialNumbers`; the service calls them `shipment_id`
# and `serials`.
SHIP_SHIPMENT_ARGUMENTS = {"shipment_id": "id", "serials": "serialNumbers"}


def _orders(info: Info) -> OrdersServiceAsyncStub:
    return info.context.services[OrdersServiceStub]


@strawberry.type
class OrdersQuery:
    @strawberry.field(
        extensions=allow(*SELLERS),
        description="Null when there is no such order (or, for a storefront, not one it placed).",
    )
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        response = await query_answer(_orders(info).GetOrders(pb.GetOrdersRequest(ids=[id])))
        return next((Order.from_proto(found) for found in response.orders), None)

    @strawberry.field(
        extensions=allow(*SELLERS),
        description="Most recent first, `first` within 1..100; a storefront gets only the "
        "orders it placed.",
    )
    async def orders(
        self,
        info: Info,
        first: int,
        after: str | None = None,
        status: OrderStatus | None = None,
    ) -> OrderConnection:
        request = pb.ListOrdersRequest(first=first, after=after or "")
        if status is not None:
            request.status = status.to_proto()
        page = await query_answer(_orders(info).ListOrders(request))
        return OrderConnection.from_proto(page)


@strawberry.type
class OrdersMutation:
    @strawberry.mutation(
        extensions=allow(*SELLERS),
        description="Reserves stock and plans shipments in one step; placing the same "
        "(channel, externalId) again returns the first order and reserves nothing more.",
    )
    async def place_order(self, info: Info, input: PlaceOrderInput) -> PlaceOrderPayload:
        call = _orders(info).PlaceOrder(input.to_proto())
        return await answer(PlaceOrderPayload, call, order=Order.from_proto)

    @strawberry.mutation(
        extensions=allow(*SELLERS),
        description="Releases the order's stock; refused once a shipment has shipped.",
    )
    async def cancel_order(self, info: Info, id: strawberry.ID) -> CancelOrderPayload:
        call = _orders(info).CancelOrder(pb.CancelOrderRequest(id=id))
        return await answer(CancelOrderPayload, call, argument=None, order=Order.from_proto)

    @strawberry.mutation(
        extensions=allow(*SHIPPERS),
        description="Takes the shipment's units off on-hand; the order becomes "
        "PARTIALLY_SHIPPED or SHIPPED. Shipping a shipped shipment again changes nothing. "
        "`serialNumbers` records the units scanned into the parcel: per SKU, at most the units "
        "it ships (INVALID_QUANTITY).",
    )
    async def ship_shipment(
        self,
        info: Info,
        id: strawberry.ID,
        tracking_number: str | None = None,
        serial_numbers: list[ShippedSerialsInput] | None = None,
    ) -> ShipShipmentPayload:
        request = pb.ShipShipmentRequest(
            shipment_id=id,
            tracking_number=tracking_number or "",
            serials=[entry.to_proto() for entry in serial_numbers or ()],
        )
        return await answer(
            ShipShipmentPayload,
            _orders(info).ShipShipment(request),
            argument=None,
            paths=SHIP_SHIPMENT_ARGUMENTS,
            shipment=lambda shipped: Shipment.from_proto(shipped.shipment),
            order=lambda shipped: Order.from_proto(shipped.order),
        )
