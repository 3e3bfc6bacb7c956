"""The orders service's figures for its metrics: orders waiting to ship and how long the oldest
has waited (the hours an order sits pending)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.kernel.metrics import Reading, age_seconds
from services.orders.domain.model import OrderStatus
from services.orders.store import SqlOrdersStore

PENDING = (OrderStatus.ALLOCATED, OrderStatus.BACKORDERED, OrderStatus.PARTIALLY_SHIPPED)


async def read_gauges(session: AsyncSession) -> list[Reading]:
    count, oldest = await SqlOrdersStore(session).waiting_orders(PENDING)
    return [
        Reading("oms_orders_pending", "Orders placed and not yet wholly shipped", count),
        Reading(
            "oms_orders_pending_oldest_age_seconds",
            "How long the oldest order not yet wholly shipped has waited",
            age_seconds(oldest, datetime.now(UTC)),
        ),
    ]
