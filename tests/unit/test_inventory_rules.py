"""The inventory's pure rules, including properties that must hold for any input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.inventory.domain import rules
from services.inventory.domain.model import (
    LocationKind,
    Movement,
    ReservationLine,
    ReservationStatus,
    SourceType,
    StockDelta,
    StockLevel,
)
from services.kernel.errors import DomainError, ErrorCode

small = st.integers(min_value=-20, max_value=20)
deltas = st.builds(StockDelta, on_hand=small, reserved=small, in_transit=small,
                   pending_inspection=small, in_repair=small)  # fmt: skip


@given(st.lists(deltas, max_size=40))
def test_applying_only_consistent_deltas_keeps_every_level_consistent(
    changes: list[StockDelta],
) -> None:
    """The store's rule (apply a delta only if the result is consistent) never leaves a level
    negative or over-reserved, and the ledger of applied deltas rebuilds the same level."""
    level = StockLevel("S", "L")
    applied = []
    for delta in changes:
        candidate = rules.apply_delta(level, delta)
        if rules.is_consistent(candidate):
            level = candidate
            applied.append(("S", "L", delta))
        assert rules.is_consistent(level)
        assert level.available >= 0
    assert rules.levels_from_ledger(applied).get(("S", "L"), StockLevel("S", "L")) == level


def counted(location_code: str, units: int) -> Movement:
    return Movement(
        "S", location_code, StockDelta(on_hand=units), "count", SourceType.ADJUSTMENT, "a"
    )


def test_the_ledger_check_reports_a_changed_level_a_level_without_ledger_and_a_missing_one() -> (
    None
):
    ledger = [counted("A", 5), counted("B", 2), counted("A", -1)]
    stored = [StockLevel("S", "A", on_hand=4), StockLevel("S", "B", on_hand=2)]
    assert rules.ledger_discrepancies(stored, ledger) == []

    changed = StockLevel("S", "A", on_hand=7)
    unmoved = StockLevel("S", "C", on_hand=1)
    # B's level row is gone; the ledger still says it holds two.
    assert rules.ledger_discrepancies([changed, unmoved], ledger) == [
        (changed, StockLevel("S", "A", on_hand=4)),
        (None, StockLevel("S", "B", on_hand=2)),
        (unmoved, StockLevel("S", "C")),
    ]


@given(
    sellable=st.dictionaries(st.sampled_from(["A", "B", "C"]), st.integers(0, 100)),
    overrides=st.dictionaries(st.sampled_from(["A", "B", "C"]), st.integers(0, 100)),
    default=st.integers(0, 50),
)
def test_channel_availability_is_sellable_less_safety_stock_never_negative(
    sellable: dict[str, int], overrides: dict[str, int], default: int
) -> None:
    result = dict(rules.channel_availability(["A", "B", "C"], sellable, overrides, default))
    for sku, units in result.items():
        assert units == max(0, sellable.get(sku, 0) - overrides.get(sku, default))


@given(
    st.lists(
        st.tuples(st.sampled_from("ABC"), st.sampled_from("XYZ"), st.integers(1, 9)), min_size=1
    )
)
def test_reservation_lines_merge_and_sort_into_lock_order(
    lines: list[tuple[str, str, int]],
) -> None:
    normalized = rules.normalize_reservation_lines([ReservationLine(*x) for x in lines])
    keys = [(x.sku, x.location_code) for x in normalized]
    assert keys == sorted(set(keys))
    assert sum(x.quantity for x in normalized) == sum(q for _, _, q in lines)


def test_reservation_lines_refuse_quantities_below_one_with_the_line_path() -> None:
    with pytest.raises(DomainError) as refused:
        rules.normalize_reservation_lines(
            [ReservationLine("A", "X", 1), ReservationLine("A", "X", 0)]
        )
    assert (refused.value.code, refused.value.field) == (
        ErrorCode.INVALID_QUANTITY,
        "lines.1.quantity",
    )
    with pytest.raises(DomainError):
        rules.normalize_reservation_lines([])


@pytest.mark.parametrize(
    ("held", "committed", "released", "status"),
    [
        (2, 0, 0, ReservationStatus.HELD),
        (1, 1, 0, ReservationStatus.PARTIALLY_COMMITTED),
        (0, 1, 1, ReservationStatus.COMMITTED),
        (0, 0, 2, ReservationStatus.RELEASED),
        (0, 0, 0, ReservationStatus.RELEASED),
    ],
)
def test_reservation_status(
    held: int, committed: int, released: int, status: ReservationStatus
) -> None:
    assert rules.reservation_status(held, committed, released) is status


def test_input_rules() -> None:
    assert rules.require_code("  HUB-1 ", "code", "code") == "HUB-1"
    for bad in ("", "   ", "A B", "x" * 65):
        with pytest.raises(DomainError):
            rules.require_code(bad, "code", "code")
    with pytest.raises(DomainError) as refused:
        rules.require_adjustment(0, "count")
    assert refused.value.code is ErrorCode.INVALID_QUANTITY
    with pytest.raises(DomainError):
        rules.require_coordinates(0, 181)
    assert rules.default_capabilities(LocationKind.RETURN_HUB) == (True, True)
    assert rules.default_capabilities(LocationKind.THIRD_PARTY_WAREHOUSE) == (True, False)
