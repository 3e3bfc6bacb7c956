"""What procurement consumes to plan: placed, shipped and cancelled orders (demand per location),
returns requested, received, inspected and rejected, and refurbishments finished (the returns
pipeline and how it turns out). Each handler runs in the unit of work that records the event
as applied, and each write is keyed by what it counts, so a redelivery counts nothing twice."""

from __future__ import annotations

from collections.abc import Iterable

from oms.events.v1.orders_pb2 import (
    OrderCancelled,
    OrderLineFact,
    OrderPlaced,
    ShipmentFact,
    ShipmentShipped,
)
from oms.events.v1.returns_pb2 import (
    ReturnInspected,
    ReturnReceived,
    ReturnRejected,
    ReturnRequested,
    ReturnUnits,
)
from oms.events.v1.workorders_pb2 import WorkOrderCompleted
from oms.returns.v1.returns_pb2 import DISPOSITION_REFURBISH, DISPOSITION_RESTOCK
from oms.workorders.v1.workorders_pb2 import WORK_ORDER_KIND_REFURBISH
from services.kernel.db import utcnow
from services.kernel.events import Subscription
from services.procurement.domain.model import NewLine
from services.procurement.store import ProcurementStore


def _units(lines: Iterable[OrderLineFact | ReturnUnits]) -> list[NewLine]:
    """The lines with units, each SKU once (a line below 1 unit is bad data and counts none)."""
    units: dict[str, int] = {}
    for line in lines:
        if line.quantity > 0:
            units[line.sku] = units.get(line.sku, 0) + line.quantity
    return [NewLine(sku, quantity, 0) for sku, quantity in units.items()]


async def _shipment(
    store: ProcurementStore, order_id: str, shipment: ShipmentFact, shipped: bool
) -> None:
    # Demand counts on the day the event is applied: events arrive within seconds of the fact.
    await store.record_demand(
        shipment.shipment_id,
        order_id,
        shipment.location_code,
        _units(shipment.lines),
        utcnow().date(),
        shipped,
    )


async def on_order_placed(store: ProcurementStore, event: OrderPlaced) -> None:
    for shipment in event.shipments:
        await _shipment(store, event.order_id, shipment, shipped=False)


async def on_shipment_shipped(store: ProcurementStore, event: ShipmentShipped) -> None:
    await _shipment(store, event.order_id, event.shipment, shipped=True)


async def on_order_cancelled(store: ProcurementStore, event: OrderCancelled) -> None:
    await store.drop_unshipped_demand(event.order_id)


async def on_return_requested(store: ProcurementStore, event: ReturnRequested) -> None:
    await store.expect_return(event.return_id, event.destination_code, _units(event.lines))


async def on_return_received(store: ProcurementStore, event: ReturnReceived) -> None:
    await store.return_arrived(event.return_id)


async def on_return_inspected(store: ProcurementStore, event: ReturnInspected) -> None:
    outcomes: dict[str, list[int]] = {}
    for line in event.lines:
        if line.quantity < 1:
            continue
        inspected, restocked, refurbished = outcomes.setdefault(line.sku, [0, 0, 0])
        outcomes[line.sku] = [
            inspected + line.quantity,
            restocked + (line.quantity if line.disposition == DISPOSITION_RESTOCK else 0),
            refurbished + (line.quantity if line.disposition == DISPOSITION_REFURBISH else 0),
        ]
    for sku, (inspected, restocked, refurbished) in outcomes.items():
        await store.record_inspection(event.return_id, sku, inspected, restocked, refurbished)


async def on_return_rejected(store: ProcurementStore, event: ReturnRejected) -> None:
    # Quarantined at inspection: seen, and nothing came back sellable.
    for line in _units(event.lines):
        await store.record_inspection(event.return_id, line.sku, line.quantity, 0, 0)


async def on_work_order_completed(store: ProcurementStore, event: WorkOrderCompleted) -> None:
    if event.kind == WORK_ORDER_KIND_REFURBISH and event.quantity > 0:
        await store.record_repair(event.work_order_id, event.sku, event.quantity, event.scrapped)


def subscriptions() -> list[Subscription[ProcurementStore]]:
    return [
        Subscription(
            "procurement-orders",
            "oms.orders.>",
            {
                OrderPlaced: on_order_placed,
                ShipmentShipped: on_shipment_shipped,
                OrderCancelled: on_order_cancelled,
            },
        ),
        Subscription(
            "procurement-returns",
            "oms.returns.>",
            {
                ReturnRequested: on_return_requested,
                ReturnReceived: on_return_received,
                ReturnInspected: on_return_inspected,
                ReturnRejected: on_return_rejected,
            },
        ),
        Subscription(
            "procurement-workorders",
            "oms.workorders.>",
            {WorkOrderCompleted: on_work_order_completed},
        ),
    ]
