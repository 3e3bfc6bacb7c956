"""Orders queries and mutations, each calling the orders service once (a storefront's cancel
checks ownership first); the locations they mention are batched through the request's loader.

A storefront sees, lists and cancels only the orders it placed (matched by its token subject);
any other order is answered exactly like one that does not exist, so nothing leaks.
"""

from __future__ import annotations

import grpc
import strawberry

from gateway.auth import Role
from gateway.context import Context
from gateway.errors import ErrorCode, UserError, query_answer, user_error_from_rpc
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

Info = strawberry.Info[Context, None]

SELLERS = (Role.STOREFRONT, Role.BACKOFFICE, Role.ADMIN)
SHIPPERS = (Role.BACKOFFICE, Role.ADMIN)

# shipShipment's arguments are `id` and `serialNumbers`; the service calls them `shipment_id`
# and `serials`.
SHIP_SHIPMENT_ARGUMENTS = {"shipment_id": "id", "serials": "serialNumbers"}


def _orders(info: Info) -> OrdersServiceStub:
    return info.context.services[OrdersServiceStub]


def _subject(info: Info) -> str:
    principal = info.context.principal
    assert principal is not None, "the permission extension runs before any resolver"
    return principal.subject


def _owner(info: Info) -> str:
    """Whose orders the caller may see: a storefront only its own, others all ("")."""
    principal = info.context.principal
    assert principal is not None, "the permission extension runs before any resolver"
    return principal.subject if principal.role is Role.STOREFRONT else ""


def _visible(order: pb.Order, owner: str) -> bool:
    return not owner or order.placed_by == owner


async def _find_order(info: Info, order_id: str) -> pb.Order | None:
    """The order when it exists and the caller may see it."""
    request = pb.GetOrdersRequest(ids=[order_id])
    response = await query_answer(_orders(info).GetOrders(request))
    owner = _owner(info)
    return next((o for o in response.orders if _visible(o, owner)), None)


def _no_order(order_id: str) -> UserError:
    # Word for word what the service answers for an unknown id.
    return UserError(field="id", message=f"no order {order_id}", code=ErrorCode.NOT_FOUND)


@strawberry.type
class OrdersQuery:
    @strawberry.field(
        extensions=allow(*SELLERS),
        description="Null when there is no such order (or, for a storefront, not one it placed).",
    )
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        found = await _find_order(info, id)
        return Order.from_proto(found) if found is not None else None

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
        request = pb.ListOrdersRequest(first=first, after=after or "", placed_by=_owner(info))
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
        try:
            order = await _orders(info).PlaceOrder(input.to_proto(_subject(info)))
        except grpc.RpcError as error:
            return PlaceOrderPayload(user_errors=[user_error_from_rpc(error, "input")])
        if not _visible(order, _owner(info)):
            # The (channel, externalId) is another storefront's order: say the id is taken,
            # but not what that order holds.
            taken = UserError(
                field="input.externalId",
                message="externalId already names an order placed by another caller",
                code=ErrorCode.INVALID_INPUT,
            )
            return PlaceOrderPayload(user_errors=[taken])
        return PlaceOrderPayload(order=Order.from_proto(order))

    @strawberry.mutation(
        extensions=allow(*SELLERS),
        description="Releases the order's stock; refused once a shipment has shipped.",
    )
    async def cancel_order(self, info: Info, id: strawberry.ID) -> CancelOrderPayload:
        if _owner(info) and await _find_order(info, id) is None:
            return CancelOrderPayload(user_errors=[_no_order(id)])
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
