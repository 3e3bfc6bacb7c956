"""What the work orders service consumes: inspected returns, whose REFURBISH units open work
orders, in the consumer's transaction so a redelivered inspection opens nothing twice."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.returns_pb2 import ReturnInspected
from services.kernel.events import Subscription, unpack
from services.workorders.domain.model import InspectedLine
from services.workorders.service import WorkOrdersService


class InspectedReturns:
    """Opens the refurbishments each inspected return asks for."""

    def __init__(self, service: WorkOrdersService) -> None:
        self._service = service

    async def apply(self, session: AsyncSession, envelope: EventEnvelope) -> None:
        if envelope.event_type != "ReturnInspected":
            return
        event = unpack(envelope, ReturnInspected)
        lines = [InspectedLine(x.sku, x.quantity, x.disposition) for x in event.lines]
        await self._service.open_refurbishments(
            session, event.return_id, event.location_code, lines
        )


def subscriptions(service: WorkOrdersService) -> list[Subscription]:
    return [
        Subscription(
            "workorders-returns",
            "oms.returns.return_inspected",
            InspectedReturns(service).apply,
        )
    ]
