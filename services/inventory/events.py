"""What inventory consumes: returned units arriving and being inspected, refurbishments opening
and completing — each a stock movement applied in the consumer's transaction.

The kernel's consumer runs a handler inside the transaction that also records the event as
processed, so the stock change, its ledger row, its StockLevelChanged event and the guard
commit together: a redelivered event moves nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.returns_pb2 import ReturnInspected, ReturnReceived, ReturnRejected
from oms.events.v1.workorders_pb2 import WorkOrderCompleted, WorkOrderOpened
from services.inventory.domain.model import SourceType, StockDelta
from services.inventory.service import apply_movement, require_location, require_sku
from services.inventory.store import ensure_stock_level
from services.kernel.errors import DomainError
from services.kernel.events import Subscription, unpack

log = logging.getLogger(__name__)

# Names from the returns and work orders contracts (their enums live in those services).
RESTOCK = "RESTOCK"
REFURBISH = "REFURBISH"


class _Units(Protocol):
    @property
    def sku(self) -> str: ...

    @property
    def quantity(self) -> int: ...


U = TypeVar("U", bound=_Units)


@dataclass(frozen=True)
class Movement:
    """One change an event asks for, before it is checked against what inventory knows."""

    sku: str
    location_code: str
    delta: StockDelta
    reason: str
    source_type: SourceType
    source_id: str


def _counted(envelope: EventEnvelope, lines: Iterable[U]) -> list[U]:
    """The lines with a quantity; a line below 1 is bad data that no movement can express."""
    counted = []
    for line in lines:
        if line.quantity < 1:
            log.warning(
                "%s %s: %s has quantity %d; skipped",
                envelope.event_type,
                envelope.event_id,
                line.sku,
                line.quantity,
            )
        else:
            counted.append(line)
    return counted


def _return_received(envelope: EventEnvelope) -> list[Movement]:
    event = unpack(envelope, ReturnReceived)
    return [
        Movement(
            line.sku,
            event.location_code,
            StockDelta(pending_inspection=line.quantity),
            f"return {event.return_id} received",
            SourceType.RETURN,
            event.return_id,
        )
        for line in _counted(envelope, event.lines)
    ]


def _return_inspected(envelope: EventEnvelope) -> list[Movement]:
    """Restocked units are sellable where they were inspected at once; every other disposition
    only leaves the inspection pile (refurbished units come back through their work order)."""
    event = unpack(envelope, ReturnInspected)
    return [
        Movement(
            line.sku,
            event.location_code,
            StockDelta(
                pending_inspection=-line.quantity,
                on_hand=line.quantity if line.disposition == RESTOCK else 0,
            ),
            f"return {event.return_id} inspected: {line.disposition or 'no disposition'}",
            SourceType.RETURN,
            event.return_id,
        )
        for line in _counted(envelope, event.lines)
    ]


def _return_rejected(envelope: EventEnvelope) -> list[Movement]:
    # The parcel is quarantined: it leaves the inspection pile and nothing becomes sellable.
    event = unpack(envelope, ReturnRejected)
    return [
        Movement(
            line.sku,
            event.location_code,
            StockDelta(pending_inspection=-line.quantity),
            f"return {event.return_id} rejected",
            SourceType.RETURN,
            event.return_id,
        )
        for line in _counted(envelope, event.lines)
    ]


def _refurbishment(
    envelope: EventEnvelope,
    event: WorkOrderOpened | WorkOrderCompleted,
    delta: StockDelta,
    verb: str,
) -> list[Movement]:
    # Kits and value-add work move stock through reservations, not through these events.
    if event.kind != REFURBISH or not _counted(envelope, [event]):
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


def _work_order_opened(envelope: EventEnvelope) -> list[Movement]:
    event = unpack(envelope, WorkOrderOpened)
    return _refurbishment(envelope, event, StockDelta(in_repair=event.quantity), "opened")


def _work_order_completed(envelope: EventEnvelope) -> list[Movement]:
    event = unpack(envelope, WorkOrderCompleted)
    delta = StockDelta(in_repair=-event.quantity, on_hand=event.quantity)
    return _refurbishment(envelope, event, delta, "completed")


MOVEMENTS_FOR: dict[str, Callable[[EventEnvelope], list[Movement]]] = {
    "ReturnReceived": _return_received,
    "ReturnInspected": _return_inspected,
    "ReturnRejected": _return_rejected,
    "WorkOrderOpened": _work_order_opened,
    "WorkOrderCompleted": _work_order_completed,
}


async def apply_stock_event(session: AsyncSession, envelope: EventEnvelope) -> None:
    """Applies the movements an event asks for; event types inventory does not track pass.

    A SKU or location inventory does not know is bad data that no retry will fix, so that
    movement is logged and skipped rather than holding the stream forever. A movement that
    would break a level's invariant raises instead: its usual cause is an earlier event not
    yet applied (a redelivery out of order), which a later retry of this one will find.
    """
    movements_for = MOVEMENTS_FOR.get(envelope.event_type)
    if movements_for is None:
        return
    for movement in movements_for(envelope):
        try:
            await require_sku(session, movement.sku, "sku")
            await require_location(session, movement.location_code, "location_code")
        except DomainError as error:
            log.warning("%s %s: %s; skipped", envelope.event_type, envelope.event_id, error.message)
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


def subscriptions() -> list[Subscription]:
    return [
        Subscription("inventory-returns", "oms.returns.>", apply_stock_event),
        Subscription("inventory-workorders", "oms.workorders.>", apply_stock_event),
    ]
