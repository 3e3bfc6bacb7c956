"""What the work orders service consumes: inspected returns, whose REFURBISH units open work
orders in the consumer's unit of work, so a redelivered inspection opens nothing twice."""

from __future__ import annotations

from oms.events.v1.returns_pb2 import ReturnInspected
from oms.returns.v1.returns_pb2 import Disposition
from services.kernel.events import Subscription
from services.kernel.proto_enums import enum_name
from services.workorders.domain.model import InspectedLine
from services.workorders.service import WorkOrdersService
from services.workorders.store import WorkOrdersStore


def subscriptions(service: WorkOrdersService) -> list[Subscription[WorkOrdersStore]]:
    async def on_return_inspected(store: WorkOrdersStore, event: ReturnInspected) -> None:
        lines = [
            InspectedLine(x.sku, x.quantity, enum_name(Disposition, x.disposition))
            for x in event.lines
        ]
        await service.open_refurbishments(store, event.return_id, event.location_code, lines)

    return [
        Subscription(
            "workorders-returns",
            "oms.returns.return_inspected",
            {ReturnInspected: on_return_inspected},
        )
    ]
