"""Happy Returns (developer.happyreturns.com): the `return.asn` webhook (event
`return_status_updated`, typeID `started` for a new return) signed in `X-Hr-Signature` with a
hex HMAC-SHA256 of the body; one item per physical unit. Its partner API for refunds and status
updates was not found in public documentation: the calls here follow the closest convention
(README, "Returns platforms")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.returns.domain.model import Platform, RefundPayment
from services.returns.platforms import (
    ApiCall,
    PlatformEvent,
    hex_signature_matches,
    objects,
    text,
    units_by_sku,
)

STARTED = "started"


class HappyReturns:
    platform = Platform.HAPPY_RETURNS

    def verify(self, secret: str, signature: str, body: bytes) -> bool:
        return hex_signature_matches(secret, signature, body)

    def parse(self, topic: str, payload: Mapping[str, Any]) -> PlatformEvent:
        items = objects(payload, "items")
        if not items:
            raise ValueError("the payload has no items")
        first = items[0]
        return_id = text(first, "happyReturnsReturnID")
        if not return_id:
            raise ValueError("the payload has no happyReturnsReturnID")
        status = text(payload, "typeID", 64)
        return PlatformEvent(
            platform_return_id=return_id,
            created=text(payload, "event", 64) == "return_status_updated" and status == STARTED,
            topic=status or text(payload, "event", 64),
            order_reference=text(first, "orderID") or text(first, "orderNumber"),
            lines=units_by_sku([(text(x, "sku", 64), 1) for x in items]),
            # The published payload names no drop-off address: the order's ship-to is used.
            drop_off=None,
        )

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def refund(self, platform_return_id: str, payment: RefundPayment) -> list[ApiCall]:
        body = {"refundID": payment.refund_id, "amountCents": payment.amount_cents}
        return [ApiCall("POST", f"/returns/{platform_return_id}/refund", body)]

    def notify(self, platform_return_id: str, kind: str, detail: str) -> list[ApiCall]:
        body = {"status": kind.lower(), "flags": [f for f in detail.split(",") if f]}
        return [ApiCall("POST", f"/returns/{platform_return_id}/events", body)]
