"""The work orders service's figures for its metrics: work orders open, by location and status
(the repair bench's queue)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kernel.metrics import Reading, declared
from services.workorders.domain.model import WorkOrderStatus
from services.workorders.store import WorkOrderRow

OPEN = (WorkOrderStatus.OPEN, WorkOrderStatus.IN_PROGRESS)


async def read_gauges(session: AsyncSession) -> list[Reading]:
    counts = await session.exec(
        select(WorkOrderRow.location_code, WorkOrderRow.status, func.count())
        .where(col(WorkOrderRow.status).in_([status.value for status in OPEN]))
        .group_by(col(WorkOrderRow.location_code), col(WorkOrderRow.status))
    )
    declaration = declared("oms_work_orders_open", "Work orders open or in progress")
    return [
        declaration,
        *(
            Reading(
                "oms_work_orders_open",
                "Work orders open or in progress",
                count,
                {"location": location, "status": status},
            )
            for location, status, count in counts.all()
        ),
    ]
