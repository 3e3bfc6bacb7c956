"""Bulk imports over the in-memory store: every row checked before any is written, a refusal
naming its row or file line, one ledger row and one StockLevelChanged per moved level plus one
StockImported per batch, applied once per key."""

from __future__ import annotations

from oms.events.v1.inventory_pb2 import StockImported, StockLevelChanged
from services.inventory.bootstrap import bootstrap
from services.inventory.domain.imports import ImportOutcome, StockImportRow
from services.inventory.domain.model import LocationChange, LocationKind, ReservationLine, Sku
from services.inventory.service import InventoryService
from services.kernel.errors import ErrorCode
from tests.fakes.inventory import memory_uow
from tests.support.refusals import refused


async def network(service: InventoryService) -> None:
    for code in ("DC-1", "DC-2"):
        kind = LocationKind.DISTRIBUTION_CENTER
        await service.upsert_location(LocationChange(code, code, kind, 52.5, 13.4))
    skus = [(f"skus.{i}", Sku(code, code, 800, 200, False)) for i, code in enumerate("ABC")]
    assert await service.upsert_skus(skus) == (3, 0)


def row(sku: str, at: str, delta: int | None = None, on_hand: int | None = None) -> StockImportRow:
    return StockImportRow(sku, at, delta, on_hand, "", f"rows.{sku}{at}")


async def test_an_import_moves_each_level_with_its_ledger_row_and_event() -> None:
    uow = memory_uow()
    service = bootstrap(uow)
    await network(service)
    await service.adjust_stock("A", "DC-1", 5, "count")

    done = await service.import_stock(
        [row("A", "DC-1", delta=3), row("B", "DC-1", on_hand=7), row("C", "DC-2", on_hand=0)]
    )

    assert done == ImportOutcome(rows=3, levels_changed=2)
    levels = {(lv.sku, lv.location_code): lv.on_hand for lv in await service.stock_levels()}
    assert levels == {("A", "DC-1"): 8, ("B", "DC-1"): 7, ("C", "DC-2"): 0}
    # The moved levels as they are after, in one StockImported (no event per level).
    [summary] = uow.published(StockImported)
    assert isinstance(summary, StockImported)
    assert (summary.rows, list(summary.skus)) == (3, ["A", "B"])
    assert [(e.sku, e.on_hand, e.version, e.reason) for e in summary.levels] == [
        ("A", 8, 2, "import"),
        ("B", 7, 1, "import"),
    ]
    assert len(uow.published(StockLevelChanged)) == 1  # the adjustment before
    assert await service.ledger_discrepancies() == []


async def test_one_bad_row_refuses_the_whole_import_by_its_row_or_line() -> None:
    uow = memory_uow()
    service = bootstrap(uow)
    await network(service)
    await service.adjust_stock("A", "DC-1", 5, "count")
    await service.reserve("o-1", [ReservationLine("A", "DC-1", 4)], "order")
    before = await service.stock_levels()

    below_reserved = [row("B", "DC-1", delta=2), row("A", "DC-1", on_hand=3)]
    assert await refused(service.import_stock(below_reserved)) == (
        ErrorCode.INSUFFICIENT_STOCK,
        "rows.ADC-1.on_hand",
    )
    csv = "sku,location_code,delta\nA,DC-1,1\nNOPE,DC-1,2\n"
    assert await refused(service.import_stock(csv=csv)) == (ErrorCode.NOT_FOUND, "csv.3.sku")
    twice = "sku,location_code,delta\nA,DC-1,1\nA,DC-1,2\n"
    assert await refused(service.import_stock(csv=twice)) == (ErrorCode.INVALID_INPUT, "csv.3.sku")
    both = "sku,location_code,delta,on_hand\nA,DC-1,1,4\n"
    assert await refused(service.import_stock(csv=both)) == (ErrorCode.INVALID_QUANTITY, "csv.2")
    not_a_number = "sku,location_code,on_hand\nA,DC-1,x\n"
    assert await refused(service.import_stock(csv=not_a_number)) == (
        ErrorCode.INVALID_INPUT,
        "csv.2.on_hand",
    )
    assert await service.stock_levels() == before
    assert uow.published(StockImported) == []


async def test_an_import_under_a_key_applies_once() -> None:
    uow = memory_uow()
    service = bootstrap(uow)
    await network(service)
    first = await service.import_stock([row("A", "DC-1", delta=4)], idempotency_key="k-1")
    again = await service.import_stock([row("A", "DC-1", delta=4)], idempotency_key="k-1")
    assert (first, again) == (ImportOutcome(1, 1), ImportOutcome(1, 1, replayed=True))
    [level] = await service.stock_levels(["A"])
    assert level.on_hand == 4


async def test_upsert_skus_creates_and_updates_from_a_file() -> None:
    service = bootstrap(memory_uow())
    await network(service)
    csv = (
        "code,title,unit_cost_cents,weight_grams,serialized\nA,Alpha,900,250,true\nD,Delta,1,2,no\n"
    )
    assert await service.upsert_skus(csv=csv) == (1, 1)
    found = {sku.code: sku for sku in await service.skus(["A", "D"])}
    assert (found["A"].title, found["A"].serialized, found["D"].unit_cost_cents) == (
        "Alpha",
        True,
        1,
    )
    bad = "code,title,unit_cost_cents,weight_grams\nE,Echo,-1,2\n"
    assert await refused(service.upsert_skus(csv=bad)) == (
        ErrorCode.INVALID_INPUT,
        "csv.2.unit_cost_cents",
    )
