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

Info = strawberry.Info[Context, None]

SELLERS = (Role.STOREFRONT, Role.BACKOFFICE, Role.ADMIN)
SHIPPERS = (Role.BACKOFFICE, Role.ADMIN)

# shipShipment's argument is `id`; the service calls it `shipment_id`.
SHIP_SHIPMENT_ARGUMENTS = {"shipment_id": "id"}


def _serials_path(field: str | None) -> str | None:
    """The service calls the `serialNumbers` argument `serials`:
    `serials.0.serialNumbers` -> `serialNumbers.0.serialNumbers`."""
    if field is None or not field.startswith("serials."):
        return field
    return "serialNumbers." + field.removeprefix("serials.")


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
    response = await query_answer(info.context.orders.GetOrders(request))
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
        page = await query_answer(info.context.orders.ListOrders(request))
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
            order = await info.context.orders.PlaceOrder(input.to_proto(_subject(info)))
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
        try:
            order = await info.context.orders.CancelOrder(pb.CancelOrderRequest(id=id))
        except grpc.RpcError as error:
            return CancelOrderPayload(user_errors=[user_error_from_rpc(error, None)])
        return CancelOrderPayload(order=Order.from_proto(order))

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
        try:
            shipped = await info.context.orders.ShipShipment(request)
        except grpc.RpcError as error:
            user_error = user_error_from_rpc(error, None, SHIP_SHIPMENT_ARGUMENTS)
            user_error.field = _serials_path(user_error.field)
            return ShipShipmentPayload(user_errors=[user_error])
        return ShipShipmentPayload(
            shipment=Shipment.from_proto(shipped.shipment), order=Order.from_proto(shipped.order)
        )
