"""Amazon's Orders API in our terms, over Amazon's published examples (tests/fixtures/amazon/):
which polled orders we place, the order we place from one, what cannot be read, the bounds on
every page; and the token bucket that keeps us inside Amazon's usage plans."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.channels.amazon_api import LWA_TOKEN_URL, TokenBucket, token_url
from services.channels.domain import amazon
from services.channels.domain.model import Line, ShipTo
from services.kernel.bounds import MAX_LINES
from services.kernel.errors import DomainError, ErrorCode

FIXTURES = Path(__file__).parents[1] / "fixtures" / "amazon"


def published(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return loaded


def page(*orders: object, next_token: str = "") -> dict[str, Any]:
    return {"payload": {"Orders": list(orders), "NextToken": next_token}}


def an_order(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = published("get_orders.json")["payload"]["Orders"][0]
    return {**order, **changes}


def an_item(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = published("get_order_items.json")["payload"]["OrderItems"][0]
    return {**item, **changes}


def polled(order: dict[str, Any]) -> amazon.PolledOrder:
    (found,), _ = amazon.polled_orders(page(order))
    assert isinstance(found, amazon.PolledOrder)
    return found


def test_the_published_page_reads_with_its_next_token() -> None:
    orders, next_token = amazon.polled_orders(published("get_orders.json"))
    assert next_token == "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"
    (order,) = orders
    assert isinstance(order, amazon.PolledOrder)
    assert order.amazon_order_id == "902-3159896-1390916"
    assert order.last_update == datetime(2017, 1, 20, 19, 49, 35, tzinfo=UTC)
    assert order.to_place


@pytest.mark.parametrize(
    ("status", "to_place"),
    [
        ("PendingAvailability", True),
        ("Pending", True),
        ("Unshipped", True),
        ("PartiallyShipped", True),
        ("Shipped", False),
        ("Canceled", False),
        ("Unfulfillable", False),
        ("InvoiceUnconfirmed", False),
    ],
)
def test_only_orders_not_shipped_yet_are_placed(status: str, to_place: bool) -> None:
    assert polled(an_order(OrderStatus=status)).to_place is to_place


def test_an_order_amazon_fulfils_itself_is_not_placed() -> None:
    assert not polled(an_order(FulfillmentChannel="AFN")).to_place
    assert polled(an_order(FulfillmentChannel="MFN")).to_place


@pytest.mark.parametrize(
    ("amount", "quantity", "cents"),
    [("25.99", 1, 2599), ("10.00", 3, 333), ("0.05", 2, 3), ("0", 1, 0), (None, 1, 0)],
)
def test_item_price_is_the_items_total_so_the_unit_price_is_its_share_in_cents(
    amount: str | None, quantity: int, cents: int
) -> None:
    price = {"CurrencyCode": "USD", "Amount": amount} if amount is not None else None
    mapped = amazon.map_order(
        polled(an_order()), [an_item(ItemPrice=price, QuantityOrdered=quantity)]
    )
    assert mapped.lines == (Line("CBA_OTF_1", quantity, cents),)


def test_the_address_amazon_shows_is_mapped_and_a_missing_one_left_empty() -> None:
    mapped = amazon.map_order(polled(an_order()), [an_item()])
    assert mapped.external_id == "902-3159896-1390916"
    assert mapped.email == "user@example.com"
    assert mapped.ship_to == ShipTo(
        name="Michigan address", line1="1 Cross St.", city="Canton", postal_code="48817",
        country="US",
    )  # fmt: skip
    without = {k: v for k, v in an_order().items() if k not in ("ShippingAddress", "BuyerInfo")}
    bare = amazon.map_order(polled(without), [an_item()])
    assert (bare.ship_to, bare.email) == (ShipTo(), "")


def test_address_parts_are_cut_to_their_bounds() -> None:
    address = {"City": "x" * 500, "CountryCode": "usa", "PostalCode": 48817}
    mapped = amazon.map_order(polled(an_order(ShippingAddress=address)), [an_item()])
    assert (len(mapped.ship_to.city), mapped.ship_to.country) == (100, "US")
    assert mapped.ship_to.postal_code == ""


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"SellerSKU": None}, "OrderItems.0.SellerSKU"),
        ({"SellerSKU": "   "}, "OrderItems.0.SellerSKU"),
        ({"SellerSKU": "S" * 65}, "OrderItems.0.SellerSKU"),
        ({"QuantityOrdered": 0}, "OrderItems.0.QuantityOrdered"),
        ({"QuantityOrdered": True}, "OrderItems.0.QuantityOrdered"),
        ({"QuantityOrdered": 100_001}, "OrderItems.0.QuantityOrdered"),
        ({"ItemPrice": {"Amount": "12,99"}}, "OrderItems.0.ItemPrice"),
        ({"ItemPrice": {"Amount": "-1.00"}}, "OrderItems.0.ItemPrice"),
        ({"ItemPrice": {"Amount": "NaN"}}, "OrderItems.0.ItemPrice"),
        ({"ItemPrice": {"Amount": "1e30"}}, "OrderItems.0.ItemPrice"),
    ],
)
def test_an_item_that_cannot_be_read_names_its_field(item: dict[str, Any], field: str) -> None:
    with pytest.raises(DomainError) as refused:
        amazon.map_order(polled(an_order()), [an_item(**item)])
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, field)


def test_an_order_without_items_cannot_be_placed() -> None:
    with pytest.raises(DomainError, match="without items"):
        amazon.map_order(polled(an_order()), [])


def test_an_unreadable_order_is_returned_as_such_and_the_others_still_read() -> None:
    orders, _ = amazon.polled_orders(
        page(
            an_order(AmazonOrderId="A-1"),
            an_order(AmazonOrderId="A-2", LastUpdateDate="yesterday"),
            an_order(AmazonOrderId="A-3", LastUpdateDate="2017-01-20T19:49:35"),
            an_order(AmazonOrderId="A" * 65),
            "not an order",
        )
    )
    assert [type(x).__name__ for x in orders] == [
        "PolledOrder", "UnreadableOrder", "UnreadableOrder", "UnreadableOrder", "UnreadableOrder",
    ]  # fmt: skip
    bad = [x for x in orders if isinstance(x, amazon.UnreadableOrder)]
    assert [x.amazon_order_id for x in bad] == ["A-2", "A-3", "", ""]
    assert bad[0].problem.field == "payload.Orders.1.LastUpdateDate"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {"payload": []},
        {"payload": {"Orders": {}}},
        page(*[an_order(AmazonOrderId=f"A-{i}") for i in range(101)]),
        page(an_order(), next_token="t" * 4097),
    ],
)
def test_a_page_out_of_bounds_is_refused_whole(payload: object) -> None:
    with pytest.raises(DomainError):
        amazon.polled_orders(payload)


def test_an_items_page_is_bounded() -> None:
    items, next_token = amazon.order_items(published("get_order_items.json"))
    assert (len(items), next_token) == (1, "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4")
    with pytest.raises(DomainError):
        amazon.order_items({"payload": {"OrderItems": [an_item()] * (MAX_LINES + 1)}})
    with pytest.raises(DomainError):
        amazon.order_items({"payload": {"OrderItems": ["an item"]}})


class Clock:
    """Time that passes only when the bucket sleeps: what it waited is recorded, not spent."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_the_bucket_allows_its_burst_then_waits_for_each_refill() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=0.5, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await bucket.take()
    assert clock.slept == []
    await bucket.take()
    await bucket.take()
    assert clock.slept == [pytest.approx(2.0), pytest.approx(2.0)]


async def test_the_bucket_refills_while_idle_but_never_past_its_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=2, clock=clock, sleep=clock.sleep)
    await bucket.take()
    await bucket.take()
    clock.now += 1.0
    await bucket.take()
    assert clock.slept == []
    clock.now += 1000.0
    for _ in range(3):
        await bucket.take()
    assert clock.slept == [pytest.approx(1.0)]


@pytest.mark.parametrize(
    "base",
    [
        "https://sellingpartnerapi-na.amazon.com",
        "https://sellingpartnerapi-eu.amazon.com",
        "https://sandbox.sellingpartnerapi-fe.amazon.com",
    ],
)
def test_every_amazon_endpoint_takes_its_tokens_from_login_with_amazon(base: str) -> None:
    assert token_url(base) == LWA_TOKEN_URL


def test_a_stand_in_for_amazon_serves_its_own_tokens() -> None:
    assert token_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080/auth/o2/token"
    assert (
        token_url("https://amazon.com.example.net")
        == "https://amazon.com.example.net/auth/o2/token"
    )
