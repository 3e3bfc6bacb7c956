"""A Shopify shop's Admin GraphQL API for tests, answering the requests the OMS sends in the
shapes Shopify publishes: `location` and `inventoryItems(query: "sku:...")`,
`inventorySetQuantities`, `order { fulfillments fulfillmentOrders }` and `fulfillmentCreate`.
It can be taken down (every request answered 500) and brought back, refuse fulfillments (a
userError) or answer in a shape Shopify never sends, and it records every call."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

LOCATION = "gid://shopify/Location/1"
TOKEN = "shpat_test_token"


@dataclass
class FakeShopifyAdmin:
    port: int
    # SKUs the shop sells -> their inventory item gids.
    items: dict[str, str] = field(default_factory=dict)
    # Inventory item gid -> available units at LOCATION, as last set.
    available: dict[str, int] = field(default_factory=dict)
    # Every inventorySetQuantities call's quantities, in order.
    set_calls: list[list[dict[str, Any]]] = field(default_factory=list)
    # Order gid -> tracking numbers of the fulfillments created for it.
    fulfillments: dict[str, list[str]] = field(default_factory=dict)
    down: bool = False
    refused: int = 0
    # When set, fulfillmentCreate answers with this userError (Shopify refusing the input).
    refuse_fulfillments: str = ""
    # When set, every request is answered 200 with data in a shape Shopify never sends.
    malformed: bool = False
    server: uvicorn.Server | None = None
    serving: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sells(self, *skus: str) -> None:
        for sku in skus:
            self.items[sku] = f"gid://shopify/InventoryItem/{len(self.items) + 100}"

    def available_of(self, sku: str) -> int | None:
        return self.available.get(self.items[sku])

    async def graphql(self, request: Request) -> Response:
        if self.down or request.headers.get("x-shopify-access-token") != TOKEN:
            self.refused += 1
            return JSONResponse({"errors": "Internal Server Error"}, status_code=500)
        if self.malformed:  # the fields asked for are there, but hold nothing Shopify sends
            return self._ok({"location": {}, "order": {}})
        body = await request.json()
        query, variables = body["query"], body.get("variables") or {}
        if "inventorySetQuantities" in query:
            return self._ok({"inventorySetQuantities": self._set(variables["input"])})
        if "inventoryItems" in query:
            wanted = set(re.findall(r'sku:"([^"]+)"', variables["skus"]))
            nodes = [{"id": i, "sku": s} for s, i in self.items.items() if s in wanted]
            return self._ok({"location": {"id": LOCATION}, "inventoryItems": {"nodes": nodes}})
        if "fulfillmentCreate" in query and self.refuse_fulfillments:
            refusal = {"field": ["fulfillment"], "message": self.refuse_fulfillments}
            return self._ok({"fulfillmentCreate": {"fulfillment": None, "userErrors": [refusal]}})
        if "fulfillmentCreate" in query:
            return self._ok({"fulfillmentCreate": self._fulfil(variables["fulfillment"])})
        if "fulfillmentOrders" in query:
            return self._ok({"order": self._order(variables["id"])})
        return JSONResponse({"errors": [{"message": "unknown query"}]})

    def _ok(self, data: dict[str, Any]) -> Response:
        return JSONResponse({"data": data})

    def _set(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert payload["name"] == "available" and payload["ignoreCompareQuantity"] is True
        self.set_calls.append(payload["quantities"])
        for q in payload["quantities"]:
            assert q["locationId"] == LOCATION
            self.available[q["inventoryItemId"]] = q["quantity"]
        return {
            "inventoryAdjustmentGroup": {"id": "gid://shopify/InventoryAdjustmentGroup/1"},
            "userErrors": [],
        }

    def _order(self, gid: str) -> dict[str, Any]:
        numbers = self.fulfillments.get(gid, [])
        status = "CLOSED" if numbers else "OPEN"
        return {
            "fulfillments": [{"trackingInfo": [{"number": n}]} for n in numbers],
            "fulfillmentOrders": {"nodes": [{"id": f"{gid}/fo", "status": status}]},
        }

    def _fulfil(self, fulfillment: dict[str, Any]) -> dict[str, Any]:
        (line,) = fulfillment["lineItemsByFulfillmentOrder"]
        gid = line["fulfillmentOrderId"].removesuffix("/fo")
        number = fulfillment.get("trackingInfo", {}).get("number", "")
        self.fulfillments.setdefault(gid, []).append(number)
        return {"fulfillment": {"id": "gid://shopify/Fulfillment/1"}, "userErrors": []}

    async def start(self) -> None:
        routes = [Route("/admin/api/{version}/graphql.json", self.graphql, methods=["POST"])]
        config = uvicorn.Config(
            Starlette(routes=routes), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.serving = asyncio.create_task(self.server.serve())
        while not self.server.started:
            assert not self.serving.done(), "the fake Shopify did not start"
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        assert self.server is not None and self.serving is not None
        self.server.should_exit = True
        await self.serving
