"""Refunds: the port to whoever pays the money back, its two adapters, and the issuer that makes
sure each refund is paid once however often it is tried.

A refund is stored PENDING in the inspection's unit of work, already leased to the inspection's
own first attempt (`first_attempt_lease`), which follows the commit at once; until it succeeds
the `refund_worker` retries it with exponential backoff — so a crash or a platform outage
delays a refund but never loses it. Every attempt first claims the refund in a unit of work of
its own (`ReturnsStore.claim_refund`: one conditional update that takes a lease), so two
replicas or the worker and the inspection do not pay at once; the provider is called once that
claim has committed, and the payment carries the refund id as its idempotency key, so an
attempt repeated after a crash (or after a lease ran out mid-call) is paid once by the
platform. ISSUED is set by a conditional update from PENDING (`ReturnsStore.mark_refund_issued`)
in the unit of work that records RefundIssued, so the transition and its event happen once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

import httpx

from oms.events.v1 import returns_pb2 as events
from services.kernel.db import utcnow
from services.kernel.periodic import PeriodicWorker
from services.kernel.unit_of_work import UnitOfWork
from services.returns.domain.model import (
    Direction,
    PlatformUpdate,
    RefundAttempt,
    RefundPayment,
    UpdateKind,
    UpdateStatus,
)
from services.returns.domain.rules import retry_delay_seconds
from services.returns.store import ReturnsStore

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-OMS-Signature"


class IssueOutcome(StrEnum):
    ISSUED = "ISSUED"
    # Worth trying again later: the platform was unreachable, busy or failing.
    RETRY = "RETRY"
    # The platform refused the request itself; trying again would be refused again.
    GIVE_UP = "GIVE_UP"


@dataclass(frozen=True)
class IssueResult:
    outcome: IssueOutcome
    detail: str = ""


class RefundProvider(Protocol):
    """Pays refunds. `issue` must be safe to repeat for one refund id (it is retried)."""

    @property
    def name(self) -> str: ...

    async def issue(self, payment: RefundPayment) -> IssueResult: ...


class LedgerRefunds:
    """Records the refund in the service's own `refund` table (the ledger): issued at once."""

    name = "ledger"

    async def issue(self, payment: RefundPayment) -> IssueResult:
        return IssueResult(IssueOutcome.ISSUED, "recorded in the refund ledger")


def outcome_for_status(status: int) -> IssueOutcome:
    """2xx pays; 5xx, 409 (the key is being processed) and 429 (slow down) are retried; any
    other answer is a refusal that retrying cannot change."""
    if 200 <= status < 300:
        return IssueOutcome.ISSUED
    if status >= 500 or status in (409, 429):
        return IssueOutcome.RETRY
    return IssueOutcome.GIVE_UP


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." followed by the raw body>`.

    The timestamp is signed with the body, so a platform that refuses requests signed more than
    a few minutes ago (the README advises five) cannot be made to pay by a replay of an
    old request; within that window the idempotency key keeps a replay from paying twice.
    """
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _bounded(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


class WebhookRefunds:
    """POSTs each refund as signed JSON to the returns platform, keyed by the refund id.

    One deadline covers the whole call (connecting, sending, the answer's status line and
    headers), so a platform that answers a byte at a time cannot hold an attempt past its lease;
    the body of the answer is never read. A redirect is not followed: a POST turned into a GET
    somewhere else proves nothing was paid, so it is a refusal for an operator to look at.
    """

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        deadline_seconds: float = 3.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self._secret = secret
        self._deadline = deadline_seconds
        self._clock = clock

    @staticmethod
    def body(payment: RefundPayment) -> bytes:
        return json.dumps(
            {
                "refund_id": payment.refund_id,
                "return_id": payment.return_id,
                "order_id": payment.order_id,
                "amount_cents": payment.amount_cents,
                "currency": payment.currency,
            },
            separators=(",", ":"),
        ).encode()

    def headers(self, payment: RefundPayment, body: bytes) -> dict[str, str]:
        """Signed afresh on every attempt, so a retry is never refused as stale."""
        return {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(self._secret, int(self._clock()), body),
            "Idempotency-Key": payment.refund_id,
        }

    async def issue(self, payment: RefundPayment) -> IssueResult:
        body = self.body(payment)
        try:
            async with asyncio.timeout(self._deadline):
                return await self._post(body, self.headers(payment, body))
        except TimeoutError:
            return IssueResult(IssueOutcome.RETRY, f"no answer within {self._deadline:g}s")
        except httpx.HTTPError as error:  # refused, reset, unreadable answer
            return IssueResult(IssueOutcome.RETRY, f"{type(error).__name__}: {error}")

    async def _post(self, body: bytes, headers: dict[str, str]) -> IssueResult:
        async with (
            httpx.AsyncClient(follow_redirects=False, timeout=self._deadline) as client,
            client.stream("POST", self._url, content=body, headers=headers) as response,
        ):
            status = response.status_code
            if response.is_redirect:
                where = _bounded(response.headers.get("location", "nowhere"))
                return IssueResult(
                    IssueOutcome.GIVE_UP, f"HTTP {status}: redirect to {where} not followed"
                )
            return IssueResult(outcome_for_status(status), f"HTTP {status}")


class ProviderDirectory(Protocol):
    """The providers a refund may be recorded for besides the default: one per returns
    platform, each paying through the connection the return came from."""

    @property
    def names(self) -> frozenset[str]: ...

    async def provider(self, store: ReturnsStore, attempt: RefundAttempt) -> RefundProvider | None:
        """The provider for the claimed attempt (None: its connection is gone)."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 2.0
    max_seconds: float = 600.0
    # How long an attempt in flight holds its refund before another may try (a crashed
    # attempt is retried after it); longer than a call to the platform may last (settings.py
    # refuses a webhook deadline that is not below it).
    lease: timedelta = field(default_factory=lambda: timedelta(seconds=30))


class RefundIssuer:
    """Attempts refunds, each through the provider it was recorded for: the return's returns
    platform when it came from one (`platforms`), else the default provider; see the module
    docstring for the guarantees.

    Only refunds recorded for these providers are attempted: a refund created under another
    default provider waits for a process configured with it rather than being paid twice two
    ways. The provider is called between units of work, never inside one.
    """

    def __init__(
        self,
        uow: UnitOfWork[ReturnsStore],
        provider: RefundProvider,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        platforms: ProviderDirectory | None = None,
    ) -> None:
        self._uow = uow
        self._provider = provider
        self._policy = policy or RetryPolicy()
        self._clock = clock
        self._platforms = platforms
        self._names = frozenset({provider.name} | (platforms.names if platforms else set()))

    @property
    def provider_name(self) -> str:
        return self._provider.name

    def first_attempt_lease(self) -> datetime:
        """When a new refund falls to the worker if its first attempt never ran (a crash)."""
        return self._clock() + self._policy.lease

    async def attempt(self, refund_id: str, first: bool = False) -> bool:
        """One try at paying the refund; True when this try issued it. The `first` try (the
        inspection's) may run before the refund is due: the refund was leased to it."""
        claim = await self._claim(refund_id, first)
        if claim is None:
            return False
        claimed, provider = claim
        if provider is None:
            result = IssueResult(IssueOutcome.GIVE_UP, f"no connection {claimed.platform_code}")
        else:
            try:
                result = await provider.issue(claimed.payment)
            except Exception as error:  # an adapter fault must not strand the refund
                log.exception("refund %s: provider failed", refund_id)
                result = IssueResult(IssueOutcome.RETRY, f"{type(error).__name__}: {error}")
        if result.outcome is IssueOutcome.ISSUED:
            return await self._mark_issued(refund_id, claimed)
        await self._postpone(refund_id, claimed, result)
        return False

    async def issue_due(self, limit: int = 50) -> int:
        """Attempts every refund whose next attempt is due; returns how many were issued."""
        async with self._uow.read() as store:
            due = await store.due_refunds(self._names, self._clock(), limit)
        return sum([await self.attempt(refund_id) for refund_id in due])

    async def _claim(
        self, refund_id: str, first: bool
    ) -> tuple[RefundAttempt, RefundProvider | None] | None:
        now = self._clock()
        async with self._uow.write() as store:
            claimed = await store.claim_refund(
                refund_id, self._names, first, now, now + self._policy.lease
            )
            if claimed is None:
                return None
            if claimed.provider == self._provider.name or self._platforms is None:
                return claimed, self._provider
            return claimed, await self._platforms.provider(store, claimed)

    async def _mark_issued(self, refund_id: str, claimed: RefundAttempt) -> bool:
        async with self._uow.write() as store:
            now = self._clock()
            refund = await store.mark_refund_issued(refund_id, now)
            if refund is None:
                return False
            if claimed.platform_code:
                # The refund call told the platform: its history shows it, nothing is owed.
                told = PlatformUpdate(
                    id=refund_id,
                    connection_code=claimed.platform_code,
                    direction=Direction.OUT,
                    kind=UpdateKind.REFUNDED.value,
                    status=UpdateStatus.SENT,
                    recorded_at=now,
                    return_id=refund.return_id,
                    platform_return_id=claimed.payment.platform_return_id,
                    detail=f"{refund.amount_cents} {refund.currency}",
                    sent_at=now,
                )
                await store.add_platform_update(told, f"out:{refund.return_id}:REFUNDED", None)
            store.record(
                events.RefundIssued(
                    return_id=refund.return_id,
                    refund_id=refund_id,
                    amount_cents=refund.amount_cents,
                    provider=refund.provider,
                )
            )
        log.info(
            "refund %s issued (%d cents via %s)", refund_id, refund.amount_cents, refund.provider
        )
        return True

    async def _postpone(self, refund_id: str, claimed: RefundAttempt, result: IssueResult) -> None:
        attempts = claimed.attempt
        if result.outcome is IssueOutcome.GIVE_UP:
            # Left PENDING with no next attempt: an operator looks at last_error.
            log.error("refund %s refused by %s: %s", refund_id, claimed.provider, result.detail)
            next_attempt = None
        else:
            delay = retry_delay_seconds(
                attempts, self._policy.base_seconds, self._policy.max_seconds
            )
            log.warning(
                "refund %s not issued (%s); retry in %.1fs", refund_id, result.detail, delay
            )
            next_attempt = self._clock() + timedelta(seconds=delay)
        async with self._uow.write() as store:
            await store.postpone_refund(refund_id, next_attempt, result.detail)


def refund_worker(
    issuer: RefundIssuer, interval: timedelta = timedelta(seconds=2)
) -> PeriodicWorker:
    """Retries pending refunds that are due, every `interval`, until stopped."""
    return PeriodicWorker("refund retries", issuer.issue_due, interval)
