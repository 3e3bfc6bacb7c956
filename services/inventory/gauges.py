"""The inventory service's figures for its metrics: the value of the stock in each state, at
each SKU's unit cost (the cash tied up on the shelf, in transit, waiting for inspection and in
repair)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.inventory.tables import SkuRow, StockLevelRow
from services.kernel.metrics import Reading

STATES = {
    "on_hand": StockLevelRow.on_hand,
    "reserved": StockLevelRow.reserved,
    "in_transit": StockLevelRow.in_transit,
    "pending_inspection": StockLevelRow.pending_inspection,
    "in_repair": StockLevelRow.in_repair,
}


async def read_gauges(session: AsyncSession) -> list[Reading]:
    values = [
        func.coalesce(func.sum(units * SkuRow.unit_cost_cents), 0) for units in STATES.values()
    ]
    statement = (
        select(*values)
        .select_from(StockLevelRow)
        .join(SkuRow, col(SkuRow.code) == col(StockLevelRow.sku))
    )
    totals: Any = (await session.exec(statement)).one()
    return [
        Reading(
            "oms_inventory_value_cents",
            "Stock value at unit cost, by state (cents)",
            int(total),
            {"state": state},
        )
        for state, total in zip(STATES, totals, strict=True)
    ]
