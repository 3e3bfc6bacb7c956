"""Amazon's Selling Partner API over HTTP for one seller: an LWA access token refreshed before
it expires, a token bucket per operation at Amazon's published usage plan, backoff on 429, and a
deadline on every call, so a slow or throttling Amazon holds up only its own channel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from services.channels.domain.model import AmazonAccount
from services.channels.platform_errors import MAX_REASON, refused_for_good

SP_API_NA = "https://sellingpartnerapi-na.amazon.com"
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
CALL_SECONDS = 10.0
# A token this close to its end is replaced first: a call made with it may arrive after it.
REFRESH_MARGIN_SECONDS = 60.0
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
MAX_TRIES = 5
FIRST_BACKOFF_SECONDS = 1.0


class AmazonUnavailable(Exception):
    """Amazon did not answer usefully in time (down, throttling past our patience, refusing
    our credentials): the poll stops here and the next round starts again from the watermark."""


class AmazonRefused(AmazonUnavailable):
    """Amazon refused the request itself (a 4xx but 401, 403, 408 and 429): asking again as
    it is changes nothing. A poll treats it as any fault; a confirmation is set aside."""


@dataclass(frozen=True)
class Credentials:
    lwa_client_id: str
    lwa_client_secret: str
    refresh_token: str


class TokenBucket:
    """Amazon's usage plan for one operation: `burst` calls at once, refilled at `rate` a second."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._rate, self._burst, self._clock, self._sleep = rate, burst, clock, sleep
        self._tokens, self._at = float(burst), clock()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
                self._at = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await self._sleep((1 - self._tokens) / self._rate)


def usage_plans() -> dict[str, TokenBucket]:
    """The default plans Amazon publishes: Orders API v0's getOrders 0.0167/s burst 20,
    getOrderItems 0.5/s burst 30, confirmShipment 2/s burst 10; Listings Items 2021-08-01's
    patchListingsItem 5/s burst 10."""
    return {
        "getOrders": TokenBucket(0.0167, 20),
        "getOrderItems": TokenBucket(0.5, 30),
        "confirmShipment": TokenBucket(2, 10),
        "patchListingsItem": TokenBucket(5, 10),
    }


def token_url(api_base_url: str) -> str:
    """Where access tokens come from: Login with Amazon for every Amazon endpoint (each region's
    and its sandbox); a stand-in for Amazon (a test double) serves them itself."""
    host = urlsplit(api_base_url).hostname or ""
    return LWA_TOKEN_URL if host.endswith(".amazon.com") else f"{api_base_url}/auth/o2/token"


class SellingPartnerApi:
    def __init__(
        self,
        credentials: Credentials,
        api_base_url: str = "",
        backoff_seconds: float = FIRST_BACKOFF_SECONDS,
    ) -> None:
        base = (api_base_url or SP_API_NA).rstrip("/")
        self._credentials = credentials
        self._token_url = token_url(base)
        self._http = httpx.AsyncClient(base_url=base, timeout=CALL_SECONDS)
        self._buckets = usage_plans()
        self._backoff = backoff_seconds
        self._token, self._token_ends = "", 0.0

    async def close(self) -> None:
        await self._http.aclose()

    async def get_orders(self, marketplace_id: str, updated_after: str, next_token: str) -> Any:
        params = {"MarketplaceIds": marketplace_id}
        if next_token:
            params["NextToken"] = next_token
        else:
            params["LastUpdatedAfter"] = updated_after
        return await self._call("getOrders", "/orders/v0/orders", params)

    async def get_order_items(self, amazon_order_id: str, next_token: str) -> Any:
        params = {"NextToken": next_token} if next_token else {}
        path = f"/orders/v0/orders/{quote(amazon_order_id, safe='')}/orderItems"
        return await self._call("getOrderItems", path, params)

    async def set_quantity(self, seller_id: str, marketplace_id: str, sku: str, units: int) -> bool:
        """Sets the SKU's quantity for the seller to fulfil (not FBA's) in the marketplace;
        False when Amazon refused the patch itself (a SKU not listed there, say)."""
        path = f"/listings/2021-08-01/items/{quote(seller_id, safe='')}/{quote(sku, safe='')}"
        availability = [{"fulfillment_channel_code": "DEFAULT", "quantity": max(units, 0)}]
        body = {
            # Any product type will do: the patch touches one attribute every type has.
            "productType": "PRODUCT",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": availability,
                }
            ],
        }
        params = {"marketplaceIds": marketplace_id}
        answer = await self._call("patchListingsItem", path, params, "PATCH", body)
        return isinstance(answer, dict) and answer.get("status") == "ACCEPTED"

    async def confirm_shipment(self, amazon_order_id: str, body: dict[str, Any]) -> None:
        path = f"/orders/v0/orders/{quote(amazon_order_id, safe='')}/shipmentConfirmation"
        await self._call("confirmShipment", path, {}, "POST", body)

    async def _call(
        self,
        operation: str,
        path: str,
        params: dict[str, str],
        method: str = "GET",
        body: dict[str, Any] | None = None,
    ) -> Any:
        for attempt in range(MAX_TRIES):
            await self._buckets[operation].take()
            headers = {"x-amz-access-token": await self._access_token()}
            response = await self._send(
                self._http.build_request(method, path, params=params, headers=headers, json=body)
            )
            if response.status_code == 429:
                # Throttled despite the bucket (the seller's plan is lower, or another app
                # shares it): back off, doubling each time.
                await asyncio.sleep(self._backoff * 2**attempt)
                continue
            if response.status_code == 204:  # confirmShipment's answer: nothing to read
                return None
            if refused_for_good(response.status_code):
                why = _why(response)
                raise AmazonRefused(f"{operation} answered {response.status_code}: {why}")
            if response.status_code != 200:
                raise AmazonUnavailable(f"{operation} answered {response.status_code}")
            return _json(response, operation)
        raise AmazonUnavailable(f"{operation} still throttled after {MAX_TRIES} tries")

    async def _access_token(self) -> str:
        if self._token and time.monotonic() < self._token_ends - REFRESH_MARGIN_SECONDS:
            return self._token
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._credentials.refresh_token,
            "client_id": self._credentials.lwa_client_id,
            "client_secret": self._credentials.lwa_client_secret,
        }
        asked_at = time.monotonic()
        response = await self._send(self._http.build_request("POST", self._token_url, data=form))
        if response.status_code != 200:
            raise AmazonUnavailable(f"Login with Amazon answered {response.status_code}")
        grant = _json(response, "the LWA token")
        token, expires_in = grant.get("access_token"), grant.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise AmazonUnavailable("Login with Amazon sent no access token")
        self._token, self._token_ends = token, asked_at + expires_in
        return token

    async def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            async with asyncio.timeout(CALL_SECONDS):
                response = await self._http.send(request, stream=True)
                try:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_RESPONSE_BYTES:
                            raise AmazonUnavailable("an answer larger than 4 MiB")
                finally:
                    await response.aclose()
        except (httpx.HTTPError, TimeoutError) as error:
            raise AmazonUnavailable(f"Amazon unreachable: {error!r}") from error
        return httpx.Response(response.status_code, headers=response.headers, content=bytes(body))


def _why(response: httpx.Response) -> str:
    """Amazon's reason: the messages of its error list, else the body as it came."""
    try:
        errors = response.json().get("errors")
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
    except (ValueError, AttributeError, TypeError):
        return response.text[:MAX_REASON]


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise AmazonUnavailable(f"{what} is not JSON") from None


class SellingPartnerApis:
    """One client per Amazon channel, kept across rounds so its access token and token buckets
    last, and replaced when the channel is connected with other credentials."""

    def __init__(self, backoff_seconds: float = FIRST_BACKOFF_SECONDS) -> None:
        self._backoff = backoff_seconds
        self._apis: dict[str, tuple[AmazonAccount, SellingPartnerApi]] = {}

    def of(self, account: AmazonAccount) -> SellingPartnerApi:
        known = self._apis.get(account.channel_code)
        if known is not None and _connection(known[0]) == _connection(account):
            return known[1]
        credentials = Credentials(
            account.lwa_client_id, account.lwa_client_secret, account.refresh_token
        )
        api = SellingPartnerApi(credentials, account.api_base_url, self._backoff)
        self._apis[account.channel_code] = (account, api)
        return api

    async def close(self) -> None:
        for _, api in self._apis.values():
            await api.close()


def _connection(a: AmazonAccount) -> tuple[str, ...]:
    return (a.lwa_client_id, a.lwa_client_secret, a.refresh_token, a.api_base_url)
