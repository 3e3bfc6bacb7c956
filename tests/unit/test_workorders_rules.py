"""The work order rules without I/O: which refurbishments an inspection opens, what a list of
operations may be, and how a status filter is read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.kernel.errors import DomainError, ErrorCode
from services.workorders.domain.model import InspectedLine, WorkOrderKind, WorkOrderStatus
from services.workorders.domain.rules import (
    DEFAULT_REFURBISH_OPERATIONS,
    refurbishments,
    require_operations,
    status_filter,
)

DISPOSITIONS = ("RESTOCK", "REFURBISH", "LIQUIDATE", "RECYCLE")


def test_each_refurbished_sku_opens_one_work_order_at_the_inspecting_location() -> None:
    lines = [
        InspectedLine("PHONE", 1, "REFURBISH"),
        InspectedLine("TEE", 3, "RESTOCK"),
        InspectedLine("CASE", 2, "REFURBISH"),
        InspectedLine("PHONE", 2, "REFURBISH"),
        InspectedLine("MUG", 1, "LIQUIDATE"),
        InspectedLine("CABLE", 0, "REFURBISH"),
    ]
    opened = refurbishments("R1", "HUB-BER", lines)
    assert [(w.sku, w.quantity) for w in opened] == [("PHONE", 3), ("CASE", 2)]
    for work_order in opened:
        assert work_order.kind is WorkOrderKind.REFURBISH
        assert (work_order.location_code, work_order.source_return_id) == ("HUB-BER", "R1")
        assert work_order.operations == ("GRADE", "WIPE", "REPAIR")


def test_an_inspection_without_refurbishment_opens_nothing() -> None:
    lines = [InspectedLine("TEE", 1, "RESTOCK"), InspectedLine("MUG", 1, "RECYCLE")]
    assert refurbishments("R1", "HUB-BER", lines) == []


def test_operators_may_name_the_operations() -> None:
    [opened] = refurbishments(
        "R1", "HUB-BER", [InspectedLine("PHONE", 1, "REFURBISH")], [" TEST ", "WIPE"]
    )
    assert opened.operations == ("TEST", "WIPE")


@pytest.mark.parametrize(
    ("names", "field"),
    [
        ([], "operations"),
        (["GRADE", " "], "operations.1"),
        (["GRADE", "WIPE", "GRADE"], "operations.2"),
        (["X" * 65], "operations.0"),
    ],
)
def test_operations_are_named_once_each(names: list[str], field: str) -> None:
    with pytest.raises(DomainError) as refused:
        require_operations(names)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, field)


def test_the_default_operations_are_valid() -> None:
    assert require_operations(DEFAULT_REFURBISH_OPERATIONS) == DEFAULT_REFURBISH_OPERATIONS


def test_a_status_filter_is_empty_or_a_status_name() -> None:
    assert status_filter("") is None
    assert status_filter("OPEN") is WorkOrderStatus.OPEN
    with pytest.raises(DomainError) as refused:
        status_filter("open")
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, "status")


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C"]),
            st.integers(min_value=-2, max_value=5),
            st.sampled_from(DISPOSITIONS),
        ),
        max_size=12,
    )
)
def test_every_refurbished_unit_is_in_exactly_one_work_order(
    lines: list[tuple[str, int, str]],
) -> None:
    inspected = [InspectedLine(*line) for line in lines]
    opened = refurbishments("R1", "HUB", inspected)
    skus = [w.sku for w in opened]
    assert len(skus) == len(set(skus))
    for sku in {"A", "B", "C"}:
        units = sum(q for s, q, d in lines if s == sku and d == "REFURBISH" and q > 0)
        assert sum(w.quantity for w in opened if w.sku == sku) == units
    assert all(w.quantity > 0 for w in opened)
