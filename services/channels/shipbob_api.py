"""ShipBob's REST API as the 3PL connector needs it: Create Order (`POST /{version}/order`),
Cancel Order (found by its reference id), and the on-hand levels of one fulfillment centre
(`GET /{version}/inventory-level/locations`), with a Bearer token and the `shipbob_channel_id`
header.

Every call has one deadline for the whole exchange. A timeout, a refused connection, a 5xx or a
429 raise `ShipBobUnavailable` (asked again later); a 422 on Create Order is ShipBob's duplicate
`reference_id` answer, which means it has the order already; any other 4xx raises
`ShipBobRefused` with its reason, which no retry will change."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from services.channels.domain.shipbob import API_VERSION, Node, on_hand_at

CALL_SECONDS = 10.0
PAGE_SIZE = 250
# 250 SKUs a page: 40 pages cover 10,000 SKUs, far past any node we serve; more is cut off.
MAX_PAGES = 40
DUPLICATE_REFERENCE = 422


class ShipBobUnavailable(Exception):
    """ShipBob did not answer usefully; try again later."""


class ShipBobRefused(Exception):
    """ShipBob refused the request as sent (a 4xx other than a duplicate reference)."""


class ShipBobApi:
    async def create_order(self, node: Node, body: dict[str, Any]) -> bool:
        """Creates the order; True when ShipBob created it now, False when it answered that the
        reference id exists already (a retry after a lost answer)."""
        async with self._client(node) as http:
            response = await self._send(http, "POST", f"/{API_VERSION}/order", json=body)
        if response.status_code == DUPLICATE_REFERENCE:
            return False
        self._raise_for(response)
        return True

    async def cancel_order(self, node: Node, reference_id: str) -> bool:
        """Cancels ShipBob's order of that reference (Get Orders by `ReferenceIds`, then Cancel
        Order); False when ShipBob has none, so there is nothing to cancel. A refusal (the
        order is past a cancellable state) raises `ShipBobRefused`."""
        async with self._client(node) as http:
            params = {"ReferenceIds": reference_id}
            response = await self._send(http, "GET", f"/{API_VERSION}/order", params=params)
            self._raise_for(response)
            found = _json(response)
            # A list, as ShipBob's Get Orders answers; a page of `items` is taken too.
            orders = found.get("items") if isinstance(found, dict) else found
            ids = [
                o["id"]
                for o in (orders if isinstance(orders, list) else [])
                if isinstance(o, dict) and o.get("reference_id") == reference_id and o.get("id")
            ]
            for order_id in ids:
                path = f"/{API_VERSION}/order/{int(order_id)}:cancel"
                self._raise_for(await self._send(http, "POST", path))
        return bool(ids)

    async def on_hand(self, node: Node) -> dict[str, int]:
        """SKU -> on-hand units at the node's fulfillment centre, every page followed (up to
        MAX_PAGES)."""
        levels: dict[str, int] = {}
        params: dict[str, Any] | None = {
            "LocationId": node.fulfillment_center_id,
            "PageSize": PAGE_SIZE,
        }
        path = f"/{API_VERSION}/inventory-level/locations"
        async with self._client(node) as http:
            for _ in range(MAX_PAGES):
                response = await self._send(http, "GET", path, params=params)
                self._raise_for(response)
                page = _json(response)
                for sku, units in on_hand_at(page, node.fulfillment_center_id).items():
                    levels[sku] = levels.get(sku, 0) + units
                following = str(page.get("next") or "") if isinstance(page, dict) else ""
                # Only a page of the same API: the token goes nowhere else.
                if following.startswith(node.base_url + "/"):
                    following = following.removeprefix(node.base_url)
                if not following.startswith("/"):
                    break
                path, params = following, None
        return levels

    def _client(self, node: Node) -> httpx.AsyncClient:
        headers = {
            "Authorization": f"Bearer {node.api_token}",
            "shipbob_channel_id": node.shipbob_channel_id,
        }
        # A client per call, as the other platforms do: nothing to close at shutdown.
        return httpx.AsyncClient(base_url=node.base_url, headers=headers)

    async def _send(
        self, http: httpx.AsyncClient, method: str, path: str, **options: Any
    ) -> httpx.Response:
        try:
            async with asyncio.timeout(CALL_SECONDS):
                return await http.request(method, path, **options)
        except (httpx.HTTPError, TimeoutError) as error:
            raise ShipBobUnavailable(f"ShipBob unreachable: {error!r}"[:300]) from None

    def _raise_for(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 429 or status >= 500:
            raise ShipBobUnavailable(f"ShipBob answered {status}")
        if status >= 400:
            raise ShipBobRefused(f"ShipBob refused ({status}): {response.text[:300]}")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ShipBobUnavailable("ShipBob answered something other than JSON") from None
