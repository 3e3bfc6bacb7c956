"""Amazon's Orders API (v0) in our terms: which polled orders to place, and an order with its
items as the order to place. Pure: no I/O, everything bounded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from services.channels.domain.model import Line, MappedOrder, Problem, ShipTo
from services.kernel import bounds
from services.kernel.errors import DomainError, ErrorCode

# Not shipped yet by anyone: the orders we fulfil. A Pending order is placed too, so its units
# are held as Amazon holds them; Amazon sends no prices for it until paid (its lines carry 0).
STATUSES_TO_PLACE = frozenset({"PendingAvailability", "Pending", "Unshipped", "PartiallyShipped"})
# Amazon ships its own (FBA) orders.
AMAZON_FULFILLED = "AFN"
MAX_ID_LENGTH = 64


@dataclass(frozen=True)
class PolledOrder:
    """One order of a getOrders page: its id, when it last changed and whether to place it."""

    amazon_order_id: str
    last_update: datetime
    to_place: bool
    order: dict[str, Any]


@dataclass(frozen=True)
class UnreadableOrder:
    """An order of a getOrders page that cannot be read: parked under its id, with the reason
    ("" when even the id cannot be read: there is nothing to park it under)."""

    amazon_order_id: str
    problem: Problem


def unreadable(amazon_order_id: str, error: DomainError) -> UnreadableOrder:
    return UnreadableOrder(
        amazon_order_id, Problem(error.code.value, error.field or "", error.message)
    )


def polled_orders(payload: object) -> tuple[list[PolledOrder | UnreadableOrder], str]:
    """A getOrders response's orders and its NextToken ("" on the last page). One order that
    cannot be read is returned as such, so that it holds up none of the others."""
    body = _object(payload, "payload")
    orders = body.get("Orders", [])
    if not isinstance(orders, list):
        raise DomainError(ErrorCode.INVALID_INPUT, "Orders is not a list", "payload.Orders")
    bounds.require_count(orders, "payload.Orders", 100, "orders")  # MaxResultsPerPage's bound
    next_token = body.get("NextToken") or ""
    if not isinstance(next_token, str) or len(next_token) > 4096:
        raise DomainError(ErrorCode.INVALID_INPUT, "a NextToken out of bounds", "NextToken")
    return [_polled(order, f"payload.Orders.{i}") for i, order in enumerate(orders)], next_token


def order_items(payload: object) -> tuple[list[dict[str, Any]], str]:
    """A getOrderItems response's items and its NextToken ("" on the last page)."""
    body = _object(payload, "payload")
    items = body.get("OrderItems", [])
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise DomainError(ErrorCode.INVALID_INPUT, "OrderItems is not a list", "OrderItems")
    bounds.require_count(items, "payload.OrderItems", bounds.MAX_LINES, "order items")
    next_token = body.get("NextToken") or ""
    return items, next_token if isinstance(next_token, str) else ""


def map_order(polled: PolledOrder, items: list[dict[str, Any]]) -> MappedOrder:
    """The order to place: Amazon's order id as external id, one line per item by SellerSKU,
    the unit price from ItemPrice (Amazon's price for all the item's units), and whatever part
    of the address Amazon shows this seller (without the PII role: city, postal code, country)."""
    order = polled.order
    buyer = order.get("BuyerInfo")
    email = buyer.get("BuyerEmail", "") if isinstance(buyer, dict) else ""
    if not isinstance(email, str) or len(email) > 320:
        email = ""
    if not items:
        raise DomainError(ErrorCode.INVALID_INPUT, "an order without items", "OrderItems")
    lines = tuple(_line(item, f"OrderItems.{i}") for i, item in enumerate(items))
    return MappedOrder(polled.amazon_order_id, email, _ship_to(order.get("ShippingAddress")), lines)


def _polled(order: object, field: str) -> PolledOrder | UnreadableOrder:
    order_id = order.get("AmazonOrderId") if isinstance(order, dict) else None
    if not isinstance(order_id, str) or not 0 < len(order_id) <= MAX_ID_LENGTH:
        error = DomainError(ErrorCode.INVALID_INPUT, "no AmazonOrderId", f"{field}.AmazonOrderId")
        return unreadable("", error)
    assert isinstance(order, dict)
    try:
        last_update = datetime.fromisoformat(str(order.get("LastUpdateDate")))
    except ValueError:
        error = DomainError(
            ErrorCode.INVALID_INPUT, "not an ISO 8601 time", f"{field}.LastUpdateDate"
        )
        return unreadable(order_id, error)
    if last_update.tzinfo is None:
        return unreadable(
            order_id,
            DomainError(
                ErrorCode.INVALID_INPUT, "a time without a zone", f"{field}.LastUpdateDate"
            ),
        )
    to_place = (
        order.get("OrderStatus") in STATUSES_TO_PLACE
        and order.get("FulfillmentChannel") != AMAZON_FULFILLED
    )
    return PolledOrder(order_id, last_update, to_place, order)


def _line(item: dict[str, Any], field: str) -> Line:
    sku = item.get("SellerSKU")
    if not isinstance(sku, str) or not 0 < len(sku.strip()) <= MAX_ID_LENGTH:
        raise DomainError(ErrorCode.INVALID_INPUT, "an item without a SKU", f"{field}.SellerSKU")
    quantity = item.get("QuantityOrdered")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise DomainError(ErrorCode.INVALID_INPUT, "not a quantity", f"{field}.QuantityOrdered")
    bounds.require_range(quantity, f"{field}.QuantityOrdered", "a quantity", 1, bounds.MAX_UNITS)
    price = item.get("ItemPrice")
    amount = price.get("Amount", "0") if isinstance(price, dict) else "0"
    return Line(sku.strip(), quantity, _unit_cents(amount, quantity, f"{field}.ItemPrice"))


def _unit_cents(amount: object, quantity: int, field: str) -> int:
    try:
        total = Decimal(str(amount))
    except InvalidOperation:
        raise DomainError(ErrorCode.INVALID_INPUT, "not a decimal amount", field) from None
    if not total.is_finite() or not 0 <= total <= Decimal(bounds.MAX_CENTS) / 100:
        raise DomainError(ErrorCode.INVALID_INPUT, "an amount out of range", field)
    return int((total * 100 / quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _ship_to(address: object) -> ShipTo:
    if not isinstance(address, dict):
        return ShipTo()

    def part(name: str, longest: int) -> str:
        value = address.get(name)
        return value.strip()[:longest] if isinstance(value, str) else ""

    return ShipTo(
        name=part("Name", 200),
        line1=part("AddressLine1", 200),
        city=part("City", 100),
        postal_code=part("PostalCode", 20),
        country=part("CountryCode", 2).upper(),
    )


def _object(payload: object, field: str) -> dict[str, Any]:
    body = payload.get("payload") if isinstance(payload, dict) else None
    if not isinstance(body, dict):
        raise DomainError(ErrorCode.INVALID_INPUT, "not an SP-API payload", field)
    return body
