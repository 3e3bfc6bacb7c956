"""What inventory consumes: returned units arriving and being inspected, refurbishments opening
and completing, kits and value-add work completing or cancelled, purchase orders opened,
received and cancelled — each a stock movement applied in the consumer's transaction.

The kernel's consumer runs a handler inside the unit of work that also records the event as
processed, so the stock change, its ledger row, its StockLevelChanged event and the guard
commit together: a redelivered event moves nothing twice. A handler only says which movements
its event asks for; `InventoryService.apply_movements` applies them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from google.protobuf.message import Message

from oms.events.v1.procurement_pb2 import (
    PurchaseOrderCancelled,
    PurchaseOrderOpened,
    PurchaseOrderReceived,
)
from oms.events.v1.returns_pb2 import ReturnInspected, ReturnReceived, ReturnRejected
from oms.events.v1.workorders_pb2 import WorkOrderCancelled, WorkOrderCompleted, WorkOrderOpened
from oms.returns.v1.returns_pb2 import DISPOSITION_RESTOCK, Disposition
from oms.workorders.v1.workorders_pb2 import WORK_ORDER_KIND_REFURBISH
from services.inventory.domain.model import Movement, ReservationLine, SourceType, StockDelta
from services.inventory.service import InventoryService
from services.inventory.store import InventoryStore
from services.kernel.events import Subscription
from services.kernel.proto_enums import enum_name

log = logging.getLogger(__name__)


class _Units(Protocol):
    @property
    def sku(self) -> str: ...

    @property
    def quantity(self) -> int: ...


U = TypeVar("U", bound=_Units)


def _counted(event: Message, lines: Iterable[U]) -> list[U]:
    """The lines with a quantity; a line below 1 is bad data that no movement can express."""
    counted = []
    for line in lines:
        if line.quantity < 1:
            log.warning(
                "%s: %s has quantity %d; skipped",
                event.DESCRIPTOR.name,
                line.sku,
                line.quantity,
            )
        else:
            counted.append(line)
    return counted


def _return_received(event: ReturnReceived) -> list[Movement]:
    return [
        Movement(
            line.sku,
            event.location_code,
            StockDelta(pending_inspection=line.quantity),
            f"return {event.return_id} received",
            SourceType.RETURN,
            event.return_id,
        )
        for line in _counted(event, event.lines)
    ]


def _disposition_name(value: int) -> str:
    return enum_name(Disposition, value) if value else "no disposition"


def _return_inspected(event: ReturnInspected) -> list[Movement]:
    """Restocked units are sellable where they were inspected at once; every other disposition
    only leaves the inspection pile (refurbished units come back through their work order)."""
    return [
        Movement(
            line.sku,
            event.location_code,
            StockDelta(
                pending_inspection=-line.quantity,
                on_hand=line.quantity if line.disposition == DISPOSITION_RESTOCK else 0,
            ),
            f"return {event.return_id} inspected: {_disposition_name(line.disposition)}",
            SourceType.RETURN,
            event.return_id,
        )
        for line in _counted(event, event.lines)
    ]


def _return_rejected(event: ReturnRejected) -> list[Movement]:
    # The parcel is quarantined: it leaves the inspection pile and nothing becomes sellable.
    return [
        Movement(
            line.sku,
            event.location_code,
            StockDelta(pending_inspection=-line.quantity),
            f"return {event.return_id} rejected",
            SourceType.RETURN,
            event.return_id,
        )
        for line in _counted(event, event.lines)
    ]


def _refurbishment(
    event: WorkOrderOpened | WorkOrderCompleted,
    delta: StockDelta,
    verb: str,
) -> list[Movement]:
    # Kits and value-add work move stock through reservations, not through these events.
    if event.kind != WORK_ORDER_KIND_REFURBISH or not _counted(event, [event]):
        return []
    return [
        Movement(
            event.sku,
            event.location_code,
            delta,
            f"work order {event.work_order_id} {verb}",
            SourceType.WORK_ORDER,
            event.work_order_id,
        )
    ]


def _work_order_opened(event: WorkOrderOpened) -> list[Movement]:
    return _refurbishment(event, StockDelta(in_repair=event.quantity), "opened")


def _work_order_completed(event: WorkOrderCompleted) -> list[Movement]:
    if event.scrapped:
        # Beyond repair: the units leave the bench and nothing becomes sellable.
        return _refurbishment(event, StockDelta(in_repair=-event.quantity), "scrapped")
    delta = StockDelta(in_repair=-event.quantity, on_hand=event.quantity)
    return _refurbishment(event, delta, "completed")


def _made_to_order(event: WorkOrderCompleted) -> tuple[ReservationLine, ReservationLine]:
    """(the units made, the blanks they are made from): one blank per unit, of the work
    order's component (its own SKU when it names none)."""
    blank = event.components[0].sku if event.components else event.sku
    made = ReservationLine(event.sku, event.location_code, event.quantity)
    return made, ReservationLine(blank, event.location_code, event.quantity)


PurchaseOrderEvent = PurchaseOrderOpened | PurchaseOrderReceived | PurchaseOrderCancelled


def _purchase_order(
    event: PurchaseOrderEvent, verb: str, delta: Callable[[int], StockDelta]
) -> list[Movement]:
    return [
        Movement(
            line.sku,
            event.location_code,
            delta(line.quantity),
            f"purchase order {event.number} {verb}",
            SourceType.RECEIPT,
            event.purchase_order_id,
        )
        for line in _counted(event, event.lines)
    ]


def _purchase_order_opened(event: PurchaseOrderOpened) -> list[Movement]:
    return _purchase_order(event, "opened", lambda units: StockDelta(in_transit=units))


def _purchase_order_received(event: PurchaseOrderReceived) -> list[Movement]:
    # Sellable at once: received units go straight on hand.
    return _purchase_order(
        event,
        f"received (receipt {event.receipt_id})",
        lambda units: StockDelta(in_transit=-units, on_hand=units),
    )


def _purchase_order_cancelled(event: PurchaseOrderCancelled) -> list[Movement]:
    return _purchase_order(event, "cancelled", lambda units: StockDelta(in_transit=-units))


def subscriptions(service: InventoryService) -> list[Subscription[InventoryStore]]:
    async def apply(store: InventoryStore, event: Message, movements: list[Movement]) -> None:
        await service.apply_movements(store, movements, event.DESCRIPTOR.name)

    async def on_return_received(store: InventoryStore, event: ReturnReceived) -> None:
        await apply(store, event, _return_received(event))

    async def on_return_inspected(store: InventoryStore, event: ReturnInspected) -> None:
        await apply(store, event, _return_inspected(event))

    async def on_return_rejected(store: InventoryStore, event: ReturnRejected) -> None:
        await apply(store, event, _return_rejected(event))

    async def on_work_order_opened(store: InventoryStore, event: WorkOrderOpened) -> None:
        await apply(store, event, _work_order_opened(event))

    async def on_work_order_completed(store: InventoryStore, event: WorkOrderCompleted) -> None:
        if event.kind == WORK_ORDER_KIND_REFURBISH:
            await apply(store, event, _work_order_completed(event))
        elif event.order_id and _counted(event, [event]):
            made, blank = _made_to_order(event)
            await service.make_for_order(store, event.work_order_id, event.order_id, made, blank)
        elif _counted(event, [event]):
            await service.produce_from_work_order(
                store, event.work_order_id, event.sku, event.location_code, event.quantity
            )

    async def on_work_order_cancelled(store: InventoryStore, event: WorkOrderCancelled) -> None:
        await service.release_for_work_order(store, event.work_order_id)

    async def on_purchase_order_opened(store: InventoryStore, event: PurchaseOrderOpened) -> None:
        await apply(store, event, _purchase_order_opened(event))

    async def on_purchase_order_received(
        store: InventoryStore, event: PurchaseOrderReceived
    ) -> None:
        await apply(store, event, _purchase_order_received(event))

    async def on_purchase_order_cancelled(
        store: InventoryStore, event: PurchaseOrderCancelled
    ) -> None:
        await apply(store, event, _purchase_order_cancelled(event))

    return [
        Subscription(
            "inventory-returns",
            "oms.returns.>",
            {
                ReturnReceived: on_return_received,
                ReturnInspected: on_return_inspected,
                ReturnRejected: on_return_rejected,
            },
        ),
        Subscription(
            "inventory-workorders",
            "oms.workorders.>",
            {
                WorkOrderOpened: on_work_order_opened,
                WorkOrderCompleted: on_work_order_completed,
                WorkOrderCancelled: on_work_order_cancelled,
            },
        ),
        Subscription(
            "inventory-procurement",
            "oms.procurement.>",
            {
                PurchaseOrderOpened: on_purchase_order_opened,
                PurchaseOrderReceived: on_purchase_order_received,
                PurchaseOrderCancelled: on_purchase_order_cancelled,
            },
        ),
    ]
