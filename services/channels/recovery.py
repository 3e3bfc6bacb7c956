"""The worker that places (or cancels) channel orders a crash or an outage left on their way:
every order the platform sent reaches the orders service or the exception list, never nowhere."""

from __future__ import annotations

import logging
from datetime import timedelta

from services.channels.service import ChannelsService
from services.kernel.periodic import PeriodicWorker

log = logging.getLogger(__name__)

INTERVAL = timedelta(seconds=5)


def placement_worker(service: ChannelsService, stale_after: timedelta) -> PeriodicWorker:
    """On start and then every 5 seconds (every `stale_after` when that is shorter), advances
    orders PENDING or CANCELLING for longer than `stale_after` (a retry is harmless: placing and
    cancelling are idempotent in the orders service)."""

    async def advance() -> None:
        advanced = await service.advance_stale(stale_after)
        if advanced:
            log.info("advanced %d waiting channel order(s)", advanced)

    interval = min(INTERVAL, stale_after)
    return PeriodicWorker("channel order placement", advance, interval)
