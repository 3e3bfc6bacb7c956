"""A Selling Partner API for tests, speaking the published shapes: Login with Amazon's token
endpoint (`POST /auth/o2/token`, refresh_token grant), getOrders (`GET /orders/v0/orders`,
pages keyed by NextToken) and getOrderItems, serving Amazon's published examples
(tests/fixtures/amazon/); patchListingsItem (`PATCH /listings/2021-08-01/items/{sellerId}/{sku}`)
and confirmShipment (`POST /orders/v0/orders/{orderId}/shipmentConfirmation`), recording what
they were told. It refuses an expired access token with 403, a confirmation it would never take
with 400, can throttle (429) and be down (500 to the outbound calls), and counts what a test
asserts on."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FIXTURES = Path(__file__).parents[1] / "fixtures" / "amazon"
FIRST_NEXT_TOKEN = "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"


def published(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return loaded


@dataclass
class FakeAmazon:
    port: int
    refresh_token: str
    # The getOrders page per NextToken asked ("" for the first page of a query).
    pages: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "": published("get_orders.json"),
            FIRST_NEXT_TOKEN: published("get_orders_sandbox.json"),
        }
    )
    # The getOrderItems page per NextToken: the published page points to a next one, which
    # this fake answers with no more items (the published examples have no last page).
    items: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "": published("get_order_items.json"),
            FIRST_NEXT_TOKEN: {"payload": {"OrderItems": []}},
        }
    )
    # An order's own first getOrderItems page, in place of the published one.
    items_of: dict[str, dict[str, Any]] = field(default_factory=dict)
    expires_in: int = 3600
    # Answer 429 to this many getOrders calls first.
    throttle_next: int = 0
    throttled: int = 0
    tokens_issued: int = 0
    # The LWA client (id, secret) of every token asked for.
    lwa_clients: list[tuple[str, str]] = field(default_factory=list)
    expired_refused: int = 0
    # The query of every getOrders call answered 200, and the order id of every getOrderItems.
    orders_queries: list[dict[str, str]] = field(default_factory=list)
    items_asked: list[str] = field(default_factory=list)
    # The last quantity set per SKU, every patch body, and every shipment confirmation body
    # per order; while `down`, the outbound calls answer 500 (counted in `refused`).
    quantities: dict[str, int] = field(default_factory=dict)
    patches: list[dict[str, Any]] = field(default_factory=list)
    confirmations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    down: bool = False
    refused: int = 0
    # When set, shipment confirmations are refused with 400 and this message (`invalid` counts
    # every 400 answered).
    refuse_confirmations: str = ""
    invalid: int = 0
    _tokens: dict[str, float] = field(default_factory=dict)
    server: uvicorn.Server | None = None
    serving: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != (
            self.refresh_token
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        self.tokens_issued += 1
        self.lwa_clients.append((form.get("client_id", ""), form.get("client_secret", "")))
        token = f"Atza|test-{self.tokens_issued}"
        self._tokens[token] = time.monotonic() + self.expires_in
        return JSONResponse(
            {"access_token": token, "token_type": "bearer", "expires_in": self.expires_in}
        )

    def _refusal(self, request: Request) -> Response | None:
        ends = self._tokens.get(request.headers.get("x-amz-access-token", ""))
        if ends is None or time.monotonic() >= ends:
            self.expired_refused += 1
            errors = [{"code": "Unauthorized", "message": "The access token has expired"}]
            return JSONResponse({"errors": errors}, status_code=403)
        return None

    async def get_orders(self, request: Request) -> Response:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        if self.throttle_next > 0:
            self.throttle_next -= 1
            self.throttled += 1
            errors = [{"code": "QuotaExceeded", "message": "You exceeded your quota"}]
            return JSONResponse({"errors": errors}, status_code=429)
        self.orders_queries.append(dict(request.query_params))
        return JSONResponse(self.pages[request.query_params.get("NextToken", "")])

    async def get_order_items(self, request: Request) -> Response:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        next_token = request.query_params.get("NextToken", "")
        order_id = request.path_params["order_id"]
        if not next_token:
            self.items_asked.append(order_id)
            if order_id in self.items_of:
                return JSONResponse(self.items_of[order_id])
        return JSONResponse(self.items[next_token])

    def _down(self) -> Response | None:
        if not self.down:
            return None
        self.refused += 1
        errors = [{"code": "InternalFailure", "message": "We encountered an internal error"}]
        return JSONResponse({"errors": errors}, status_code=500)

    def _invalid(self, message: str) -> Response:
        """Amazon's answer to a request it will never take: 400 with its error list."""
        self.invalid += 1
        errors = [{"code": "InvalidInput", "message": message, "details": ""}]
        return JSONResponse({"errors": errors}, status_code=400)

    async def patch_listings_item(self, request: Request) -> Response:
        refused = self._refusal(request) or self._down()
        if refused is not None:
            return refused
        body = await request.json()
        sku = request.path_params["sku"]
        assert request.query_params.get("marketplaceIds"), "marketplaceIds is required"
        (patch,) = body["patches"]
        assert body["productType"] and patch["op"] == "replace", body
        assert patch["path"] == "/attributes/fulfillment_availability", body
        (availability,) = patch["value"]
        assert availability["fulfillment_channel_code"] == "DEFAULT", body
        self.patches.append(body)
        self.quantities[sku] = availability["quantity"]
        answer = {"sku": sku, "status": "ACCEPTED", "submissionId": "f1dc2914", "issues": []}
        return JSONResponse(answer)

    async def confirm_shipment(self, request: Request) -> Response:
        refused = self._refusal(request) or self._down()
        if refused is not None:
            return refused
        body = await request.json()
        package = body["packageDetail"]
        required = ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate")
        assert body["marketplaceId"] and all(package[k] for k in required), body
        assert package["orderItems"], body
        # PackageDetail: packageReferenceId is "a seller-supplied positive number".
        if not package["packageReferenceId"].isdigit() or int(package["packageReferenceId"]) < 1:
            return self._invalid("packageReferenceId must be a positive number")
        # PackageDetail in ordersV0.json: carrierName is required when the code is "Other(s)".
        if package["carrierCode"] in ("Other", "Others") and not package.get("carrierName"):
            return self._invalid("carrierName is required when carrierCode is Other")
        if self.refuse_confirmations:
            return self._invalid(self.refuse_confirmations)
        order_id = request.path_params["order_id"]
        self.confirmations.setdefault(order_id, []).append(body)
        return Response(status_code=204)

    async def start(self) -> None:
        app = Starlette(
            routes=[
                Route("/auth/o2/token", self.token, methods=["POST"]),
                Route("/orders/v0/orders", self.get_orders),
                Route("/orders/v0/orders/{order_id}/orderItems", self.get_order_items),
                Route(
                    "/orders/v0/orders/{order_id}/shipmentConfirmation",
                    self.confirm_shipment,
                    methods=["POST"],
                ),
                Route(
                    "/listings/2021-08-01/items/{seller_id}/{sku}",
                    self.patch_listings_item,
                    methods=["PATCH"],
                ),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.serving = asyncio.create_task(self.server.serve())
        while not self.server.started:
            assert not self.serving.done(), "the fake Amazon did not start"
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        assert self.server is not None and self.serving is not None
        self.server.should_exit = True
        await self.serving
