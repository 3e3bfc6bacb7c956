"""Shopify's Admin GraphQL API as the pushes need it: setting available quantities by SKU at
the shop's location, and creating a fulfillment with its tracking number, once.

Every call has one deadline for the whole exchange; any fault (a timeout, a refused connection,
a 5xx or 429, GraphQL errors) raises `PlatformUnavailable`, which the workers retry later. A
request Shopify refuses for good (a 4xx but 401, 403, 408 and 429, or `fulfillmentCreate`'s
userErrors) raises `PlatformRefused` with Shopify's reason.

SKUs to inventory items: Shopify keys stock by inventory item and location, we by SKU. The push
looks the items up by SKU (`inventoryItems(query: "sku:...")`) in the same request that finds
the location: the shop's primary location (`location` without an id), so nothing is mapped by
hand. A SKU Shopify does not know is skipped (it is not sold there)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from services.channels.platform_errors import PlatformRefused, PlatformUnavailable, refused_for_good

__all__ = ["PlatformUnavailable", "ShopifyAdmin", "ShopifyShop"]

API_VERSION = "2025-10"
CALL_SECONDS = 5.0
LOOKUP = """
query OmsLookup($skus: String!, $first: Int!) {
  location { id }
  inventoryItems(first: $first, query: $skus) { nodes { id sku } }
}"""
SET_QUANTITIES = """
mutation OmsSetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}"""
ORDER_FULFILLMENTS = """
query OmsOrderFulfillments($id: ID!) {
  order(id: $id) {
    fulfillments(first: 250) { trackingInfo { number } }
    fulfillmentOrders(first: 50) { nodes { id status } }
  }
}"""
FULFILLMENT_CREATE = """
mutation OmsFulfill($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id }
    userErrors { field message }
  }
}"""
FULFILLABLE = ("OPEN", "IN_PROGRESS")


@dataclass(frozen=True)
class ShopifyShop:
    """Where and as whom to call one shop's Admin API."""

    base_url: str
    access_token: str


class ShopifyAdmin:
    async def set_available(self, shop: ShopifyShop, available: Mapping[str, int]) -> int:
        """Sets each known SKU's available quantity at the shop's location; how many it set."""
        query = " OR ".join(f"sku:{json.dumps(sku)}" for sku in available)
        found = await self._call(shop, LOOKUP, {"skus": query, "first": len(available)})
        location = (found.get("location") or {}).get("id")
        items = {n["sku"]: n["id"] for n in found["inventoryItems"]["nodes"] if n.get("sku")}
        quantities = [
            {"inventoryItemId": items[sku], "locationId": location, "quantity": max(units, 0)}
            for sku, units in available.items()
            if sku in items
        ]
        if not quantities or location is None:
            return 0
        payload = {
            "name": "available",
            "reason": "correction",
            # We are the source of truth: the value is absolute, not compared and swapped.
            "ignoreCompareQuantity": True,
            "quantities": quantities,
        }
        answer = await self._call(shop, SET_QUANTITIES, {"input": payload})
        _no_user_errors(answer["inventorySetQuantities"])
        return len(quantities)

    async def fulfill(self, shop: ShopifyShop, order_id: str, tracking_number: str) -> None:
        """Creates the order's fulfillment with the tracking number, unless Shopify already
        shows one with it (so a lost answer, retried, does not fulfil twice)."""
        gid = f"gid://shopify/Order/{order_id}"
        found = (await self._call(shop, ORDER_FULFILLMENTS, {"id": gid})).get("order")
        if found is None:
            raise PlatformUnavailable(f"Shopify does not show order {order_id}")
        numbers = {i.get("number") for f in found["fulfillments"] for i in f["trackingInfo"]}
        if tracking_number and tracking_number in numbers:
            return
        open_orders = [
            {"fulfillmentOrderId": x["id"]}
            for x in found["fulfillmentOrders"]["nodes"]
            if x["status"] in FULFILLABLE
        ]
        if not open_orders:
            return  # fulfilled on Shopify's side already
        fulfillment: dict[str, Any] = {
            "lineItemsByFulfillmentOrder": open_orders,
            "notifyCustomer": True,
        }
        if tracking_number:
            fulfillment["trackingInfo"] = {"number": tracking_number}
        answer = await self._call(shop, FULFILLMENT_CREATE, {"fulfillment": fulfillment})
        refusals = answer["fulfillmentCreate"].get("userErrors")
        if refusals:  # the fulfillment as asked is invalid: asking again changes nothing
            raise PlatformRefused(f"Shopify refused: {json.dumps(refusals)}")

    async def _call(self, shop: ShopifyShop, query: str, variables: dict[str, Any]) -> Any:
        url = f"{shop.base_url.rstrip('/')}/admin/api/{API_VERSION}/graphql.json"
        headers = {"X-Shopify-Access-Token": shop.access_token}
        try:
            # A client per call, as the refunds do: nothing to close at shutdown, no stale pool.
            async with asyncio.timeout(CALL_SECONDS), httpx.AsyncClient() as http:
                response = await http.post(
                    url, json={"query": query, "variables": variables}, headers=headers
                )
                body = response.json() if response.status_code == 200 else {}
        except (httpx.HTTPError, TimeoutError, ValueError) as error:
            raise PlatformUnavailable(f"Shopify unreachable: {error!r}"[:300]) from None
        if refused_for_good(response.status_code):
            raise PlatformRefused(f"Shopify answered {response.status_code}: {response.text}")
        if response.status_code != 200 or body.get("errors") or "data" not in body:
            raise PlatformUnavailable(f"Shopify answered {response.status_code}")
        return body["data"]


def _no_user_errors(payload: dict[str, Any]) -> None:
    if payload.get("userErrors"):
        raise PlatformUnavailable(f"Shopify refused: {payload['userErrors']!r}"[:300])
