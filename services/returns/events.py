"""What the returns service consumes: refurbishments completing, which settle the returned units
they came from (and close a return once its last unit is settled).

The kernel's consumer runs the handler inside the unit of work that records the event as
processed, so a redelivered event settles nothing twice.
"""

from __future__ import annotations

from oms.events.v1.workorders_pb2 import WorkOrderCompleted
from oms.workorders.v1.workorders_pb2 import WORK_ORDER_KIND_REFURBISH
from services.kernel.events import Subscription
from services.returns.service import ReturnsService
from services.returns.store import ReturnsStore


def subscriptions(service: ReturnsService) -> list[Subscription[ReturnsStore]]:
    async def settle_completed_refurbishment(
        store: ReturnsStore, event: WorkOrderCompleted
    ) -> None:
        # Kits and value-add work, and refurbishments of stock that never was a return, pass.
        if (
            event.kind != WORK_ORDER_KIND_REFURBISH
            or not event.source_return_id
            or event.quantity < 1
        ):
            return
        await service.settle_refurbished(store, event.source_return_id, event.sku, event.quantity)

    return [
        Subscription(
            "returns-work-orders-completed",
            "oms.workorders.work_order_completed",
            {WorkOrderCompleted: settle_completed_refurbishment},
        )
    ]
