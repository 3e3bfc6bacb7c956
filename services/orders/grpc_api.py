"""The orders' gRPC edge: protobuf in, use case, protobuf out (errors map in the kernel)."""

from __future__ import annotations

from datetime import datetime

from oms.orders.v1 import orders_pb2 as pb
from oms.orders.v1.orders_pb2_grpc import OrdersServiceServicer
from services.kernel.geo import AddressToPlace, place
from services.kernel.grpc_server import ServicerContext, caller_of
from services.kernel.proto_enums import enum_name, enum_value
from services.orders.domain.model import (
    Address,
    NewOrder,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentStatus,
)
from services.orders.domain.routing import RoutingPlan, SplitPolicy
from services.orders.service import OrdersService

# What clients see of the internal states.
_SHIPMENT_STATUS_SHOWN = {ShipmentStatus.SHIPPING: ShipmentStatus.ALLOCATED}


def _time(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def shipment_to_proto(shipment: Shipment) -> pb.Shipment:
    shown = _SHIPMENT_STATUS_SHOWN.get(shipment.status, shipment.status)
    return pb.Shipment(
        id=shipment.id,
        location_code=shipment.location_code,
        status=enum_value(pb.ShipmentStatus, shown.value),
        lines=[
            pb.ShipmentLine(
                sku=sku, quantity=units, serial_numbers=shipment.serial_numbers.get(sku, ())
            )
            for sku, units in shipment.lines
        ],
        tracking_number=shipment.tracking_number,
        shipped_at=_time(shipment.shipped_at),
    )


def routing_to_proto(plan: RoutingPlan) -> pb.Routing:
    return pb.Routing(
        parcels=[
            pb.ParcelCost(
                location_code=p.location_code,
                location_kind=p.location_kind,
                distance_km=p.distance_km,
                shipping_cents=p.shipping_cents,
                handling_cents=p.handling_cents,
                extra_parcel_cents=p.extra_parcel_cents,
                backlog_cents=p.backlog_cents,
                total_cents=p.total_cents,
                units=sum(q for _, q in p.lines),
            )
            for p in plan.parcels
        ],
        total_cents=plan.total_cents,
        algorithm=plan.algorithm,
        candidates_considered=plan.candidates_considered,
        explanation=plan.explanation,
    )


def order_to_proto(order: Order) -> pb.Order:
    a = order.ship_to
    message = pb.Order(
        id=order.id,
        number=order.number,
        status=enum_value(pb.OrderStatus, order.status.value),
        channel=order.channel,
        external_id=order.external_id,
        email=order.email,
        ship_to=pb.Address(
            name=a.name,
            line1=a.line1,
            city=a.city,
            postal_code=a.postal_code,
            country=a.country,
            latitude=a.latitude,
            longitude=a.longitude,
        ),
        lines=[
            pb.OrderLine(sku=x.sku, quantity=x.quantity, unit_price_cents=x.unit_price_cents)
            for x in order.lines
        ],
        shipments=[shipment_to_proto(s) for s in order.shipments],
        placed_by=order.placed_by,
        split_policy=enum_value(pb.SplitPolicy, order.split_policy.value),
        placed_at=_time(order.placed_at),
        shipped_at=_time(order.shipped_at),
        cancelled_at=_time(order.cancelled_at),
        backorder_expected_at=_time(order.backorder_expected_at),
    )
    if order.routing is not None:
        message.routing.CopyFrom(routing_to_proto(order.routing))
        message.routing.address_placement = enum_value(
            pb.AddressPlacement, order.ship_to.placement.value
        )
    return message


async def new_order_from_proto(request: pb.PlaceOrderRequest, placed_by: str) -> NewOrder:
    a = request.ship_to
    policy = (
        SplitPolicy.SHIP_COMPLETE
        if request.split_policy == pb.SPLIT_POLICY_SHIP_COMPLETE
        else SplitPolicy.ALLOW_SPLIT
    )
    placed = await place(
        AddressToPlace(
            a.latitude if a.HasField("latitude") else None,
            a.longitude if a.HasField("longitude") else None,
            a.postal_code,
            a.city,
            a.country,
        ),
        "ship_to",
    )
    return NewOrder(
        channel=request.channel,
        external_id=request.external_id,
        email=request.email,
        ship_to=Address(
            latitude=placed.latitude,
            longitude=placed.longitude,
            name=a.name,
            line1=a.line1,
            city=a.city,
            postal_code=a.postal_code,
            country=a.country,
            placement=placed.placement,
        ),
        lines=tuple(OrderLine(x.sku, x.quantity, x.unit_price_cents) for x in request.lines),
        split_policy=policy,
        placed_by=placed_by,
    )


def status_from_proto(value: int) -> OrderStatus | None:
    if value == pb.ORDER_STATUS_UNSPECIFIED:
        return None
    return OrderStatus(enum_name(pb.OrderStatus, value))


class OrdersGrpc(OrdersServiceServicer):
    def __init__(self, service: OrdersService) -> None:
        self._service = service

    async def PlaceOrder(self, request: pb.PlaceOrderRequest, context: ServicerContext) -> pb.Order:
        caller = caller_of(context)
        new = await new_order_from_proto(request, placed_by=caller.subject)
        return order_to_proto(await self._service.place(new, caller))

    async def GetOrder(self, request: pb.GetOrderRequest, context: ServicerContext) -> pb.Order:
        return order_to_proto(await self._service.order(request.id, caller_of(context)))

    async def FindOrder(self, request: pb.FindOrderRequest, context: ServicerContext) -> pb.Order:
        order = await self._service.find(request.channel, request.external_id, caller_of(context))
        return order_to_proto(order)

    async def GetOrders(
        self, request: pb.GetOrdersRequest, context: ServicerContext
    ) -> pb.GetOrdersResponse:
        orders = await self._service.orders(list(request.ids), caller_of(context))
        return pb.GetOrdersResponse(orders=[order_to_proto(o) for o in orders])

    async def ListOrders(
        self, request: pb.ListOrdersRequest, context: ServicerContext
    ) -> pb.ListOrdersResponse:
        edges, has_next = await self._service.page(
            request.first, request.after, status_from_proto(request.status), caller_of(context)
        )
        return pb.ListOrdersResponse(
            edges=[pb.OrderEdge(cursor=c, order=order_to_proto(o)) for c, o in edges],
            has_next_page=has_next,
            end_cursor=edges[-1][0] if edges else "",
        )

    async def CancelOrder(
        self, request: pb.CancelOrderRequest, context: ServicerContext
    ) -> pb.Order:
        return order_to_proto(await self._service.cancel(request.id, caller_of(context)))

    async def ShipShipment(
        self, request: pb.ShipShipmentRequest, context: ServicerContext
    ) -> pb.ShipShipmentResponse:
        serials = [(x.sku, list(x.serial_numbers)) for x in request.serials]
        order, shipment = await self._service.ship(
            request.shipment_id, request.tracking_number, serials
        )
        return pb.ShipShipmentResponse(
            order=order_to_proto(order), shipment=shipment_to_proto(shipment)
        )

    async def GetPendingOrdersSummary(
        self, request: pb.PendingOrdersSummaryRequest, context: ServicerContext
    ) -> pb.PendingOrdersSummary:
        count, oldest = await self._service.pending_summary(caller_of(context))
        return pb.PendingOrdersSummary(pending_orders=count, oldest_pending_minutes=oldest)

    async def GetShipBacklog(
        self, request: pb.ShipBacklogRequest, context: ServicerContext
    ) -> pb.ShipBacklogResponse:
        backlog = await self._service.ship_backlog(list(request.location_codes))
        return pb.ShipBacklogResponse(
            backlogs=[
                pb.LocationShipBacklog(location_code=c, backlog=n) for c, n in backlog.items()
            ]
        )
