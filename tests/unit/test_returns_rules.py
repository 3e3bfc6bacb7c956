"""Returns rules: routing, eligibility, dispositions, fraud checks, refunds and the report —
properties that hold for any input, and the cases an operator reasons about."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import ParamSpec

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.kernel.errors import DomainError, ErrorCode
from services.returns.domain.model import (
    CatalogueSku,
    Disposition,
    FraudFlag,
    Grade,
    InspectedUnit,
    NewReturn,
    RequestedLine,
    ReturnSite,
    ReturnStatus,
    ShippedLine,
    ShippedOrder,
    ShippedParcel,
)
from services.returns.domain.report import (
    ReportedReturn,
    build_report,
    parse_bound,
    percentile,
)
from services.returns.domain.rules import (
    ReturnCostModel,
    disposition_for,
    fraud_flags,
    inspected_totals,
    present_lines,
    refund_cents,
    require_returnable,
    require_within_window,
    retry_delay_seconds,
    route_return,
    settle_units,
    shipped_lines,
    status_after_inspection,
    validate_inspection,
    validate_new_return,
)

BERLIN = (52.52, 13.40)
HUB_BER = ReturnSite("HUB-BER", "RETURN_HUB", 52.50, 13.45)
HUB_HAM = ReturnSite("HUB-HAM", "RETURN_HUB", 53.55, 9.99)
STORE_BER = ReturnSite("STORE-BER", "STORE", 52.51, 13.39)
DC_LIS = ReturnSite("DC-LIS", "DISTRIBUTION_CENTER", 38.72, -9.14)
DC_MUC = ReturnSite("DC-MUC", "DISTRIBUTION_CENTER", 48.14, 11.58)
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)

TEE = ShippedLine("TEE", 3, 2500, 200, serialized=False, shipped_at=NOW - timedelta(days=2))
PHONE = ShippedLine(
    "PHONE", 2, 60000, 400, serialized=True, serial_numbers=("SN-1", "SN-2"), shipped_at=NOW
)
SHIPPED = {"TEE": TEE, "PHONE": PHONE}
P = ParamSpec("P")


def refused(
    call: Callable[P, object], *args: P.args, **kwargs: P.kwargs
) -> tuple[ErrorCode, str | None]:
    with pytest.raises(DomainError) as raised:
        call(*args, **kwargs)
    return raised.value.code, raised.value.field


# Routing


def test_a_return_goes_to_the_nearest_hub_within_reach_at_a_fraction_of_the_central_cost() -> None:
    route = route_return([DC_LIS, HUB_HAM, STORE_BER, HUB_BER], BERLIN, 1, ReturnCostModel())
    assert route.destination == HUB_BER
    # About $5 at the hub against about $35 through the far DC (the product brief's figures).
    assert route.estimated_cost_cents == 500
    assert route.centralized_cost_cents == 3500


def test_without_a_hub_in_reach_the_return_goes_to_the_nearest_dc_not_a_store() -> None:
    route = route_return([DC_LIS, DC_MUC, STORE_BER, HUB_HAM], BERLIN, 2, ReturnCostModel())
    assert route.destination == DC_MUC
    assert route.estimated_cost_cents == route.centralized_cost_cents


def test_with_no_dc_the_nearest_site_takes_it_and_no_site_is_refused() -> None:
    assert route_return([STORE_BER], BERLIN, 1, ReturnCostModel()).destination == STORE_BER
    assert refused(route_return, [], BERLIN, 1, ReturnCostModel())[0] is ErrorCode.INVALID_STATE


sites = st.lists(
    st.builds(
        ReturnSite,
        code=st.text("ABCDEF", min_size=1, max_size=3),
        kind=st.sampled_from(
            ["RETURN_HUB", "DISTRIBUTION_CENTER", "STORE", "THIRD_PARTY_WAREHOUSE"]
        ),
        latitude=st.floats(-60, 70),
        longitude=st.floats(-170, 170),
    ),
    min_size=1,
    max_size=8,
)
points = st.tuples(st.floats(-60, 70), st.floats(-170, 170))


@given(sites, points, st.integers(1, 20))
def test_routing_picks_a_site_offered_and_a_hub_in_reach_whenever_there_is_one(
    offered: list[ReturnSite], customer: tuple[float, float], units: int
) -> None:
    model = ReturnCostModel()
    route = route_return(offered, customer, units, model)
    assert route.destination in offered
    hubs_in_reach = [
        s
        for s in offered
        if s.kind == "RETURN_HUB"
        and model.cost_cents(s, customer, 0) == 0  # within the drop-off zone
    ]
    if hubs_in_reach:
        assert route.destination.kind == "RETURN_HUB"
    elif any(s.kind == "DISTRIBUTION_CENTER" for s in offered):
        assert route.destination.kind == "DISTRIBUTION_CENTER"
    if route.destination.kind == "DISTRIBUTION_CENTER":
        assert route.estimated_cost_cents == route.centralized_cost_cents


# Requesting


def test_a_request_must_name_an_order_lines_of_positive_quantity_and_known_reasons() -> None:
    line = RequestedLine("TEE", 1, "SIZE_TOO_SMALL")
    validate_new_return(NewReturn("o-1", (line,)))
    cases = [
        (NewReturn(" ", (line,)), (ErrorCode.INVALID_INPUT, "order_id")),
        (NewReturn("o-1", ()), (ErrorCode.INVALID_QUANTITY, "lines")),
        (
            NewReturn("o-1", (line, RequestedLine("TEE", 0, "STYLE"))),
            (ErrorCode.INVALID_QUANTITY, "lines.1.quantity"),
        ),
        (
            NewReturn("o-1", (RequestedLine("TEE", 1, "BORED"),)),
            (ErrorCode.INVALID_INPUT, "lines.0.reason"),
        ),
        (NewReturn("o-1", (line,), (91.0, 0.0)), (ErrorCode.INVALID_INPUT, "customer.latitude")),
    ]
    for new, expected in cases:
        assert refused(validate_new_return, new) == expected


def test_what_shipped_sums_parcels_takes_the_lowest_price_and_the_last_departure() -> None:
    order = ShippedOrder(
        "o-1",
        "web",
        BERLIN,
        "shop-1",
        lines=(("TEE", 2, 2500), ("TEE", 1, 2000), ("PHONE", 1, 60000), ("CAP", 1, 900)),
        parcels=(
            ShippedParcel(NOW - timedelta(days=3), (("TEE", 2, ()),)),
            ShippedParcel(NOW, (("TEE", 1, ()), ("PHONE", 1, ("SN-1",)))),
        ),
    )
    catalogue = {
        "TEE": CatalogueSku("TEE", 200, False),
        "PHONE": CatalogueSku("PHONE", 400, True),
        "CAP": CatalogueSku("CAP", 100, False),
    }
    shipped = shipped_lines(order, catalogue)
    assert set(shipped) == {"TEE", "PHONE"}  # the cap never shipped
    assert shipped["TEE"] == ShippedLine("TEE", 3, 2000, 200, False, (), NOW)
    assert shipped["PHONE"].serial_numbers == ("SN-1",) and shipped["PHONE"].serialized


def test_no_more_than_shipped_less_what_other_returns_ask_for() -> None:
    require_returnable([RequestedLine("TEE", 3, "STYLE")], SHIPPED, {})
    cases = [
        ([RequestedLine("TEE", 4, "STYLE")], {}, "lines.0.quantity"),
        ([RequestedLine("TEE", 2, "STYLE")], {"TEE": 2}, "lines.0.quantity"),
        (
            [RequestedLine("TEE", 2, "STYLE"), RequestedLine("TEE", 2, "COLOR")],
            {},
            "lines.1.quantity",
        ),
        ([RequestedLine("CAP", 1, "STYLE")], {}, "lines.0.quantity"),
    ]
    for lines, elsewhere, field in cases:
        assert refused(require_returnable, lines, SHIPPED, elsewhere) == (
            ErrorCode.INVALID_QUANTITY,
            field,
        )


@given(st.integers(0, 10), st.integers(0, 10), st.lists(st.integers(1, 5), max_size=5))
def test_returnable_units_never_exceed_what_shipped(
    shipped_units: int, elsewhere: int, quantities: list[int]
) -> None:
    elsewhere = min(elsewhere, shipped_units)  # other returns were held to the same rule
    line = ShippedLine("TEE", shipped_units, 100, 100, False)
    lines = [RequestedLine("TEE", q, "STYLE") for q in quantities]
    try:
        require_returnable(lines, {"TEE": line}, {"TEE": elsewhere})
    except DomainError as error:
        assert error.code is ErrorCode.INVALID_QUANTITY
        assert sum(quantities) + elsewhere > shipped_units
    else:
        assert sum(quantities) + elsewhere <= shipped_units


def test_the_window_runs_from_the_last_parcel_that_carried_the_sku() -> None:
    lines = [RequestedLine("PHONE", 1, "STYLE"), RequestedLine("TEE", 1, "STYLE")]
    require_within_window(lines, SHIPPED, timedelta(days=30), NOW + timedelta(days=28))
    assert refused(
        require_within_window, lines, SHIPPED, timedelta(days=30), NOW + timedelta(days=29)
    ) == (
        ErrorCode.OUTSIDE_WINDOW,
        "lines.1.sku",
    )
    assert refused(require_within_window, lines, SHIPPED, timedelta(0), NOW + timedelta(seconds=1))[
        0
    ] is (ErrorCode.OUTSIDE_WINDOW)


# Inspecting


@pytest.mark.parametrize(
    ("grade", "serialized", "disposition"),
    [
        (Grade.NEW, False, Disposition.RESTOCK),
        (Grade.NEW, True, Disposition.RESTOCK),
        (Grade.LIKE_NEW, False, Disposition.RESTOCK),
        (Grade.LIKE_NEW, True, Disposition.REFURBISH),
        (Grade.GOOD, False, Disposition.REFURBISH),
        (Grade.GOOD, True, Disposition.REFURBISH),
        (Grade.DAMAGED, False, Disposition.LIQUIDATE),
        (Grade.UNSALEABLE, True, Disposition.RECYCLE),
    ],
)
def test_each_grade_has_its_disposition(
    grade: Grade, serialized: bool, disposition: Disposition
) -> None:
    assert disposition_for(grade, serialized) is disposition


@given(st.sampled_from(Grade), st.booleans())
def test_only_new_or_like_new_units_become_sellable_and_serialized_ones_only_when_new(
    grade: Grade, serialized: bool
) -> None:
    restocked = disposition_for(grade, serialized) is Disposition.RESTOCK
    assert restocked == (grade is Grade.NEW or (grade is Grade.LIKE_NEW and not serialized))


def test_a_serialized_unit_must_be_scanned_with_its_serial() -> None:
    units = [InspectedUnit("TEE", Grade.NEW), InspectedUnit("PHONE", Grade.NEW)]
    assert refused(validate_inspection, units, SHIPPED, None, "") == (
        ErrorCode.INVALID_INPUT,
        "lines.1.serial_number",
    )
    assert refused(validate_inspection, units[:1], SHIPPED, -1, "")[1] == "measured_weight_grams"


REQUESTED = {"TEE": 2, "PHONE": 1}
HONEST = [
    InspectedUnit("TEE", Grade.NEW),
    InspectedUnit("TEE", Grade.DAMAGED),
    InspectedUnit("PHONE", Grade.LIKE_NEW, "SN-2"),
]
EXPECTED_GRAMS = 2 * 200 + 400


def flags(inspected: list[InspectedUnit], grams: int | None = EXPECTED_GRAMS) -> list[FraudFlag]:
    return fraud_flags(REQUESTED, inspected, SHIPPED, grams, 0.3)


def test_the_parcel_that_was_sold_raises_no_flag() -> None:
    assert flags(HONEST) == []
    assert flags(HONEST, None) == []
    assert flags(HONEST, int(EXPECTED_GRAMS * 0.7)) == []


def test_each_fraud_check_flags_the_parcel_that_was_not_sold() -> None:
    assert flags(HONEST, int(EXPECTED_GRAMS * 0.7) - 1) == [FraudFlag.WEIGHT_MISMATCH]
    swapped = [*HONEST[:2], InspectedUnit("PHONE", Grade.LIKE_NEW, "SN-FAKE")]
    assert flags(swapped) == [FraudFlag.SERIAL_MISMATCH]
    extra = [*HONEST, InspectedUnit("TEE", Grade.NEW)]
    assert flags(extra) == [FraudFlag.QUANTITY_MISMATCH]
    never_asked = [*HONEST, InspectedUnit("CAP", Grade.NEW)]
    assert flags(never_asked) == [FraudFlag.QUANTITY_MISMATCH]
    empty_box = HONEST[:2]
    assert flags(empty_box) == [FraudFlag.QUANTITY_MISMATCH]


def test_one_serial_twice_is_a_mismatch_even_when_the_order_recorded_no_serials() -> None:
    unrecorded = {**SHIPPED, "PHONE": ShippedLine("PHONE", 2, 60000, 400, serialized=True)}
    twice = [InspectedUnit("PHONE", Grade.NEW, "SN-9"), InspectedUnit("PHONE", Grade.NEW, "SN-9")]
    assert fraud_flags({"PHONE": 2}, twice, unrecorded, None, 0.3) == [FraudFlag.SERIAL_MISMATCH]
    distinct = [
        InspectedUnit("PHONE", Grade.NEW, "SN-8"),
        InspectedUnit("PHONE", Grade.NEW, "SN-9"),
    ]
    assert fraud_flags({"PHONE": 2}, distinct, unrecorded, None, 0.3) == []


@given(st.floats(0, 0.9), st.integers(0, 5000))
def test_the_weight_check_refuses_exactly_below_the_tolerance(tolerance: float, grams: int) -> None:
    found = fraud_flags(REQUESTED, HONEST, SHIPPED, grams, tolerance)
    assert (FraudFlag.WEIGHT_MISMATCH in found) == (grams < EXPECTED_GRAMS * (1 - tolerance))


def test_units_fill_their_lines_and_only_refurbishment_waits() -> None:
    requested = [RequestedLine("TEE", 2, "SIZE_TOO_SMALL"), RequestedLine("PHONE", 1, "DEFECTIVE")]
    units = settle_units(requested, HONEST, {"TEE": False, "PHONE": True}, verified=True)
    assert [(u.line_number, u.disposition, u.settled) for u in units] == [
        (0, Disposition.RESTOCK, True),
        (0, Disposition.LIQUIDATE, True),
        (1, Disposition.REFURBISH, False),
    ]
    assert status_after_inspection(units, verified=True) is ReturnStatus.INSPECTED
    assert status_after_inspection(units[:2], verified=True) is ReturnStatus.CLOSED
    assert inspected_totals(units) == [
        ("TEE", Grade.NEW, Disposition.RESTOCK, 1),
        ("TEE", Grade.DAMAGED, Disposition.LIQUIDATE, 1),
        ("PHONE", Grade.LIKE_NEW, Disposition.REFURBISH, 1),
    ]
    views = present_lines(requested, units)
    assert [
        (v.sku, v.quantity, v.reason, v.grade, v.disposition, v.settled_quantity) for v in views
    ] == [
        ("TEE", 1, "SIZE_TOO_SMALL", "NEW", "RESTOCK", 1),
        ("TEE", 1, "SIZE_TOO_SMALL", "DAMAGED", "LIQUIDATE", 1),
        ("PHONE", 1, "DEFECTIVE", "LIKE_NEW", "REFURBISH", 0),
    ]


def test_a_rejected_return_disposes_of_nothing_and_shows_its_lines_as_requested() -> None:
    requested = [RequestedLine("TEE", 2, "STYLE")]
    inspected = [InspectedUnit("TEE", Grade.NEW)] * 3
    units = settle_units(requested, inspected, {"TEE": False}, verified=False)
    assert [u.line_number for u in units] == [0, 0, None]
    assert all(u.disposition is None and not u.settled for u in units)
    assert status_after_inspection(units, verified=False) is ReturnStatus.REJECTED
    assert inspected_totals(units) == []
    assert [(v.sku, v.quantity, v.grade) for v in present_lines(requested, units)] == [
        ("TEE", 2, "")
    ]


@given(st.lists(st.tuples(st.sampled_from(["TEE", "PHONE"]), st.sampled_from(Grade)), max_size=8))
def test_presented_lines_account_for_every_requested_unit(found: list[tuple[str, Grade]]) -> None:
    units_asked = {
        "TEE": sum(1 for s, _ in found if s == "TEE"),
        "PHONE": sum(1 for s, _ in found if s == "PHONE"),
    }
    requested = [RequestedLine(sku, n, "OTHER") for sku, n in units_asked.items() if n]
    inspected = [InspectedUnit(sku, grade, f"SN-{i}") for i, (sku, grade) in enumerate(found)]
    units = settle_units(requested, inspected, {"PHONE": True}, verified=True)
    views = present_lines(requested, units)
    for line in requested:
        assert sum(v.quantity for v in views if v.sku == line.sku) == line.quantity
    assert sum(v.settled_quantity for v in views) == sum(1 for u in units if u.settled)
    assert refund_cents(inspected, SHIPPED) == sum(SHIPPED[s].unit_price_cents for s, _ in found)


def test_the_refund_is_the_paid_price_of_the_verified_units() -> None:
    assert refund_cents(HONEST, SHIPPED) == 2 * 2500 + 60000


@given(st.integers(1, 40))
def test_retry_delays_grow_and_are_capped(attempts: int) -> None:
    delay = retry_delay_seconds(attempts, 2.0, 600.0)
    assert 2.0 <= delay <= 600.0
    assert retry_delay_seconds(attempts + 1, 2.0, 600.0) >= delay


# Report


@given(st.lists(st.floats(0, 1e4), min_size=1, max_size=30), st.floats(0, 100), st.floats(0, 100))
def test_percentiles_lie_within_the_values_and_grow_with_q(
    values: list[float], a: float, b: float
) -> None:
    low, high = sorted((a, b))
    assert min(values) <= percentile(values, low) <= percentile(values, high) <= max(values) + 1e-9


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([4.0], 90) == 4.0
    assert percentile([1.0, 3.0], 50) == 2.0
    assert percentile([float(h) for h in range(1, 11)], 90) == pytest.approx(9.1)


def test_the_report_counts_costs_speeds_and_backlog() -> None:
    hour = timedelta(hours=1)
    hub = ReportedReturn(
        "RETURN_HUB", 500, 3500, NOW, NOW + hour, NOW + 3 * hour, NOW + 4 * hour, 2
    )
    dc = ReportedReturn("DISTRIBUTION_CENTER", 3500, 3500, NOW, NOW + 48 * hour, None, None, 0)
    report = build_report([hub, dc], [("HUB-BER", 2, NOW - 90 * timedelta(minutes=1))], NOW)
    assert report.returns == 2
    assert [(k.kind, k.returns, k.handling_cost_cents) for k in report.by_destination_kind] == [
        ("DISTRIBUTION_CENTER", 1, 3500),
        ("RETURN_HUB", 1, 500),
    ]
    assert (report.handling_cost_cents, report.centralized_cost_cents, report.saving_cents) == (
        4000,
        7000,
        3000,
    )
    assert report.request_to_refund_hours == (4.0, 4.0)
    assert report.receipt_to_restock_hours == (2.0, 2.0)
    assert [(b.location_code, b.awaiting_inspection, b.oldest_minutes) for b in report.backlog] == [
        ("HUB-BER", 2, 90)
    ]
    assert report.awaiting_inspection == 2


def test_period_bounds_are_rfc3339_in_utc() -> None:
    assert parse_bound("", "from") is None
    assert parse_bound("2025-03-01T12:00:00Z", "from") == NOW
    assert parse_bound("2025-03-01T13:00:00+01:00", "to") == NOW
    assert parse_bound("2025-03-01T12:00:00", "to") == NOW
    assert refused(parse_bound, "yesterday", "to") == (ErrorCode.INVALID_INPUT, "to")
