"""Status updates owed to returns platforms: each is written PENDING in the unit of work of the
return's change (received, inspected, rejected), like an outbox; `PlatformNotifier` sends the
due ones through the platform's adapter, each claimed with a lease first (one conditional
update) so two replicas do not send at once, and retried with backoff while the platform is
down, so an outage delays an update but never loses it. A refusal (4xx) is not retried: the
update is FAILED with the platform's answer for an operator."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from services.kernel.db import utcnow
from services.kernel.periodic import PeriodicWorker
from services.kernel.unit_of_work import UnitOfWork
from services.returns.domain.model import PlatformConnection, PlatformUpdate, UpdateStatus
from services.returns.domain.rules import retry_delay_seconds
from services.returns.platforms import api_for, send
from services.returns.refunds import IssueOutcome, IssueResult, RetryPolicy
from services.returns.store import ReturnsStore

log = logging.getLogger(__name__)


class PlatformNotifier:
    def __init__(
        self,
        uow: UnitOfWork[ReturnsStore],
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        deadline_seconds: float = 3.0,
    ) -> None:
        self._uow = uow
        self._policy = policy or RetryPolicy()
        self._clock = clock
        self._deadline = deadline_seconds

    async def send_due(self, limit: int = 50) -> int:
        """Sends every update that is due; returns how many the platforms took."""
        async with self._uow.read() as store:
            due = await store.due_platform_updates(self._clock(), limit)
        return sum([await self.attempt(update_id) for update_id in due])

    async def attempt(self, update_id: str) -> bool:
        claim = await self._claim(update_id)
        if claim is None:
            return False
        update, attempts, connection = claim
        if connection is None:
            result = IssueResult(IssueOutcome.GIVE_UP, f"no connection {update.connection_code}")
        else:
            api = api_for(connection.platform)
            calls = api.notify(update.platform_return_id, update.kind, update.detail)
            result = await send(api, connection, calls, update.id, self._deadline)
        await self._settle(update, attempts, result)
        return result.outcome is IssueOutcome.ISSUED

    async def _claim(
        self, update_id: str
    ) -> tuple[PlatformUpdate, int, PlatformConnection | None] | None:
        now = self._clock()
        async with self._uow.write() as store:
            claimed = await store.claim_platform_update(update_id, now, now + self._policy.lease)
            if claimed is None:
                return None
            update, attempts = claimed
            return update, attempts, await store.platform_connection(update.connection_code)

    async def _settle(self, update: PlatformUpdate, attempts: int, result: IssueResult) -> None:
        now = self._clock()
        if result.outcome is IssueOutcome.ISSUED:
            status, at = UpdateStatus.SENT, now
        elif result.outcome is IssueOutcome.GIVE_UP:
            log.error("platform update %s refused: %s", update.id, result.detail)
            status, at = UpdateStatus.FAILED, None
        else:
            delay = retry_delay_seconds(
                attempts, self._policy.base_seconds, self._policy.max_seconds
            )
            log.warning(
                "platform update %s not sent (%s); retry in %.1fs", update.id, result.detail, delay
            )
            status, at = UpdateStatus.PENDING, now + timedelta(seconds=delay)
        async with self._uow.write() as store:
            await store.settle_platform_update(update.id, status, at, result.detail)


def notifier_worker(
    notifier: PlatformNotifier, interval: timedelta = timedelta(seconds=2)
) -> PeriodicWorker:
    """Sends status updates owed to returns platforms, every `interval`, until stopped."""
    return PeriodicWorker("returns platform updates", notifier.send_due, interval)
