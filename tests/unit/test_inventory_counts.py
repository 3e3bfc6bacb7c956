"""Stock counts and drift: the pure rules (threshold, comparison, the CSV file, decisions) and
the use cases over the in-memory store built by the inventory's bootstrap."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from oms.events.v1.inventory_pb2 import (
    StockDiscrepancyFound,
    StockDiscrepancyResolved,
    StockLevelChanged,
)
from services.inventory.bootstrap import bootstrap
from services.inventory.domain import counts
from services.inventory.domain.model import (
    CountLine,
    Discrepancy,
    DiscrepancyDecision,
    DiscrepancyStatus,
    DriftThreshold,
    LocationChange,
    LocationKind,
    ReservationLine,
    StockCount,
)
from services.inventory.service import InventoryService
from services.inventory.settings import InventorySettings
from services.inventory.store import InventoryStore
from services.kernel.caller import Caller, Role
from services.kernel.errors import DomainError, ErrorCode
from tests.fakes.inventory import InventoryData, memory_uow
from tests.fakes.kernel import MemoryUnitOfWork
from tests.support.refusals import refused

ACCEPT, DISMISS = DiscrepancyDecision.ACCEPT, DiscrepancyDecision.DISMISS
Uow = MemoryUnitOfWork[InventoryStore, InventoryData]


def count(*lines: tuple[str, int], complete: bool = False, at: str = "3PL") -> StockCount:
    return StockCount(at, "SHIPBOB", tuple(CountLine(s, n) for s, n in lines), complete)


async def stocked(levels: dict[str, int]) -> tuple[InventoryService, Uow]:
    """A service over memory with a 3PL holding these units of each SKU (at 250 cents each)."""
    uow = memory_uow()
    service = bootstrap(uow, InventorySettings())
    await service.upsert_location(
        LocationChange("3PL", "3PL", LocationKind.THIRD_PARTY_WAREHOUSE, 52.5, 13.4)
    )
    for sku, units in levels.items():
        await service.upsert_sku(sku, sku.title(), 250, 100, serialized=False)
        if units:
            await service.adjust_stock(sku, "3PL", units, "received")
    return service, uow


# The rules


@pytest.mark.parametrize(
    ("ours", "theirs", "holds"),
    [
        (500, 0, True),  # the face cream: 500 units of air
        (500, 475, True),  # 25 units: the units threshold
        (500, 476, False),  # 24 units, under 5%: no hold, still listed
        (100, 90, True),  # 10%: the percent threshold
        (100, 91, False),
        (3, 0, True),  # a few units, all of them gone
        (0, 4, True),  # any difference from nothing is beyond every percentage
        (40, 40, False),
    ],
)
def test_a_difference_holds_from_the_units_or_the_percent_threshold(
    ours: int, theirs: int, holds: bool
) -> None:
    assert counts.holds_back(ours, theirs, DriftThreshold(units=25, percent=10)) is holds


def test_a_complete_count_compares_what_it_leaves_out_as_zero() -> None:
    on_hand = {"A": 5, "B": 7}
    partial = counts.compared(count(("A", 5), ("C", 2)), on_hand)
    full = counts.compared(count(("A", 5), ("C", 2), complete=True), on_hand)
    assert [(x.sku, x.ours, x.theirs) for x in partial] == [("A", 5, 5), ("C", 0, 2)]
    assert [(x.sku, x.ours, x.theirs) for x in full] == [("A", 5, 5), ("B", 7, 0), ("C", 0, 2)]


def test_a_count_file_is_read_whole_or_refused_by_its_line() -> None:
    good = "sku,counted,bin\nCREAM,0,A1\nSOAP,12,A2\n"
    assert counts.count_lines_from_csv(good) == (CountLine("CREAM", 0), CountLine("SOAP", 12))
    bad_rows = {
        "sku,counted\nCREAM,0\nSOAP,-3\n": "csv.3.counted",
        "sku,counted\nCREAM,0\nCREAM,2\n": "csv.3.sku",
        "sku,counted\nCREAM\n": "csv.2",
        "sku,counted\n,4\n": "csv.2.sku",
        "sku,quantity\nCREAM,4\n": "csv.1",
        "sku,counted\n": "csv",
    }
    for text, field in bad_rows.items():
        with pytest.raises(Exception) as raised:
            counts.count_lines_from_csv(text)
        assert getattr(raised.value, "field", None) == field, text
    too_many = "sku,counted\n" + "".join(f"S{i},1\n" for i in range(counts.MAX_COUNT_LINES + 1))
    with pytest.raises(Exception) as raised:
        counts.count_lines_from_csv(too_many)
    assert "more than 10000 rows" in str(raised.value)


def test_a_decision_settles_an_open_discrepancy_once() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    found = Discrepancy(1, "A", "3PL", 5, 0, -5, -1250, "SHIPBOB", at)
    assert counts.resolution(found, ACCEPT) is DiscrepancyStatus.ACCEPTED
    accepted = replace(found, status=DiscrepancyStatus.ACCEPTED)
    assert counts.resolution(accepted, ACCEPT) is DiscrepancyStatus.ACCEPTED
    with pytest.raises(Exception) as raised:
        counts.resolution(accepted, DISMISS)
    assert getattr(raised.value, "code", None) is ErrorCode.INVALID_STATE


# The use cases


async def test_a_count_of_zero_where_we_hold_500_holds_them_back_and_values_the_gap() -> None:
    service, uow = await stocked({"CREAM": 500, "SOAP": 40})
    await service.reserve("order-1", [ReservationLine("CREAM", "3PL", 20)], "order")

    done = await service.reconcile_count(count(("CREAM", 0), ("SOAP", 40)))

    [found] = done.discrepancies
    assert (found.sku, found.ours, found.theirs, found.difference) == ("CREAM", 500, 0, -500)
    assert found.value_cents == -125_000 and found.holds and found.status is DiscrepancyStatus.OPEN
    assert (done.compared, done.matched, done.closed) == (2, 1, 0)
    assert await service.availability(["CREAM", "SOAP"], "web") == [("CREAM", 0), ("SOAP", 40)]
    options, _, _ = await service.sourcing_options(["CREAM"])
    assert options == []
    code, _ = await refused(service.reserve("order-2", [ReservationLine("CREAM", "3PL", 1)], ""))
    assert code is ErrorCode.INSUFFICIENT_STOCK
    # What was reserved before the count still ships.
    await service.commit("order-1")
    [event] = uow.published(StockDiscrepancyFound)
    assert (event.sku, event.value_cents, event.holds) == ("CREAM", -125_000, True)
    held = [e for e in uow.published(StockLevelChanged) if e.source_type == "COUNT"]
    assert [(e.on_hold, e.available) for e in held] == [(True, 0)]


async def test_a_small_difference_is_listed_without_holding_the_level() -> None:
    service, _ = await stocked({"SOAP": 500})
    done = await service.reconcile_count(count(("SOAP", 490)))
    assert [(x.difference, x.holds) for x in done.discrepancies] == [(-10, False)]
    assert await service.availability(["SOAP"], "web") == [("SOAP", 500)]


async def test_accepting_adjusts_on_hand_by_count_once_and_lifts_the_hold() -> None:
    service, uow = await stocked({"CREAM": 500})
    [found] = (await service.reconcile_count(count(("CREAM", 0)))).discrepancies

    accepted = await service.resolve_discrepancy(found.id, ACCEPT)
    again = await service.resolve_discrepancy(found.id, ACCEPT)

    assert accepted.status is again.status is DiscrepancyStatus.ACCEPTED
    [level] = await service.stock_levels(["CREAM"], ["3PL"])
    assert (level.on_hand, level.on_hold) == (0, False)
    [entry, *_] = await service.movements("CREAM", "3PL")
    assert (entry.movement.reason, entry.movement.delta.on_hand) == ("COUNT", -500)
    ledger = await service.movements("CREAM", "3PL")
    assert [e.movement.reason for e in ledger] == ["COUNT", "received"]
    [resolved] = uow.published(StockDiscrepancyResolved)
    assert (resolved.status, resolved.adjusted) == ("ACCEPTED", -500)
    code, _ = await refused(service.resolve_discrepancy(found.id, DISMISS))
    assert code is ErrorCode.INVALID_STATE


async def test_dismissing_lifts_the_hold_and_changes_nothing() -> None:
    service, _ = await stocked({"CREAM": 500})
    [found] = (await service.reconcile_count(count(("CREAM", 0)))).discrepancies
    await service.resolve_discrepancy(found.id, DISMISS)
    assert await service.availability(["CREAM"], "web") == [("CREAM", 500)]
    assert [e.movement.reason for e in await service.movements("CREAM", "3PL")] == ["received"]


async def test_accepting_fewer_units_than_are_reserved_is_refused() -> None:
    service, _ = await stocked({"CREAM": 500})
    await service.reserve("order-1", [ReservationLine("CREAM", "3PL", 20)], "order")
    [found] = (await service.reconcile_count(count(("CREAM", 0)))).discrepancies
    assert await refused(service.resolve_discrepancy(found.id, ACCEPT)) == (
        ErrorCode.INSUFFICIENT_STOCK,
        "id",
    )
    [still] = (await service.stock_discrepancies())[0]
    assert still.status is DiscrepancyStatus.OPEN


async def test_units_on_hold_are_not_consumed_by_a_work_order_until_decided() -> None:
    """A count said the node holds none of the 500: a work order may not take them as parts
    either. Refused as INVALID_STATE (the level's state, not a shortage), nothing moved; once
    the difference is dismissed the same consumption goes through."""
    service, _ = await stocked({"CREAM": 500})
    [found] = (await service.reconcile_count(count(("CREAM", 0)))).discrepancies
    parts = [ReservationLine("CREAM", "3PL", 2)]

    with pytest.raises(DomainError) as raised:
        await service.consume("wo-1", parts, "kit parts")

    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_STATE, "lines.0.quantity")
    assert "on hold" in raised.value.message
    [level] = await service.stock_levels(["CREAM"], ["3PL"])
    assert (level.on_hand, level.on_hold) == (500, True)
    await service.resolve_discrepancy(found.id, DISMISS)
    await service.consume("wo-1", parts, "kit parts")
    [level] = await service.stock_levels(["CREAM"], ["3PL"])
    assert level.on_hand == 498


async def test_a_later_count_closes_what_was_open_and_a_match_lifts_the_hold() -> None:
    service, _ = await stocked({"CREAM": 500})
    [first] = (await service.reconcile_count(count(("CREAM", 0)))).discrepancies
    [second] = (await service.reconcile_count(count(("CREAM", 450)))).discrepancies
    matched = await service.reconcile_count(count(("CREAM", 500)))

    assert (matched.discrepancies, matched.closed) == ((), 1)
    listed, next_after = await service.stock_discrepancies("3PL")
    assert [(x.id, x.status) for x in listed] == [
        (second.id, DiscrepancyStatus.CLOSED),
        (first.id, DiscrepancyStatus.CLOSED),
    ]
    assert next_after == 0
    assert await service.availability(["CREAM"], "web") == [("CREAM", 500)]


async def test_a_complete_count_counts_a_sku_it_leaves_out_as_none() -> None:
    service, _ = await stocked({"CREAM": 500, "SOAP": 40})
    done = await service.reconcile_count(count(("SOAP", 40), complete=True))
    assert [(x.sku, x.theirs) for x in done.discrepancies] == [("CREAM", 0)]
    partial = await service.reconcile_count(count(("SOAP", 40)))
    assert partial.closed == 0 and partial.compared == 1


async def test_discrepancies_come_newest_first_in_bounded_pages() -> None:
    service, _ = await stocked({"A": 10, "B": 10, "C": 10})
    await service.reconcile_count(count(("A", 0), ("B", 0), ("C", 0)))
    page, next_after = await service.stock_discrepancies(limit=2)
    assert [x.sku for x in page] == ["C", "B"]
    rest, last = await service.stock_discrepancies(limit=2, after=next_after)
    assert ([x.sku for x in rest], last) == (["A"], 0)
    code, field = await refused(service.stock_discrepancies(limit=1000))
    assert (code, field) == (ErrorCode.INVALID_INPUT, "limit")


async def test_a_bad_count_is_refused_whole() -> None:
    service, _ = await stocked({"CREAM": 500})
    assert await refused(service.reconcile_count(count(("CREAM", 0), ("NOPE", 1)))) == (
        ErrorCode.NOT_FOUND,
        "lines.1.sku",
    )
    assert await refused(service.reconcile_count(count(("CREAM", 0), at="NOWHERE"))) == (
        ErrorCode.NOT_FOUND,
        "location_code",
    )
    assert await refused(service.reconcile_count(count(("CREAM", 0), ("CREAM", 1)))) == (
        ErrorCode.INVALID_INPUT,
        "lines.1.sku",
    )
    assert await refused(service.reconcile_count(count(("CREAM", -1)))) == (
        ErrorCode.INVALID_INPUT,
        "lines.0.counted",
    )
    code, field = await refused(
        service.import_count("3PL", "COUNT_CSV", "sku,counted\nCREAM,0\nSOAP,x\n")
    )
    assert (code, field) == (ErrorCode.INVALID_INPUT, "csv.3.counted")
    assert await service.stock_discrepancies() == ([], 0)
    assert await service.availability(["CREAM"], "web") == [("CREAM", 500)]


async def test_only_the_back_office_counts_and_decides() -> None:
    service, _ = await stocked({"CREAM": 500})
    storefront = Caller("shop", Role.STOREFRONT, channels=("web",))
    code, _ = await refused(service.reconcile_count(count(("CREAM", 0)), storefront))
    assert code is ErrorCode.FORBIDDEN
    code, _ = await refused(service.stock_discrepancies(caller=storefront))
    assert code is ErrorCode.FORBIDDEN


def test_the_drift_threshold_is_read_from_the_environment() -> None:
    assert InventorySettings.from_env({}).drift_threshold == DriftThreshold(25, 10)
    env = {"OMS_INVENTORY_DRIFT_HOLD_UNITS": "5", "OMS_INVENTORY_DRIFT_HOLD_PERCENT": "2"}
    assert InventorySettings.from_env(env).drift_threshold == DriftThreshold(5, 2)
    with pytest.raises(ValueError, match="OMS_INVENTORY_DRIFT_HOLD_UNITS"):
        InventorySettings.from_env({"OMS_INVENTORY_DRIFT_HOLD_UNITS": "0"})
