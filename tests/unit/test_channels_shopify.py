"""Shopify's webhooks in our terms, over Shopify's own published example order and refund
(tests/fixtures/shopify/): the order we place from one, the refund we record, and the checks a
delivery must pass (signature, freshness)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.channels.domain import shopify
from services.channels.domain.model import Line, ShipTo
from services.kernel.errors import DomainError, ErrorCode

FIXTURES = Path(__file__).parents[1] / "fixtures" / "shopify"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def published(name: str) -> dict[str, Any]:
    """The resource inside Shopify's published example: what a webhook's body holds."""
    wrapped: dict[str, dict[str, Any]] = json.loads((FIXTURES / f"{name}.json").read_text())
    return copy.deepcopy(wrapped[name])


def refusal(payload: dict[str, Any]) -> tuple[ErrorCode, str | None]:
    with pytest.raises(DomainError) as raised:
        shopify.map_order(payload)
    return raised.value.code, raised.value.field


# The order


def test_the_published_order_maps_to_the_order_we_place() -> None:
    mapped = shopify.map_order(published("order"))

    assert mapped.external_id == "450789469"
    assert mapped.email == "bob.norman@hostmail.com"
    # "199.00" is 19,900 cents; each line item by its SKU.
    assert mapped.lines == (
        Line("IPOD2008GREEN", 1, 19900),
        Line("IPOD2008RED", 1, 19900),
        Line("IPOD2008BLACK", 1, 19900),
    )
    assert mapped.ship_to == ShipTo(
        name="Bob Norman",
        line1="Chestnut Street 92",
        city="Louisville",
        postal_code="40202",
        country="US",
        latitude=45.41634,
        longitude=-75.6868,
    )


@pytest.mark.parametrize(
    ("price", "cents"),
    [("199.00", 19900), ("0.5", 50), ("12.345", 1235), ("12.344", 1234), ("7", 700), (3, 300)],
)
def test_prices_are_decimal_strings_in_cents_rounded_half_up(price: object, cents: int) -> None:
    order = published("order")
    order["line_items"][0]["price"] = price
    assert shopify.map_order(order).lines[0].unit_price_cents == cents


@pytest.mark.parametrize("price", ["", "abc", "-1.00", "NaN", "Infinity", None, "99999999.00"])
def test_a_price_that_is_no_amount_we_take_is_refused_on_its_line(price: object) -> None:
    order = published("order")
    order["line_items"][1]["price"] = price
    assert refusal(order) == (ErrorCode.INVALID_INPUT, "body.line_items.1.price")


def test_the_same_sku_on_several_lines_is_one_line_at_the_first_price() -> None:
    order = published("order")
    second = dict(order["line_items"][0], quantity=2, price="150.00")
    order["line_items"] = [order["line_items"][0], order["line_items"][1], second]
    assert shopify.map_order(order).lines == (
        Line("IPOD2008GREEN", 3, 19900),
        Line("IPOD2008RED", 1, 19900),
    )


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"sku": None}, (ErrorCode.INVALID_INPUT, "body.line_items.2.sku")),
        ({"sku": "  "}, (ErrorCode.INVALID_INPUT, "body.line_items.2.sku")),
        ({"sku": "has space"}, (ErrorCode.INVALID_INPUT, "body.line_items.2.sku")),
        ({"quantity": 0}, (ErrorCode.INVALID_QUANTITY, "body.line_items.2.quantity")),
        ({"quantity": "1"}, (ErrorCode.INVALID_INPUT, "body.line_items.2.quantity")),
        ({"quantity": True}, (ErrorCode.INVALID_INPUT, "body.line_items.2.quantity")),
    ],
)
def test_a_line_item_we_cannot_fulfil_is_refused_not_dropped(
    change: dict[str, Any], refused: tuple[ErrorCode, str]
) -> None:
    order = published("order")
    order["line_items"][2].update(change)
    assert refusal(order) == refused


def test_an_order_without_line_items_or_with_too_many_is_refused() -> None:
    order = published("order")
    order["line_items"] = []
    assert refusal(order) == (ErrorCode.INVALID_INPUT, "body.line_items")
    order["line_items"] = [published("order")["line_items"][0]] * (shopify.MAX_LINES + 1)
    assert refusal(order) == (ErrorCode.INVALID_INPUT, "body.line_items")


def test_the_email_falls_back_to_the_customers_and_may_be_absent() -> None:
    order = published("order")
    order["email"] = None
    order["customer"]["email"] = "bob@example.com"
    assert shopify.map_order(order).email == "bob@example.com"
    del order["customer"]
    assert shopify.map_order(order).email == ""


def test_without_both_coordinates_the_address_is_left_for_the_orders_service_to_place() -> None:
    order = published("order")
    order["shipping_address"]["longitude"] = None
    ship_to = shopify.map_order(order).ship_to
    assert (ship_to.latitude, ship_to.longitude) == (None, None)
    assert (ship_to.postal_code, ship_to.country) == ("40202", "US")


def test_an_order_with_no_shipping_address_cannot_be_routed() -> None:
    order = published("order")
    order["shipping_address"] = None
    assert refusal(order) == (ErrorCode.INVALID_ADDRESS, "body.shipping_address")


def test_an_order_without_an_id_is_refused() -> None:
    order = published("order")
    del order["id"]
    assert refusal(order) == (ErrorCode.INVALID_INPUT, "body.id")


# The refund


def test_the_published_refund_sums_its_successful_refund_transactions() -> None:
    refund = published("refund")
    assert shopify.map_refund(refund).amount_cents == 20900
    failed = dict(refund["transactions"][0], status="failure", amount="5.00")
    refund["transactions"].append(failed)
    mapped = shopify.map_refund(refund)
    assert (mapped.refund_id, mapped.external_order_id, mapped.amount_cents) == (
        "509562969",
        "450789469",
        20900,
    )


# The delivery's checks


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_the_signature_is_the_hmac_of_the_raw_body_under_the_channels_secret() -> None:
    body = json.dumps(published("order")).encode()
    signature = sign(body, "secret")
    assert shopify.signature_verifies(body, "secret", signature)
    assert not shopify.signature_verifies(body + b" ", "secret", signature)
    assert not shopify.signature_verifies(body, "other", signature)
    assert not shopify.signature_verifies(body, "", sign(body, ""))
    assert not shopify.signature_verifies(body, "secret", "")
    assert not shopify.signature_verifies(body, "secret", "ünïcode")


@pytest.mark.parametrize(
    ("triggered_at", "fresh"),
    [
        ((NOW - timedelta(hours=4, minutes=59)).isoformat(), True),
        ("2025-06-01T11:00:00Z", True),
        ((NOW + timedelta(minutes=4)).isoformat(), True),
        ((NOW - timedelta(hours=5, minutes=1)).isoformat(), False),
        ((NOW + timedelta(minutes=6)).isoformat(), False),
        ("2025-06-01T11:00:00", False),
        ("yesterday", False),
        ("", False),
    ],
)
def test_a_delivery_is_fresh_within_the_window_shopify_retries_in(
    triggered_at: str, fresh: bool
) -> None:
    assert shopify.is_fresh(triggered_at, NOW) is fresh
