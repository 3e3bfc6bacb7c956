"""A ShipBob account's REST API for tests, in the shapes ShipBob publishes
(tests/fixtures/shipbob/README.md): Create Order (`POST /2026-01/order`, a duplicate
reference_id answered 422), Get Orders by reference, Cancel Order, and the inventory levels grouped by fulfillment centre, paged. It can
fail the next orders (500, not taken), lose the answer to the next ones (taken, answered 500),
and it signs webhook bodies as ShipBob does (Standard Webhooks)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FIXTURES = Path(__file__).parents[1] / "fixtures" / "shipbob"
TOKEN = "shipbob-pat-test"
CHANNEL_ID = "51234"
# A secret as ShipBob issues one: whsec_ and base64 key bytes.
SECRET = "whsec_" + base64.b64encode(b"thirty-two bytes of signing key!").decode()


def published(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def sign(body: bytes, webhook_id: str, timestamp: int, secret: str = SECRET) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def webhook_headers(body: bytes, webhook_id: str, secret: str = SECRET) -> dict[str, str]:
    now = int(time.time())
    return {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(now),
        "webhook-signature": sign(body, webhook_id, now, secret),
        "x-webhook-topic": "order.shipped",
    }


@dataclass
class FakeShipBob:
    port: int
    # reference_id -> the order's body as taken.
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Every Create Order call's status answered, in order.
    answers: list[int] = field(default_factory=list)
    fail_next: int = 0
    lose_next: int = 0
    refuse_next: int = 0  # answered 400 as a validation failure, not taken
    # The levels served: a page of the published shape; `page_size` items per page.
    levels: dict[str, Any] = field(
        default_factory=lambda: published("inventory_levels_by_fulfillment_center")
    )
    level_calls: list[dict[str, str]] = field(default_factory=list)
    # reference_id of each order cancelled; `uncancellable` answers 422 (already picked).
    cancelled: list[str] = field(default_factory=list)
    uncancellable: bool = False
    page_size: int | None = None  # smaller pages than asked, to make the client follow `next`
    server: uvicorn.Server | None = None
    serving: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _authorized(self, request: Request) -> bool:
        return (
            request.headers.get("authorization") == f"Bearer {TOKEN}"
            and request.headers.get("shipbob_channel_id") == CHANNEL_ID
        )

    async def create_order(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._answer(401, {"message": "Unauthorized"})
        if self.fail_next:
            self.fail_next -= 1
            return self._answer(500, {"message": "Internal Server Error"})
        body = await request.json()
        missing = [
            name
            for name in ("reference_id", "shipping_method", "recipient", "products")
            if not body.get(name)
        ]
        if self.refuse_next:
            self.refuse_next -= 1
            missing = ["recipient.address.state"]
        if missing or not body["recipient"].get("address", {}).get("address1"):
            return self._answer(400, {"errors": {name: ["required"] for name in missing}})
        reference = body["reference_id"]
        if reference in self.orders:
            return self._answer(422, {"reference_id": [f"{reference} exists already"]})
        self.orders[reference] = body
        if self.lose_next:
            self.lose_next -= 1
            return self._answer(500, {"message": "gateway timeout"})
        return self._answer(201, self._order(reference) | body)

    def _order(self, reference: str) -> dict[str, Any]:
        """ShipBob's view of one order: its own id is the order's place in the account."""
        order_id = 700000 + list(self.orders).index(reference) + 1
        status = "Cancelled" if reference in self.cancelled else "Processing"
        return {"id": order_id, "reference_id": reference, "status": status}

    async def get_orders(self, request: Request) -> Response:
        """Get Orders filtered by `ReferenceIds` (comma separated): a list of orders."""
        if not self._authorized(request):
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        wanted = request.query_params.get("ReferenceIds", "").split(",")
        return JSONResponse([self._order(r) for r in wanted if r in self.orders])

    async def cancel_order(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        order_id = int(request.path_params["order_id"])
        reference = next((r for r in self.orders if self._order(r)["id"] == order_id), None)
        if reference is None:
            return JSONResponse({"message": "Not Found"}, status_code=404)
        if self.uncancellable:
            return JSONResponse({"message": "order is not in a cancellable state"}, status_code=422)
        if reference not in self.cancelled:
            self.cancelled.append(reference)
        result = {"action": "Cancel", "is_success": True, "reason": "", "shipment_id": order_id}
        return JSONResponse({"order_id": order_id, "canceled_shipment_results": [result]})

    def _answer(self, status: int, body: dict[str, Any]) -> Response:
        self.answers.append(status)
        return JSONResponse(body, status_code=status)

    async def inventory_levels(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        self.level_calls.append(dict(request.query_params))
        page = int(request.query_params.get("Page", "1"))
        size = self.page_size or int(request.query_params.get("PageSize", "250"))
        items = self.levels["items"]
        chunk = items[(page - 1) * size : page * size]
        more = page * size < len(items)
        following = (
            f"/2026-01/inventory-level/locations?Page={page + 1}&PageSize={size}" if more else None
        )
        return JSONResponse(self.levels | {"items": chunk, "next": following})

    async def start(self) -> None:
        routes = [
            Route("/2026-01/order", self.create_order, methods=["POST"]),
            Route("/2026-01/order", self.get_orders, methods=["GET"]),
            Route("/2026-01/order/{order_id:int}:cancel", self.cancel_order, methods=["POST"]),
            Route("/2026-01/inventory-level/locations", self.inventory_levels, methods=["GET"]),
        ]
        config = uvicorn.Config(
            Starlette(routes=routes), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.serving = asyncio.create_task(self.server.serve())
        async with asyncio.timeout(10):
            while not self.server.started:
                assert not self.serving.done(), "the fake ShipBob did not start"
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        assert self.server is not None and self.serving is not None
        self.server.should_exit = True
        await self.serving
