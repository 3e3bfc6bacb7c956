"""The worker that places (or cancels) channel orders a crash or an outage left on their way:
every order the platform sent reaches the orders service or the exception list, never nowhere."""

from __future__ import annotations

import logging
from datetime import timedelta

from services.channels.service import ChannelsService
from services.kernel.periodic import PeriodicWorker

log = logging.getLogger(__name__)


def placement_worker(
    service: ChannelsService,
    interval: timedelta = timedelta(seconds=5),
    stale_after: timedelta = timedelta(seconds=15),
) -> PeriodicWorker:
    """On start and then every `interval`, advances orders PENDING or CANCELLING for longer than
    `stale_after` (past the orders call's deadline, so one still in flight is rarely retried —
    and a retry is harmless: placing and cancelling are idempotent in the orders service)."""

    async def advance() -> None:
        advanced = await service.advance_stale(stale_after)
        if advanced:
            log.info("advanced %d waiting channel order(s)", advanced)

    return PeriodicWorker("channel order placement", advance, interval)
