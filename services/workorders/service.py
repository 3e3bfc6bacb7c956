"""Work order use cases: opening refurbishments for inspected returns, and listing work orders.

Each use case runs in one unit of work, whose store holds the queries and records the events;
the rules come from `domain/`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from oms.events.v1.workorders_pb2 import WorkOrderOpened
from oms.workorders.v1 import workorders_pb2 as pb
from services.kernel.proto_enums import enum_value
from services.kernel.unit_of_work import UnitOfWork
from services.workorders.domain import rules
from services.workorders.domain.model import InspectedLine, WorkOrder, WorkOrderStatus
from services.workorders.settings import WorkOrdersSettings
from services.workorders.store import WorkOrdersStore


class WorkOrdersService:
    """The work orders' use cases."""

    def __init__(self, uow: UnitOfWork[WorkOrdersStore], settings: WorkOrdersSettings) -> None:
        self.uow = uow
        self._refurbish_operations = rules.require_operations(settings.refurbish_operations)

    async def open_refurbishments(
        self,
        store: WorkOrdersStore,
        return_id: str,
        location_code: str,
        lines: Sequence[InspectedLine],
    ) -> list[WorkOrder]:
        """Opens a REFURBISH work order per SKU the inspection sent to refurbishment, each with
        its WorkOrderOpened event, in the caller's unit of work (the event consumer's, so the
        work orders, their events and the processed-event guard commit together).

        Idempotent per (return, SKU): a SKU that already has its work order is left alone, so
        the same inspection arriving again under another event id opens nothing more; the
        unique constraint settles a race between replicas. Returns the work orders opened.
        """
        wanted = rules.refurbishments(return_id, location_code, lines, self._refurbish_operations)
        existing = await store.refurbished_skus(return_id) if wanted else set()
        opened = []
        for new in wanted:
            if new.sku in existing:
                continue
            work_order = await store.add_work_order(str(uuid.uuid4()), new)
            store.record(
                WorkOrderOpened(
                    work_order_id=work_order.id,
                    kind=enum_value(pb.WorkOrderKind, work_order.kind.value),
                    sku=work_order.sku,
                    quantity=work_order.quantity,
                    location_code=work_order.location_code,
                    source_return_id=work_order.source_return_id,
                )
            )
            opened.append(work_order)
        return opened

    async def work_orders(
        self, status: WorkOrderStatus | None, location_code: str = "", source_return_id: str = ""
    ) -> list[WorkOrder]:
        async with self.uow.read() as store:
            return await store.work_orders(status, location_code, source_return_id)
