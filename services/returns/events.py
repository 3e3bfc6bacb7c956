"""What the returns service consumes: refurbishments completing, which settle the returned units
they came from (and close a return once its last unit is settled).

The kernel's consumer runs the handler inside the transaction that records the event as
processed, so a redelivered event settles nothing twice.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.workorders_pb2 import WorkOrderCompleted
from services.kernel.events import Subscription, unpack
from services.returns.service import settle_refurbished

# The WorkOrderKind name of refurbishments (the enum lives in the work orders contract).
REFURBISH = "REFURBISH"


async def settle_completed_refurbishment(session: AsyncSession, envelope: EventEnvelope) -> None:
    event = unpack(envelope, WorkOrderCompleted)
    # Kits and value-add work, and refurbishments of stock that never was a return, pass.
    if event.kind != REFURBISH or not event.source_return_id or event.quantity < 1:
        return
    await settle_refurbished(session, event.source_return_id, event.sku, event.quantity)


def subscriptions() -> list[Subscription]:
    return [
        Subscription(
            "returns-work-orders-completed",
            "oms.workorders.work_order_completed",
            settle_completed_refurbishment,
        )
    ]
