"""Procurement's SQL store on each backend, where a statement is the dialect's own."""

from __future__ import annotations

from datetime import date

from services.kernel.db import Database
from services.kernel.migrate import migrate, streams
from services.kernel.settings import normalize_database_url
from services.procurement.bootstrap import SERVICE
from services.procurement.domain.model import NewLine
from services.procurement.store import SqlProcurementStore


async def test_a_shipments_demand_is_kept_once_and_only_ever_marked_shipped(db_url: str) -> None:
    db = Database(normalize_database_url(db_url))
    await migrate(db, streams(SERVICE.name, SERVICE.tables))
    day = date(2026, 12, 1)
    lines = [NewLine("TEE", 2, 0), NewLine("CAP", 1, 0)]

    async def record(shipment: str, lines: list[NewLine], shipped: bool, on: date) -> None:
        async with db.transaction() as session:
            await SqlProcurementStore(session).record_demand(
                shipment, "o-1", "DC", lines, on, shipped
            )

    try:
        await record("s-1", lines, False, day)
        await record("s-1", lines, False, day)  # a redelivered OrderPlaced: nothing more
        await record("s-1", [NewLine("TEE", 5, 0)], True, date(2026, 12, 3))  # its ShipmentShipped
        await record("s-1", lines, False, day)  # an OrderPlaced late: still shipped
        await record("s-1", [], False, day)
        async with db.snapshot() as session:
            demand = await SqlProcurementStore(session).demand(["DC"], day)
        assert demand == {("TEE", "DC"): {day: 2}, ("CAP", "DC"): {day: 1}}
        async with db.transaction() as session:
            await SqlProcurementStore(session).drop_unshipped_demand("o-1")
        async with db.snapshot() as session:
            kept = await SqlProcurementStore(session).demand(["DC"], day)
        assert kept == {("TEE", "DC"): {day: 2}}, "the shipped line stays, the other is dropped"
    finally:
        await db.dispose()
