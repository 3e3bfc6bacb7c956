"""Shopify's webhooks in our terms: the signature check, the freshness check, and the mapping of
its order and refund JSON (https://shopify.dev/docs/api/webhooks, topics orders/create,
orders/cancelled, refunds/create). Pure functions: no I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from services.channels.domain.model import Line, MappedOrder, Refund, ShipTo
from services.kernel import bounds
from services.kernel.errors import DomainError, ErrorCode

TOPICS = ("orders/create", "orders/cancelled", "refunds/create")
# Shopify retries a failed delivery for up to 4 hours (8 tries), and X-Shopify-Triggered-At
# keeps the first try's time: a window past that only lets replays of captured deliveries in.
FRESHNESS_WINDOW = timedelta(hours=5)
MAX_LINES = bounds.MAX_LINES
MAX_QUANTITY = bounds.MAX_UNITS


def signature_verifies(body: bytes, secret: str, header: str) -> bool:
    """Whether `header` (X-Shopify-Hmac-Sha256) is the base64 HMAC-SHA256 of the raw body under
    the channel's secret; compared in constant time, so timing tells nothing of the right one."""
    if not secret or not header:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, header.strip().encode("ascii", "replace"))


def is_fresh(triggered_at: str, now: datetime, window: timedelta = FRESHNESS_WINDOW) -> bool:
    """Whether X-Shopify-Triggered-At (ISO 8601) lies within `window` of now (a little clock skew
    into the future is allowed); a missing or unreadable one is not fresh."""
    try:
        when = datetime.fromisoformat(triggered_at.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        return False
    return now - window <= when <= now + timedelta(minutes=5)


def parse_body(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise DomainError(ErrorCode.INVALID_INPUT, "the body is not JSON", "body") from None
    if not isinstance(payload, dict):
        raise DomainError(ErrorCode.INVALID_INPUT, "the body is not a JSON object", "body")
    return payload


def order_id_of(payload: dict[str, Any]) -> str:
    """The Shopify order id an orders/* or refunds/create payload is about."""
    found = payload.get("id") if "line_items" in payload else payload.get("order_id")
    if isinstance(found, bool) or not isinstance(found, int | str) or not str(found).strip():
        raise DomainError(ErrorCode.INVALID_INPUT, "the payload names no order id", "body.id")
    return bounds.require_code(str(found), "body.id", "the order id")


def map_order(payload: dict[str, Any]) -> MappedOrder:
    """An orders/create payload as the order we place: line items by SKU (the same SKU on
    several lines is summed, at the first line's price), prices from decimal strings into cents,
    the shipping address, the email."""
    items = payload.get("line_items")
    if not isinstance(items, list) or not items or len(items) > MAX_LINES:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"an order has 1..{MAX_LINES} line items", "body.line_items"
        )
    lines: dict[str, Line] = {}
    for index, item in enumerate(items):
        line = _line(item, f"body.line_items.{index}")
        known = lines.get(line.sku)
        lines[line.sku] = (
            Line(line.sku, known.quantity + line.quantity, known.unit_price_cents)
            if known
            else line
        )
    email = payload.get("email") or (payload.get("customer") or {}).get("email") or ""
    return MappedOrder(
        external_id=order_id_of(payload),
        email=bounds.require_text(str(email), "body.email", "the email", 320, required=False),
        ship_to=_ship_to(payload.get("shipping_address")),
        lines=tuple(lines.values()),
    )


def map_refund(payload: dict[str, Any]) -> Refund:
    """A refunds/create payload: the refund's id, its order's, and the sum of its refund
    transactions in cents."""
    refund_id = payload.get("id")
    if isinstance(refund_id, bool) or not isinstance(refund_id, int | str):
        raise DomainError(ErrorCode.INVALID_INPUT, "the refund has no id", "body.id")
    transactions = payload.get("transactions") or []
    if not isinstance(transactions, list) or len(transactions) > MAX_LINES:
        raise DomainError(ErrorCode.INVALID_INPUT, "too many transactions", "body.transactions")
    amount = sum(
        cents(t.get("amount"), f"body.transactions.{i}.amount")
        for i, t in enumerate(transactions)
        if isinstance(t, dict) and t.get("kind") == "refund" and t.get("status") == "success"
    )
    return Refund(
        bounds.require_code(str(refund_id), "body.id", "the refund id"),
        order_id_of(payload),
        amount,
    )


def cents(amount: object, field: str) -> int:
    """A decimal string of a currency amount ("199.00") in cents, rounded half up."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise DomainError(ErrorCode.INVALID_INPUT, "not a decimal amount", field) from None
    if not value.is_finite() or not 0 <= value <= Decimal(bounds.MAX_CENTS) / 100:
        raise DomainError(ErrorCode.INVALID_INPUT, "an amount out of range", field)
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _line(item: object, field: str) -> Line:
    if not isinstance(item, dict):
        raise DomainError(ErrorCode.INVALID_INPUT, "a line item is not an object", field)
    sku = item.get("sku")
    if not isinstance(sku, str) or not sku.strip():
        # A line without a SKU cannot be fulfilled by anyone: say so, don't drop it.
        raise DomainError(ErrorCode.INVALID_INPUT, "a line item has no SKU", f"{field}.sku")
    quantity = item.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise DomainError(ErrorCode.INVALID_INPUT, "not a whole quantity", f"{field}.quantity")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError(
            ErrorCode.INVALID_QUANTITY, f"a quantity is 1..{MAX_QUANTITY}", f"{field}.quantity"
        )
    return Line(
        bounds.require_code(sku, f"{field}.sku", "a SKU"),
        quantity,
        cents(item.get("price"), f"{field}.price"),
    )


def _ship_to(address: object) -> ShipTo:
    if not isinstance(address, dict):
        # No shipping address (a digital order, a pickup): nothing the OMS can route.
        raise DomainError(
            ErrorCode.INVALID_ADDRESS, "the order has no shipping address", "body.shipping_address"
        )

    def text(key: str, limit: int = 200) -> str:
        value = address.get(key)
        field = f"body.shipping_address.{key}"
        return bounds.require_text(str(value), field, key, limit) if value else ""

    latitude, longitude = (
        _coordinate(address.get("latitude")),
        _coordinate(address.get("longitude")),
    )
    return ShipTo(
        name=text("name"),
        line1=text("address1"),
        city=text("city"),
        postal_code=text("zip", 32),
        country=text("country_code", 2).upper(),
        # Shopify geocodes most addresses; without both, the orders service places it itself.
        latitude=latitude if longitude is not None else None,
        longitude=longitude if latitude is not None else None,
    )


def _coordinate(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if number == number and abs(number) <= 180 else None
