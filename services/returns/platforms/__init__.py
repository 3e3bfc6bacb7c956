"""Returns platforms (Loop, Happy Returns, Narvar): one adapter each that checks the platform's
webhook signature, reads its "return created" payload and words its API calls (refund, status
updates); `send` makes those calls with one deadline and the refund port's outcome rules."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from services.kernel.geo import AddressToPlace
from services.returns.domain.model import (
    Platform,
    PlatformConnection,
    RefundAttempt,
    RefundPayment,
)
from services.returns.refunds import IssueOutcome, IssueResult, RefundProvider, outcome_for_status
from services.returns.store import ReturnsStore

# Units of one SKU, and lines, a platform's return may carry; more is not a return we take.
MAX_PAYLOAD_LINES = 200


@dataclass(frozen=True)
class PlatformEvent:
    """What a platform's webhook says, in our terms."""

    platform_return_id: str
    # True for "a return was created"; other topics are status updates we note.
    created: bool
    # The platform's own word for the event (its trigger, topic or status).
    topic: str
    # The order as the platform names it: its id in the sales channel (our externalId).
    order_reference: str = ""
    # (sku, units) per SKU.
    lines: tuple[tuple[str, int], ...] = ()
    # Where the customer drops the parcel off; None when the payload does not say.
    drop_off: AddressToPlace | None = None
    tracking_number: str = ""


@dataclass(frozen=True)
class ApiCall:
    """One request to the platform's API, relative to the connection's base URL."""

    method: str
    path: str
    body: Mapping[str, Any] = field(default_factory=dict)


class PlatformApi(Protocol):
    """One platform's conventions."""

    platform: Platform

    def verify(self, secret: str, signature: str, body: bytes) -> bool:
        """Whether `signature` (its header's value) signs the raw `body` with `secret`."""
        ...

    def parse(self, topic: str, payload: Mapping[str, Any]) -> PlatformEvent:
        """The event; ValueError when the payload is not the platform's shape."""
        ...

    def auth_headers(self, token: str) -> dict[str, str]: ...

    def refund(self, platform_return_id: str, payment: RefundPayment) -> list[ApiCall]:
        """The calls that refund the return on the platform (processing it)."""
        ...

    def notify(self, platform_return_id: str, kind: str, detail: str) -> list[ApiCall]:
        """The calls that tell the platform the return was RECEIVED, INSPECTED or REJECTED
        (with its fraud flags in `detail`)."""
        ...


def hmac_digest(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def base64_signature_matches(secret: str, signature: str, body: bytes) -> bool:
    expected = base64.b64encode(hmac_digest(secret, body)).decode()
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def hex_signature_matches(secret: str, signature: str, body: bytes) -> bool:
    expected = hmac_digest(secret, body).hex()
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


def text(payload: Mapping[str, Any], name: str, limit: int = 128) -> str:
    """A scalar field as bounded text ("" when absent); ValueError when it is not a scalar."""
    value = payload.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{name} is not text")
    found = str(value).strip()
    if len(found) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    return found


def objects(payload: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    """A list of objects (empty when absent), at most MAX_PAYLOAD_LINES."""
    value = payload.get(name) or []
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        raise ValueError(f"{name} is not a list of objects")
    if len(value) > MAX_PAYLOAD_LINES:
        raise ValueError(f"{name} has more than {MAX_PAYLOAD_LINES} entries")
    return value


def units_by_sku(skus: Sequence[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    totals: dict[str, int] = {}
    for sku, units in skus:
        if not sku:
            raise ValueError("a line has no SKU")
        totals[sku] = totals.get(sku, 0) + units
    return tuple(totals.items())


def address(postal_code: str, city: str, country: str) -> AddressToPlace | None:
    if not (postal_code or city):
        return None
    return AddressToPlace(None, None, postal_code, city, country)


def read_json(body: bytes) -> Mapping[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError("the body is not JSON") from error
    if not isinstance(payload, dict):
        raise ValueError("the body is not a JSON object")
    return payload


async def send(
    api: PlatformApi,
    connection: PlatformConnection,
    calls: Sequence[ApiCall],
    idempotency_key: str,
    deadline_seconds: float,
) -> IssueResult:
    """Makes the calls in turn under one deadline; ISSUED when every one was taken (2xx),
    else the first other outcome (RETRY for an outage, GIVE_UP for a refusal). Each call is
    safe to repeat: it carries `idempotency_key`, and the platforms' actions are idempotent on
    their return (processing or flagging twice is one processing or flag)."""
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": idempotency_key,
        **api.auth_headers(connection.access_token),
    }
    base = connection.api_base_url.rstrip("/")
    try:
        async with (
            asyncio.timeout(deadline_seconds),
            httpx.AsyncClient(follow_redirects=False, timeout=deadline_seconds) as client,
        ):
            for call in calls:
                response = await client.request(
                    call.method, base + call.path, json=dict(call.body), headers=headers
                )
                outcome = outcome_for_status(response.status_code)
                if response.is_redirect:
                    outcome = IssueOutcome.GIVE_UP
                if outcome is not IssueOutcome.ISSUED:
                    return IssueResult(outcome, f"HTTP {response.status_code} on {call.path}")
    except TimeoutError:
        return IssueResult(IssueOutcome.RETRY, f"no answer within {deadline_seconds:g}s")
    except httpx.HTTPError as error:
        return IssueResult(IssueOutcome.RETRY, f"{type(error).__name__}: {error}"[:300])
    return IssueResult(IssueOutcome.ISSUED, f"{len(calls)} call(s) taken")


def api_for(platform: Platform) -> PlatformApi:
    from services.returns.platforms.happy_returns import HappyReturns
    from services.returns.platforms.loop import Loop
    from services.returns.platforms.narvar import Narvar

    apis: dict[Platform, PlatformApi] = {
        Platform.LOOP: Loop(),
        Platform.HAPPY_RETURNS: HappyReturns(),
        Platform.NARVAR: Narvar(),
    }
    return apis[platform]


class PlatformRefunds:
    """The refund port over one platform connection: processes the return on the platform."""

    def __init__(self, connection: PlatformConnection, deadline_seconds: float = 3.0) -> None:
        self._connection = connection
        self._api = api_for(connection.platform)
        self._deadline = deadline_seconds

    @property
    def name(self) -> str:
        return provider_name(self._connection.platform)

    async def issue(self, payment: RefundPayment) -> IssueResult:
        calls = self._api.refund(payment.platform_return_id, payment)
        return await send(self._api, self._connection, calls, payment.refund_id, self._deadline)


def provider_name(platform: Platform) -> str:
    """The refund provider recorded for refunds paid through `platform` ("loop", ...)."""
    return platform.value.lower()


PLATFORM_PROVIDERS = frozenset(provider_name(p) for p in Platform)


class PlatformDirectory:
    """Finds the refund provider of a refund recorded for a returns platform: the connection
    its return came through, read in the claim's unit of work."""

    names = PLATFORM_PROVIDERS

    def __init__(self, deadline_seconds: float = 3.0) -> None:
        self._deadline = deadline_seconds

    async def provider(self, store: ReturnsStore, attempt: RefundAttempt) -> RefundProvider | None:
        connection = await store.platform_connection(attempt.platform_code)
        return None if connection is None else PlatformRefunds(connection, self._deadline)
