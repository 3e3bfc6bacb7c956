"""Work order use cases: opening refurbishments for inspected returns, and listing work orders."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from oms.events.v1.workorders_pb2 import WorkOrderOpened
from services.kernel.db import Database
from services.kernel.outbox import record_event
from services.workorders.domain import rules
from services.workorders.domain.model import (
    InspectedLine,
    NewWorkOrder,
    WorkOrder,
    WorkOrderStatus,
)
from services.workorders.store import (
    WorkOrderOperationRow,
    WorkOrderRow,
    find_work_orders,
    load_work_orders,
    skus_with_work_orders,
)

PRODUCER = "workorders"


class WorkOrdersService:
    """The work orders' use cases over their own database."""

    def __init__(
        self, db: Database, refurbish_operations: Sequence[str] = rules.DEFAULT_REFURBISH_OPERATIONS
    ) -> None:
        self._db = db
        self._refurbish_operations = rules.require_operations(refurbish_operations)

    async def open_refurbishments(
        self,
        session: AsyncSession,
        return_id: str,
        location_code: str,
        lines: Sequence[InspectedLine],
    ) -> list[WorkOrder]:
        """Opens a REFURBISH work order per SKU the inspection sent to refurbishment, each with
        its WorkOrderOpened event, inside the caller's transaction (the event consumer's, so
        the work orders, their events and the processed-event guard commit together).

        Idempotent per (return, SKU): a SKU that already has its work order is left alone, so
        the same inspection arriving again under another event id opens nothing more; the
        unique constraint settles a race between replicas. Returns the work orders opened.
        """
        wanted = rules.refurbishments(return_id, location_code, lines, self._refurbish_operations)
        existing = await skus_with_work_orders(session, return_id) if wanted else set()
        rows = [await _open(session, new) for new in wanted if new.sku not in existing]
        return await load_work_orders(session, rows)

    async def work_orders(
        self, status: WorkOrderStatus | None, location_code: str = "", source_return_id: str = ""
    ) -> list[WorkOrder]:
        async with self._db.snapshot() as session:
            return await find_work_orders(session, status, location_code, source_return_id)


async def _open(session: AsyncSession, new: NewWorkOrder) -> WorkOrderRow:
    row = WorkOrderRow(
        id=str(uuid.uuid4()),
        kind=new.kind.value,
        status=WorkOrderStatus.OPEN.value,
        sku=new.sku,
        quantity=new.quantity,
        location_code=new.location_code,
        source_return_id=new.source_return_id or None,
    )
    session.add(row)
    await session.flush()
    for position, name in enumerate(new.operations):
        session.add(WorkOrderOperationRow(work_order_id=row.id, position=position, name=name))
    await session.flush()
    record_event(
        session,
        PRODUCER,
        WorkOrderOpened(
            work_order_id=row.id,
            kind=row.kind,
            sku=row.sku,
            quantity=row.quantity,
            location_code=row.location_code,
            source_return_id=new.source_return_id,
        ),
    )
    return row
