"""What the work orders service consumes: inspected returns, whose REFURBISH units open work
orders, and placed orders, whose units made to order open VALUE_ADD work orders (cancelled with
their order) — each in the consumer's unit of work, so a redelivery does nothing twice."""

from __future__ import annotations

from oms.events.v1.orders_pb2 import OrderCancelled, OrderPlaced
from oms.events.v1.returns_pb2 import ReturnInspected
from oms.returns.v1.returns_pb2 import Disposition
from services.kernel.events import Subscription
from services.kernel.proto_enums import enum_name
from services.workorders.domain.model import InspectedLine, MadeToOrder
from services.workorders.service import WorkOrdersService
from services.workorders.store import WorkOrdersStore


def makes_something_to_order(event: OrderPlaced) -> bool:
    """Most orders make nothing to order: their OrderPlaced is passed over without a unit of
    work."""
    return bool(event.made_to_order)


def subscriptions(service: WorkOrdersService) -> list[Subscription[WorkOrdersStore]]:
    async def on_return_inspected(store: WorkOrdersStore, event: ReturnInspected) -> None:
        lines = [
            InspectedLine(x.sku, x.quantity, enum_name(Disposition, x.disposition))
            for x in event.lines
        ]
        await service.open_refurbishments(store, event.return_id, event.location_code, lines)

    async def on_order_placed(store: WorkOrdersStore, event: OrderPlaced) -> None:
        made = [
            MadeToOrder(x.sku, x.blank_sku, x.quantity, x.location_code)
            for x in event.made_to_order
        ]
        await service.open_made_to_order(store, event.order_id, made)

    async def on_order_cancelled(store: WorkOrdersStore, event: OrderCancelled) -> None:
        await service.cancel_for_order(store, event.order_id)

    return [
        Subscription(
            "workorders-returns",
            "oms.returns.return_inspected",
            {ReturnInspected: on_return_inspected},
        ),
        Subscription(
            "workorders-orders",
            "oms.orders.>",
            {OrderPlaced: on_order_placed, OrderCancelled: on_order_cancelled},
            needs={OrderPlaced: makes_something_to_order},
        ),
    ]
