"""The returns service's figures for its metrics: parcels received at each hub and not yet
inspected, and how long the oldest there has waited (the returns backlog)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kernel.metrics import Reading, age_seconds, declared
from services.returns.domain.model import ReturnStatus
from services.returns.tables import ReturnRow


async def read_gauges(session: AsyncSession) -> list[Reading]:
    received = await session.exec(
        select(ReturnRow.destination_code, func.count(), func.min(ReturnRow.received_at))
        .where(ReturnRow.status == ReturnStatus.RECEIVED.value)
        .group_by(col(ReturnRow.destination_code))
    )
    now = datetime.now(UTC)
    readings = []
    for hub, count, oldest in received.all():
        if isinstance(oldest, str):  # SQLite aggregates lose the column type
            oldest = datetime.fromisoformat(oldest)
        readings += [
            Reading(
                "oms_returns_awaiting_inspection",
                "Returns received at a hub and not yet inspected",
                count,
                {"hub": hub},
            ),
            Reading(
                "oms_returns_awaiting_inspection_oldest_age_seconds",
                "How long the oldest return received at a hub has waited for inspection",
                age_seconds(oldest, now),
                {"hub": hub},
            ),
        ]
    readings.append(declared("oms_returns_awaiting_inspection", "Returns awaiting inspection"))
    return readings
