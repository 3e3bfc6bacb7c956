"""Narvar (its RMA webhook specification on speca.io): the topic in `X-Narvar-Topic`
(`initiated` for a new return), the Standard RMA payload (rma_number, order_number, items,
package with the carrier's tracking number); its API reached with HTTP Basic credentials.
The webhook's signature header and the refund-approval path were not found in the public
documentation: `X-Narvar-Hmac-Sha256` (base64 HMAC-SHA256 of the body, the convention of the
Shopify webhooks its headers mirror) and the paths below are the closest convention (README)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from services.returns.domain.model import Platform, RefundPayment
from services.returns.platforms import (
    ApiCall,
    PlatformEvent,
    address,
    base64_signature_matches,
    objects,
    text,
    units_by_sku,
)

INITIATED = "initiated"


class Narvar:
    platform = Platform.NARVAR

    def verify(self, secret: str, signature: str, body: bytes) -> bool:
        return base64_signature_matches(secret, signature, body)

    def parse(self, topic: str, payload: Mapping[str, Any]) -> PlatformEvent:
        rma = text(payload, "rma_number")
        if not rma:
            raise ValueError("the payload has no rma_number")
        package = payload.get("package") or {}
        if not isinstance(package, dict):
            raise ValueError("package is not an object")
        lines = []
        for item in objects(payload, "items"):
            quantity = item.get("quantity", 1)
            if not isinstance(quantity, int) or isinstance(quantity, bool):
                raise ValueError("an item's quantity is not a whole number")
            lines.append((text(item, "sku", 64), quantity))
        return PlatformEvent(
            platform_return_id=rma,
            created=topic == INITIATED,
            topic=topic or text(payload, "return_tracking_status", 64),
            order_reference=text(payload, "order_number"),
            lines=units_by_sku(lines),
            drop_off=address(
                text(payload, "origin_zip", 32),
                text(payload, "origin_city", 200),
                text(payload, "origin_country", 2),
            ),
            tracking_number=text(package, "tracking_number"),
        )

    def auth_headers(self, token: str) -> dict[str, str]:
        # The token is the "user:password" pair of Narvar's RMA post credentials.
        return {"Authorization": "Basic " + base64.b64encode(token.encode()).decode()}

    def refund(self, platform_return_id: str, payment: RefundPayment) -> list[ApiCall]:
        body = {
            "rma_number": platform_return_id,
            "status": "approved",
            "refund_id": payment.refund_id,
            "refund_amount_cents": payment.amount_cents,
        }
        return [ApiCall("POST", "/rma/refund_approval", body)]

    def notify(self, platform_return_id: str, kind: str, detail: str) -> list[ApiCall]:
        status = {"REJECTED": "rejected"}.get(kind, kind.lower())
        body = {"rma_number": platform_return_id, "status": status, "reason": detail}
        return [ApiCall("POST", "/rma/status", body)]
