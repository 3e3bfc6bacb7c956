"""The orders' rules as pure functions: what a valid order is, what shipments an allocation
opens, how shipping moves an order on, which orders are shown and waiting, and cursors."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, TypedDict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.kernel.errors import DomainError, ErrorCode
from services.orders.domain import rules
from services.orders.domain.model import (
    Address,
    NewOrder,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentStatus,
)
from services.orders.domain.routing import Parcel, RoutingPlan, SplitPolicy

ORDER = NewOrder(
    channel="web",
    external_id="w-1",
    email="ada@example.com",
    ship_to=Address(latitude=52.52, longitude=13.40),
    lines=(OrderLine("TEE", 2, 2500), OrderLine("CAP", 1, 900), OrderLine("TEE", 1, 2500)),
    split_policy=SplitPolicy.ALLOW_SPLIT,
)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
P = ParamSpec("P")


class OrderChange(TypedDict, total=False):
    """The fields of a new order a case changes."""

    channel: str
    external_id: str
    email: str
    ship_to: Address
    lines: tuple[OrderLine, ...]
    split_policy: SplitPolicy


def refusal(error: DomainError) -> tuple[ErrorCode, str | None]:
    return error.code, error.field


def refused(
    call: Callable[P, object], *args: P.args, **kwargs: P.kwargs
) -> tuple[ErrorCode, str | None]:
    with pytest.raises(DomainError) as raised:
        call(*args, **kwargs)
    return refusal(raised.value)


def parcel(location_code: str, *lines: tuple[str, int]) -> Parcel:
    return Parcel(location_code, "STORE", 1.0, lines, 450, 350, 0)


def plan(*parcels: Parcel) -> RoutingPlan:
    return RoutingPlan(parcels, "exact", len(parcels), "")


def shipment(shipment_id: str, status: ShipmentStatus) -> Shipment:
    return Shipment(shipment_id, "DC", status, (("TEE", 1),))


# What a valid order is


def test_a_valid_order_passes() -> None:
    rules.validate_new_order(ORDER)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"channel": " "}, (ErrorCode.INVALID_INPUT, "channel")),
        ({"external_id": ""}, (ErrorCode.INVALID_INPUT, "external_id")),
        ({"email": "ada"}, (ErrorCode.INVALID_INPUT, "email")),
        (
            {"ship_to": Address(latitude=90.5, longitude=0)},
            (ErrorCode.INVALID_INPUT, "ship_to.latitude"),
        ),
        (
            {"ship_to": Address(latitude=0, longitude=-180.5)},
            (ErrorCode.INVALID_INPUT, "ship_to.longitude"),
        ),
        ({"lines": ()}, (ErrorCode.INVALID_QUANTITY, "lines")),
        ({"lines": (OrderLine("TEE", 1, 1),) * 201}, (ErrorCode.INVALID_INPUT, "lines")),
        (
            {"lines": (OrderLine("TEE", 1, 1), OrderLine("CAP", 0, 1))},
            (ErrorCode.INVALID_QUANTITY, "lines.1.quantity"),
        ),
        (
            {"lines": (OrderLine("TEE", 1, -1),)},
            (ErrorCode.INVALID_INPUT, "lines.0.unit_price_cents"),
        ),
        # Bounds: every text, every number (services/kernel/bounds.py).
        ({"channel": "w" * 1_100_000}, (ErrorCode.INVALID_INPUT, "channel")),
        ({"channel": "web eu"}, (ErrorCode.INVALID_INPUT, "channel")),
        ({"external_id": "x" * 129}, (ErrorCode.INVALID_INPUT, "external_id")),
        ({"external_id": "w-1\x00"}, (ErrorCode.INVALID_INPUT, "external_id")),
        ({"email": "a@" + "b" * 320}, (ErrorCode.INVALID_INPUT, "email")),
        (
            {"ship_to": Address(latitude=0, longitude=0, line1="x" * 4_500_000)},
            (ErrorCode.INVALID_INPUT, "ship_to.line1"),
        ),
        (
            {"ship_to": Address(latitude=0, longitude=0, city="Berlin\ud800")},
            (ErrorCode.INVALID_INPUT, "ship_to.city"),
        ),
        (
            {"ship_to": Address(latitude=0, longitude=0, postal_code="1" * 33)},
            (ErrorCode.INVALID_INPUT, "ship_to.postal_code"),
        ),
        ({"lines": (OrderLine("T" * 65, 1, 1),)}, (ErrorCode.INVALID_INPUT, "lines.0.sku")),
        (
            {"lines": (OrderLine("TEE", 100_001, 1),)},
            (ErrorCode.INVALID_QUANTITY, "lines.0.quantity"),
        ),
        (
            {"lines": (OrderLine("TEE", 1, 2**31),)},
            (ErrorCode.INVALID_INPUT, "lines.0.unit_price_cents"),
        ),
    ],
)
def test_an_invalid_order_is_refused_on_the_field_at_fault(
    change: OrderChange, expected: tuple[ErrorCode, str]
) -> None:
    assert refused(rules.validate_new_order, replace(ORDER, **change)) == expected


def test_the_bounds_themselves_are_valid() -> None:
    edge = replace(
        ORDER,
        channel="c" * 64,
        external_id="x" * 128,
        ship_to=Address(latitude=-90, longitude=180, line1="x" * 200, postal_code="1" * 32),
        lines=(OrderLine("TEE", 1, 0),) * (rules.MAX_LINES - 1)
        + (OrderLine("T", 100_000, 2**31 - 1),),
    )
    rules.validate_new_order(edge)


def test_units_add_up_per_sku() -> None:
    assert rules.units_by_sku(ORDER) == {"TEE": 3, "CAP": 1}


def test_an_unknown_sku_is_refused_on_the_first_line_naming_it() -> None:
    assert refused(rules.require_known_skus, ORDER.lines, {"CAP", "TEE"}) == (
        ErrorCode.NOT_FOUND,
        "lines.0.sku",
    )
    assert refused(rules.require_known_skus, ORDER.lines, ["CAP"]) == (
        ErrorCode.NOT_FOUND,
        "lines.1.sku",
    )
    rules.require_known_skus(ORDER.lines, [])


def test_short_stock_says_whether_one_location_was_required() -> None:
    split = rules.short_of_stock(SplitPolicy.ALLOW_SPLIT)
    whole = rules.short_of_stock(SplitPolicy.SHIP_COMPLETE)
    assert refusal(split) == refusal(whole) == (ErrorCode.INSUFFICIENT_STOCK, "lines")
    assert split.message == "not enough stock to fill the order"
    assert whole.message == "not enough stock to fill the order from one location"


# What an allocation holds and opens


def test_a_plan_is_held_line_by_line_at_its_locations() -> None:
    routed = plan(parcel("HUB", ("TEE", 1)), parcel("DC", ("CAP", 2), ("TEE", 3)))
    assert rules.lines_to_hold(routed) == [("TEE", "HUB", 1), ("CAP", "DC", 2), ("TEE", "DC", 3)]
    assert rules.lines_to_hold(plan()) == []


def test_a_plan_opens_one_shipment_per_parcel_by_location() -> None:
    routed = plan(parcel("STORE", ("CAP", 1)), parcel("HUB", ("TEE", 1), ("ZIP", 2)))
    assert rules.parcels_by_location(routed) == [
        ("HUB", (("TEE", 1), ("ZIP", 2))),
        ("STORE", (("CAP", 1),)),
    ]


def test_held_stock_without_a_plan_opens_one_shipment_per_location() -> None:
    held = [("CAP", "DC", 1), ("TEE", "HUB", 2), ("TEE", "DC", 3)]
    assert rules.parcels_by_location(None, held) == [
        ("DC", (("CAP", 1), ("TEE", 3))),
        ("HUB", (("TEE", 2),)),
    ]
    assert rules.parcels_by_location(None) == []


@given(
    st.lists(
        st.tuples(
            st.sampled_from("ABC"), st.sampled_from(["DC", "HUB", "STORE"]), st.integers(1, 9)
        ),
        unique_by=lambda line: (line[0], line[1]),
    )
)
def test_every_held_unit_ships_exactly_once(held: list[tuple[str, str, int]]) -> None:
    shipments = rules.parcels_by_location(None, held)
    shipped = sorted((sku, code, units) for code, lines in shipments for sku, units in lines)
    assert shipped == sorted(held)
    assert [code for code, _ in shipments] == sorted({code for _, code, _ in held})


# Shipping


def test_a_tracking_number_is_bounded() -> None:
    rules.require_tracking_number("")
    rules.require_tracking_number("1" * rules.MAX_TRACKING_NUMBER)
    assert refused(rules.require_tracking_number, "1" * 129) == (
        ErrorCode.INVALID_INPUT,
        "tracking_number",
    )


def test_only_a_cancelled_shipment_is_not_shippable() -> None:
    for status in (ShipmentStatus.ALLOCATED, ShipmentStatus.SHIPPING, ShipmentStatus.SHIPPED):
        rules.require_shippable(shipment("S", status))
    assert refused(rules.require_shippable, shipment("S", ShipmentStatus.CANCELLED)) == (
        ErrorCode.INVALID_STATE,
        "shipment_id",
    )


def test_serial_numbers_are_collected_per_sku() -> None:
    entries = [("PHONE", [" A1 ", "A2"]), ("TEE", []), ("PHONE", ["A3"])]
    assert rules.shipped_serials(entries, {"PHONE": 3, "TEE": 1}) == {"PHONE": ("A1", "A2", "A3")}
    assert rules.shipped_serials([], {"PHONE": 3}) == {}


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([("CAP", ["A"])], (ErrorCode.INVALID_INPUT, "serials.0.sku")),
        ([("PHONE", ["A", " "])], (ErrorCode.INVALID_INPUT, "serials.0.serial_numbers.1")),
        ([("PHONE", ["A" * 129])], (ErrorCode.INVALID_INPUT, "serials.0.serial_numbers.0")),
        (
            [("PHONE", ["A"]), ("PHONE", ["B", " A"])],
            (ErrorCode.INVALID_INPUT, "serials.1.serial_numbers.1"),
        ),
        (
            [("PHONE", ["A", "B"]), ("PHONE", ["C"])],
            (ErrorCode.INVALID_QUANTITY, "serials.1.serial_numbers"),
        ),
    ],
)
def test_serial_numbers_are_refused_beyond_their_units_or_when_malformed(
    entries: list[tuple[str, list[str]]], expected: tuple[ErrorCode, str]
) -> None:
    assert refused(rules.shipped_serials, entries, {"PHONE": 2}) == expected


def test_an_order_is_shipped_when_all_its_shipments_are() -> None:
    shipped, allocated = ShipmentStatus.SHIPPED, ShipmentStatus.ALLOCATED
    assert rules.status_after_shipping([shipped, shipped]) is OrderStatus.SHIPPED
    assert rules.status_after_shipping([shipped, allocated]) is OrderStatus.PARTIALLY_SHIPPED
    assert rules.status_after_shipping([allocated, allocated]) is OrderStatus.ALLOCATED


def test_the_status_once_one_shipment_ships() -> None:
    both = [shipment("A", ShipmentStatus.ALLOCATED), shipment("B", ShipmentStatus.SHIPPING)]
    assert rules.status_once_shipped(both, "A") is OrderStatus.PARTIALLY_SHIPPED
    done = [shipment("A", ShipmentStatus.SHIPPED), shipment("B", ShipmentStatus.SHIPPING)]
    assert rules.status_once_shipped(done, "B") is OrderStatus.SHIPPED
    assert rules.status_once_shipped([shipment("A", ShipmentStatus.ALLOCATED)], "A") is (
        OrderStatus.SHIPPED
    )


def test_an_order_is_cancellable_until_a_shipment_starts_to_ship() -> None:
    rules.require_cancellable(OrderStatus.ALLOCATED, [ShipmentStatus.ALLOCATED])
    rules.require_cancellable(OrderStatus.CANCELLED, [ShipmentStatus.CANCELLED])
    rules.require_cancellable(OrderStatus.CANCELLED, [ShipmentStatus.SHIPPED])
    for started in (ShipmentStatus.SHIPPING, ShipmentStatus.SHIPPED):
        assert refused(
            rules.require_cancellable,
            OrderStatus.PARTIALLY_SHIPPED,
            [ShipmentStatus.ALLOCATED, started],
        ) == (ErrorCode.INVALID_STATE, "id")


# Placing one external id again


def placed(new: NewOrder) -> Order:
    """`new` as the order placed under its external id."""
    return Order(
        "o-1", "1", OrderStatus.ALLOCATED, new.channel, new.external_id, new.email, new.ship_to,
        new.lines, (), None, new.split_policy, new.placed_by, NOW,
    )  # fmt: skip


def test_the_same_request_again_is_a_retry_whatever_the_order_of_its_lines() -> None:
    rules.require_same_order(placed(ORDER), ORDER)
    rules.require_same_order(placed(ORDER), replace(ORDER, lines=ORDER.lines[::-1]))


@pytest.mark.parametrize(
    "change",
    [
        OrderChange(lines=ORDER.lines[:2]),
        OrderChange(lines=(OrderLine("TEE", 3, 2500), OrderLine("CAP", 1, 900))),
        OrderChange(lines=(*ORDER.lines[:2], OrderLine("TEE", 1, 2499))),
        OrderChange(email="bob@example.com"),
        OrderChange(ship_to=Address(latitude=52.52, longitude=13.41)),
        OrderChange(split_policy=SplitPolicy.SHIP_COMPLETE),
    ],
)
def test_another_request_under_a_used_external_id_is_refused(change: OrderChange) -> None:
    with pytest.raises(DomainError) as raised:
        rules.require_same_order(placed(ORDER), replace(ORDER, **change))
    assert refusal(raised.value) == (ErrorCode.INVALID_INPUT, "external_id")
    assert raised.value.message == "externalId 'w-1' was already used for a different order"


# Reading


def test_clients_never_see_a_claim() -> None:
    assert [s for s in OrderStatus if not rules.is_visible(s)] == [OrderStatus.PLACING]


def test_a_page_holds_one_to_a_hundred_orders() -> None:
    rules.require_page_size(1)
    rules.require_page_size(rules.MAX_PAGE)
    for size in (0, -1, rules.MAX_PAGE + 1):
        assert refused(rules.require_page_size, size) == (ErrorCode.INVALID_INPUT, "first")


def test_a_cursor_names_an_order_number() -> None:
    assert rules.encode_cursor(42) == base64.urlsafe_b64encode(b"order:42").decode()
    assert rules.decode_cursor(rules.encode_cursor(42)) == 42


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_every_cursor_decodes_to_its_number(number: int) -> None:
    assert rules.decode_cursor(rules.encode_cursor(number)) == number


@pytest.mark.parametrize("number", [0, 2**63, 10**40])
def test_a_cursor_past_any_order_number_is_refused(number: int) -> None:
    # A database cannot compare with a number past 64 bits: it would be a fault, not a page.
    with pytest.raises(DomainError) as refused:
        rules.decode_cursor(rules.encode_cursor(number))
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, "after")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        base64.urlsafe_b64encode(b"return:42").decode(),
        base64.urlsafe_b64encode(b"order:x").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "",
    ],
)
def test_a_foreign_cursor_is_refused(cursor: str) -> None:
    assert refused(rules.decode_cursor, cursor) == (ErrorCode.INVALID_INPUT, "after")


def test_the_pending_summary_counts_whole_minutes_of_the_oldest() -> None:
    assert rules.PENDING == (
        OrderStatus.ALLOCATED,
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.BACKORDERED,
    )
    assert rules.pending_summary(0, None, NOW) == (0, 0)
    assert rules.pending_summary(0, NOW - timedelta(hours=1), NOW) == (0, 0)
    assert rules.pending_summary(3, NOW - timedelta(minutes=90, seconds=59), NOW) == (3, 90)
    assert rules.pending_summary(1, NOW - timedelta(seconds=59), NOW) == (1, 0)
