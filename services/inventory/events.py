"""What inventory consumes: returned units arriving and being inspected, refurbishments opening
and completing — each a stock movement applied in the consumer's transaction.

The kernel's consumer runs a handler inside the transaction that also records the event as
processed, so the stock change, its ledger row, its StockLevelChanged event and the guard
commit together: a redelivered event moves nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from google.protobuf.message import Message

from oms.events.v1.returns_pb2 import ReturnInspected, ReturnReceived, ReturnRejected
from oms.events.v1.workorders_pb2 import WorkOrderCompleted, WorkOrderOpened
from oms.returns.v1.returns_pb2 import DISPOSITION_RESTOCK, Disposition
from oms.workorders.v1.workorders_pb2 import WORK_ORDER_KIND_REFURBISH
from services.inventory.domain.model import SourceType, StockDelta
from services.inventory.service import apply_movement, require_location, require_sku
from services.inventory.store import SqlInventoryStore, ensure_stock_level
from services.kernel.errors import DomainError
from services.kernel.events import Subscription
from services.kernel.proto_enums import enum_name

log = logging.getLogger(__name__)


class _Units(Protocol):
    @property
    def sku(self) -> str: ...

    @property
    def quantity(self) -> int: ...


U = TypeVar("U", bound=_Units)
M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class Movement:
    """One change an event asks for, before it is checked against what inventory knows."""

    sku: str
    location_code: str
    delta: StockDelta
    reason: str
    source_type: SourceType
    source_id: str


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
    delta = StockDelta(in_repair=-event.quantity, on_hand=event.quantity)
    return _refurbishment(event, delta, "completed")


async def apply_movements(
    store: SqlInventoryStore, event: Message, movements: list[Movement]
) -> None:
    """Applies the movements an event asks for.

    A SKU or location inventory does not know is bad data that no retry will fix, so that
    movement is logged and skipped rather than holding the stream forever. A movement that
    would break a level's invariant raises instead: its usual cause is an earlier event not
    yet applied (a redelivery out of order), which a later retry of this one will find.
    """
    session = store.session
    for movement in movements:
        try:
            await require_sku(session, movement.sku, "sku")
            await require_location(session, movement.location_code, "location_code")
        except DomainError as error:
            log.warning("%s: %s; skipped", event.DESCRIPTOR.name, error.message)
            continue
        await ensure_stock_level(session, movement.sku, movement.location_code)
        await apply_movement(
            session,
            movement.sku,
            movement.location_code,
            movement.delta,
            movement.reason,
            movement.source_type,
            movement.source_id,
        )


def _handler(
    movements_for: Callable[[M], list[Movement]],
) -> Callable[[SqlInventoryStore, M], Awaitable[None]]:
    async def handle(store: SqlInventoryStore, event: M) -> None:
        await apply_movements(store, event, movements_for(event))

    return handle


def subscriptions() -> list[Subscription[SqlInventoryStore]]:
    return [
        Subscription(
            "inventory-returns",
            "oms.returns.>",
            {
                ReturnReceived: _handler(_return_received),
                ReturnInspected: _handler(_return_inspected),
                ReturnRejected: _handler(_return_rejected),
            },
        ),
        Subscription(
            "inventory-workorders",
            "oms.workorders.>",
            {
                WorkOrderOpened: _handler(_work_order_opened),
                WorkOrderCompleted: _handler(_work_order_completed),
            },
        ),
    ]
