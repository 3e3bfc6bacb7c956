"""ShipBob in our terms, as pure functions: a node's connection checked, a shipment as the order
ShipBob's Create Order takes, its answer read, its webhooks verified (Standard Webhooks:
HMAC-SHA256 over "id.timestamp.body" under the base64 key after `whsec_`) and read, and its
inventory levels cut down to one fulfillment centre. No I/O; the sources of every shape are in
tests/fixtures/shipbob/README.md."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from services.kernel import bounds
from services.kernel.errors import DomainError, ErrorCode

DEFAULT_API_BASE_URL = "https://api.shipbob.com"
API_VERSION = "2026-01"
# We keep no shipping speed per order: ShipBob maps an unknown method to its Standard option.
SHIPPING_METHOD = "Standard"
# Standard Webhooks' tolerance for the signed timestamp: older (or that far ahead) is a replay.
TIMESTAMP_TOLERANCE = timedelta(minutes=5)
SHIPPED_TOPICS = ("order.shipped", "order_shipped")
MAX_SECRET = 255


class NodeOrderStatus(StrEnum):
    PENDING = "PENDING"  # owed to ShipBob, not yet taken
    CREATED = "CREATED"  # ShipBob has the order (or answered that it had it already)
    FAILED = "FAILED"  # ShipBob refused it (4xx): a person must look
    SHIPPED = "SHIPPED"  # ShipBob's order.shipped arrived and the shipment shipped
    CANCELLING = "CANCELLING"  # cancelled here: ShipBob is owed the cancellation
    CANCELLED = "CANCELLED"  # ShipBob cancelled it (or never had it)


@dataclass(frozen=True)
class NewNode:
    """A connection as asked: a secret left as None keeps the stored one."""

    location_code: str
    shipbob_channel_id: str
    fulfillment_center_id: str
    api_token: str | None = None
    webhook_secret: str | None = None
    api_base_url: str | None = None


@dataclass(frozen=True)
class Node:
    location_code: str
    shipbob_channel_id: str
    fulfillment_center_id: str
    api_token: str
    webhook_secret: str
    api_base_url: str
    connected_at: datetime

    @property
    def base_url(self) -> str:
        return (self.api_base_url or DEFAULT_API_BASE_URL).rstrip("/")


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    address1: str
    city: str
    zip_code: str
    country: str


@dataclass(frozen=True)
class ShippedNotice:
    """What an order.shipped delivery says of one of our shipments."""

    shipment_id: str
    tracking_number: str
    carrier: str


def require_new_node(new: NewNode) -> NewNode:
    """Codes and ids bounded; ShipBob's ids are whole numbers (its channel id travels in a
    header); a base URL, when given, is http(s)."""
    code = bounds.require_code(new.location_code, "location_code", "the location code")
    ids = {}
    for name, what in (
        ("shipbob_channel_id", "ShipBob's channel id"),
        ("fulfillment_center_id", "the fulfillment centre id"),
    ):
        value = bounds.require_text(getattr(new, name), name, what, 20)
        if not value.isdigit():
            raise DomainError(ErrorCode.INVALID_INPUT, f"{what} must be a number", name)
        ids[name] = value
    for name in ("api_token", "webhook_secret"):
        given = getattr(new, name)
        if given is not None:
            bounds.require_text(given, name, name.replace("_", " "), MAX_SECRET)
    url = new.api_base_url
    if url is not None:
        url = bounds.require_text(url, "api_base_url", "the API base URL", 255, required=False)
        if url and not url.startswith(("https://", "http://")):
            raise DomainError(ErrorCode.INVALID_INPUT, "the URL must be http(s)", "api_base_url")
    return NewNode(
        code,
        ids["shipbob_channel_id"],
        ids["fulfillment_center_id"],
        new.api_token.strip() if new.api_token is not None else None,
        new.webhook_secret.strip() if new.webhook_secret is not None else None,
        url,
    )


def order_body(
    shipment_id: str, order_number: str, recipient: Recipient, lines: Mapping[str, int]
) -> dict[str, Any]:
    """Create Order's body: our shipment id as the reference (unique per ShipBob account, so a
    retry cannot create a second order), products by reference id = SKU."""
    address = {
        "address1": recipient.address1,
        "city": recipient.city,
        "zip_code": recipient.zip_code,
        "country": recipient.country,
    }
    return {
        "reference_id": shipment_id,
        "order_number": order_number or shipment_id,
        "type": "DTC",
        "shipping_method": SHIPPING_METHOD,
        "recipient": {"name": recipient.name, "email": recipient.email, "address": address},
        "products": [
            {"reference_id": sku, "name": sku, "quantity": units}
            for sku, units in sorted(lines.items())
        ],
    }


def signature_verifies(
    secret: str, webhook_id: str, timestamp: str, body: bytes, header: str, now: datetime
) -> bool:
    """Whether one of the space-separated `v1,<base64>` signatures in `header` is the HMAC-SHA256
    of "id.timestamp.body" under the secret (base64 after `whsec_`), and the timestamp lies within
    the tolerance of now. Constant-time comparison; any malformed part is simply not verified."""
    if not (secret and webhook_id and header and timestamp.strip().isdigit()):
        return False
    sent = int(timestamp.strip())
    if abs(now.timestamp() - sent) > TIMESTAMP_TOLERANCE.total_seconds():
        return False
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        return False
    signed = f"{webhook_id}.{sent}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    return any(
        hmac.compare_digest(expected, candidate.encode("ascii", "replace"))
        for version, _, candidate in (part.partition(",") for part in header.split())
        if version == "v1"
    )


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise DomainError(ErrorCode.INVALID_INPUT, "the body is not JSON", "body") from None


def shipped_notice(payload: Any) -> ShippedNotice:
    """Our shipment id (the order's reference_id) and the first shipment's tracking: the
    order.shipped body is ShipBob's Order (shipments[].tracking); the logistics topic puts one
    `tracking` object at the top. INVALID_INPUT when the reference or tracking number is missing."""
    if not isinstance(payload, dict):
        raise DomainError(ErrorCode.INVALID_INPUT, "the body is not a JSON object", "body")
    reference = str(payload.get("reference_id") or "")
    reference = bounds.require_text(reference, "reference_id", "the reference id", bounds.MAX_ID)
    tracking = payload.get("tracking")
    shipments = payload.get("shipments")
    if not isinstance(tracking, dict) and isinstance(shipments, list):
        tracking = next(
            (s["tracking"] for s in shipments if isinstance(s, dict) and s.get("tracking")), None
        )
    if not isinstance(tracking, dict):
        raise DomainError(ErrorCode.INVALID_INPUT, "the order has no tracking", "tracking")
    number = str(tracking.get("tracking_number") or tracking.get("tracking_id") or "")
    number = bounds.require_text(number, "tracking_number", "the tracking number", 128)
    carrier = bounds.require_text(
        str(tracking.get("carrier") or ""), "carrier", "the carrier", 64, required=False
    )
    return ShippedNotice(reference, number, carrier)


def on_hand_at(page: Any, fulfillment_center_id: str) -> dict[str, int]:
    """SKU -> on-hand units at one fulfillment centre, from a page of "inventory levels grouped
    by fulfillment center"; a SKU the centre does not list is left out, negatives read as 0."""
    items = page.get("items") if isinstance(page, dict) else None
    levels: dict[str, int] = {}
    for item in items if isinstance(items, list) else []:
        sku = str(item.get("sku") or "") if isinstance(item, dict) else ""
        if not sku or len(sku) > bounds.MAX_CODE:
            continue
        for place in item.get("locations") or []:
            if str(place.get("location_id")) == fulfillment_center_id:
                units = place.get("on_hand_quantity")
                if isinstance(units, int):
                    levels[sku] = levels.get(sku, 0) + max(0, min(units, bounds.MAX_LEVEL_UNITS))
    return levels
