"""Loop (docs.loopreturns.com): the Return webhook (topic `return`, trigger `return.created`)
signed in `X-Loop-Signature` with the base64 HMAC-SHA256 of the body; the API key in
`X-Authorization`; a return refunded by Process Return and flagged by Flag Return, our other
status updates written as return notes."""

from __future__ import annotations

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

CREATED = "return.created"


class Loop:
    platform = Platform.LOOP

    def verify(self, secret: str, signature: str, body: bytes) -> bool:
        return base64_signature_matches(secret, signature, body)

    def parse(self, topic: str, payload: Mapping[str, Any]) -> PlatformEvent:
        trigger = text(payload, "trigger", 64)
        return_id = text(payload, "id")
        if not return_id:
            raise ValueError("the payload has no return id")
        # Each returned unit is one line item; the order is Shopify's, as the channel knows it.
        lines = units_by_sku([(text(x, "sku", 64), 1) for x in objects(payload, "line_items")])
        where = payload.get("address") or {}
        if not isinstance(where, dict):
            raise ValueError("address is not an object")
        labels = objects(payload, "labels")
        return PlatformEvent(
            platform_return_id=return_id,
            created=trigger == CREATED,
            topic=trigger or "return",
            order_reference=text(payload, "provider_order_id") or text(payload, "order_name"),
            lines=lines,
            drop_off=address(
                text(where, "zip", 32), text(where, "city", 200), text(where, "country_code", 2)
            ),
            tracking_number=text(labels[0], "tracking_number") if labels else "",
        )

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"X-Authorization": token}

    def refund(self, platform_return_id: str, payment: RefundPayment) -> list[ApiCall]:
        # Loop adds the body's values to the return's timeline: our refund id and amount.
        body = {"oms_refund_id": payment.refund_id, "refund_cents": str(payment.amount_cents)}
        return [ApiCall("POST", f"/warehouse/return/{platform_return_id}/process", body)]

    def notify(self, platform_return_id: str, kind: str, detail: str) -> list[ApiCall]:
        note = ApiCall(
            "POST",
            f"/warehouse/return/{platform_return_id}/note",
            {"note": f"OMS: {kind}" + (f" ({detail})" if detail else "")},
        )
        if kind == "REJECTED":
            return [ApiCall("POST", f"/warehouse/return/{platform_return_id}/flag"), note]
        return [note]
