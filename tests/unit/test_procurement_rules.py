"""Procurement's pure rules: receiving against what is open, the three-way match, and the
replenishment maths (demand, safety stock, expected returns, pack sizes)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.kernel.db import utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.procurement.domain import matching, purchasing, replenishment
from services.procurement.domain.model import (
    Discrepancy,
    DiscrepancyKind,
    InvoiceLine,
    InvoiceStatus,
    PlanLine,
    Position,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Receipt,
    ReceivedLine,
    Supplier,
    Yields,
)
from services.procurement.settings import DEFAULT_POLICY, ProcurementSettings

ACME = Supplier("ACME", "Acme", 7)


def order(
    *lines: tuple[str, int, int, int], status: PurchaseOrderStatus = PurchaseOrderStatus.OPEN
) -> PurchaseOrder:
    return PurchaseOrder(
        id="po",
        number="PO-000001",
        status=status,
        supplier=ACME,
        location_code="DC",
        lines=tuple(
            PurchaseOrderLine(sku, ordered, cost, received)
            for sku, ordered, cost, received in lines
        ),
        created_at=utcnow(),
    )


def receipt(*lines: tuple[str, int]) -> Receipt:
    return Receipt("po", tuple(ReceivedLine(sku, units) for sku, units in lines))


def test_receiving_in_parts_is_partially_received_then_received() -> None:
    first = purchasing.receive(order(("TEE", 100, 500, 0)), receipt(("TEE", 60)))
    assert (first.status, first.lines[0].quantity_received) == (
        PurchaseOrderStatus.PARTIALLY_RECEIVED,
        60,
    )
    second = purchasing.receive(first, receipt(("TEE", 40)))
    assert (second.status, second.lines[0].quantity_received) == (PurchaseOrderStatus.RECEIVED, 100)


@pytest.mark.parametrize(
    ("given_order", "given_receipt", "code", "field"),
    [
        (
            order(("TEE", 100, 500, 60)),
            receipt(("TEE", 41)),
            ErrorCode.INVALID_QUANTITY,
            "lines.0.quantity",
        ),
        (order(("TEE", 100, 500, 0)), receipt(("MUG", 1)), ErrorCode.NOT_FOUND, "lines.0.sku"),
        (
            order(("TEE", 100, 500, 0), status=PurchaseOrderStatus.CANCELLED),
            receipt(("TEE", 1)),
            ErrorCode.INVALID_STATE,
            "purchase_order_id",
        ),
        (
            order(("TEE", 100, 500, 0), status=PurchaseOrderStatus.DRAFT),
            receipt(("TEE", 1)),
            ErrorCode.INVALID_STATE,
            "purchase_order_id",
        ),
    ],
)
def test_a_receipt_beyond_the_order_is_refused(
    given_order: PurchaseOrder, given_receipt: Receipt, code: ErrorCode, field: str
) -> None:
    with pytest.raises(DomainError) as refused:
        purchasing.receive(given_order, given_receipt)
    assert (refused.value.code, refused.value.field) == (code, field)


@given(st.lists(st.integers(min_value=1, max_value=60), max_size=8))
def test_no_line_is_ever_received_beyond_what_was_ordered(receipts: list[int]) -> None:
    current = order(("TEE", 100, 500, 0))
    for units in receipts:
        try:
            current = purchasing.receive(current, receipt(("TEE", units)))
        except DomainError as error:
            assert error.code in (ErrorCode.INVALID_QUANTITY, ErrorCode.INVALID_STATE)
        assert 0 <= current.lines[0].quantity_received <= 100


def test_a_receipt_is_bounded() -> None:
    with pytest.raises(DomainError) as refused:
        purchasing.require_receipt(receipt(("TEE", 0)))
    assert (refused.value.code, refused.value.field) == (
        ErrorCode.INVALID_QUANTITY,
        "lines.0.quantity",
    )
    with pytest.raises(DomainError) as twice:
        purchasing.require_receipt(receipt(("TEE", 1), ("TEE", 2)))
    assert (twice.value.code, twice.value.field) == (ErrorCode.INVALID_INPUT, "lines.1.sku")


RECEIVED = order(("TEE", 100, 500, 100), ("MUG", 10, 300, 4))


def test_an_invoice_at_the_ordered_price_for_what_was_received_matches() -> None:
    lines = [InvoiceLine("TEE", 100, 500), InvoiceLine("MUG", 4, 300)]
    assert matching.match(RECEIVED, lines, matching.Tolerance()) == (InvoiceStatus.MATCHED, ())


def test_each_difference_is_a_discrepancy_expected_next_to_actual() -> None:
    lines = [InvoiceLine("TEE", 120, 550), InvoiceLine("CAP", 2, 100)]
    status, found = matching.match(RECEIVED, lines, matching.Tolerance())
    assert status is InvoiceStatus.ON_HOLD
    assert found == (
        Discrepancy("TEE", DiscrepancyKind.PRICE, 500, 550),
        Discrepancy("TEE", DiscrepancyKind.QUANTITY, 100, 120),
        Discrepancy("CAP", DiscrepancyKind.NOT_ON_ORDER, 0, 2),
    )


def test_within_tolerance_an_invoice_still_matches() -> None:
    lines = [InvoiceLine("TEE", 101, 510)]
    tolerance = matching.Tolerance(price_bps=200, quantity_units=1)  # 2% of 500 is 10 cents
    assert matching.match(RECEIVED, lines, tolerance)[0] is InvoiceStatus.MATCHED
    assert matching.match(RECEIVED, [InvoiceLine("TEE", 100, 511)], tolerance)[0] is (
        InvoiceStatus.ON_HOLD
    )


TODAY = date(2026, 12, 1)


def test_daily_demand_counts_quiet_days_as_zero() -> None:
    series = replenishment.daily_demand({TODAY: 5, TODAY - timedelta(days=2): 3}, TODAY, 4)
    assert series == [0, 3, 0, 5]


def test_the_sellable_share_starts_at_the_prior_and_learns_from_history() -> None:
    assert replenishment.sellable_share(0, 0, 0.85, 20) == 0.85
    assert replenishment.sellable_share(10, 20, 0.85, 20) == pytest.approx((10 + 17) / 40)
    assert replenishment.sellable_share(1000, 1000, 0.85, 20) > 0.99


def plan(position: Position, demand: list[int], pack: int = 0) -> PlanLine:
    lead = replenishment.LeadTime(7, "DECLARED")
    return replenishment.plan_line(
        "TEE", "DC", demand, position, lead, pack, Yields(), DEFAULT_POLICY
    )


def test_steady_demand_needs_no_safety_stock_and_orders_up_to_lead_time_demand() -> None:
    line = plan(Position(on_hand=20, reserved=5, in_transit=10), [10] * 28)
    assert line.explanation.safety_stock == 0
    assert line.explanation.target == 70
    assert line.suggested_quantity == 70 - (20 + 10 - 5)


def test_variable_demand_adds_safety_stock_at_the_service_level() -> None:
    demand = [0, 20] * 14
    line = plan(Position(), demand)
    assert line.explanation.safety_stock == pytest.approx(1.645 * 10 * math.sqrt(7), abs=0.01)
    assert line.suggested_quantity == math.ceil(70 + 1.6448536 * 10 * math.sqrt(7))


def test_returns_on_their_way_back_lower_the_suggestion_by_their_sellable_share() -> None:
    without = plan(Position(), [10] * 28)
    pipeline = Position(returns_requested=10, pending_inspection=10, in_repair=10)
    with_returns = plan(pipeline, [10] * 28)
    # Before history: 0.85 of requested and inspected units, 0.80 of units in repair.
    assert with_returns.expected_returns == 25
    assert without.suggested_quantity - with_returns.suggested_quantity == 25


def test_the_suggestion_is_rounded_up_to_the_pack_size() -> None:
    assert plan(Position(on_hand=5), [10] * 28, pack=12).suggested_quantity == 72


@given(
    st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=28),
    st.integers(min_value=0, max_value=500),
    st.integers(min_value=0, max_value=100),
    st.integers(min_value=0, max_value=24),
)
def test_a_suggestion_is_never_negative_and_returns_never_raise_it(
    demand: list[int], on_hand: int, returning: int, pack: int
) -> None:
    base = plan(Position(on_hand=on_hand), demand, pack)
    more = plan(Position(on_hand=on_hand, pending_inspection=returning), demand, pack)
    assert 0 <= more.suggested_quantity <= base.suggested_quantity
    if pack > 1:
        assert base.suggested_quantity % pack == 0


def test_the_observed_lead_time_is_used_once_there_is_history() -> None:
    assert replenishment.lead_time(7, 3.5, 2, 3, 14) == replenishment.LeadTime(7, "DECLARED")
    assert replenishment.lead_time(7, 3.5, 3, 3, 14) == replenishment.LeadTime(3.5, "OBSERVED")
    assert replenishment.lead_time(None, None, 0, 3, 14) == replenishment.LeadTime(14, "DEFAULT")


def test_settings_come_from_the_environment_and_refuse_nonsense() -> None:
    settings = ProcurementSettings.from_env(
        {
            "OMS_REPLENISHMENT_SERVICE_LEVEL": "0.99",
            "OMS_REPLENISHMENT_DEMAND_DAYS": "14",
            "OMS_INVOICE_PRICE_TOLERANCE_BPS": "150",
        }
    )
    assert (settings.policy.service_level, settings.policy.demand_days) == (0.99, 14)
    assert settings.tolerance == matching.Tolerance(price_bps=150)
    assert ProcurementSettings.from_env({}) == ProcurementSettings()
    for wrong in (
        {"OMS_REPLENISHMENT_SERVICE_LEVEL": "1.5"},
        {"OMS_REPLENISHMENT_DEMAND_DAYS": "x"},
    ):
        with pytest.raises(ValueError):
            ProcurementSettings.from_env(wrong)
