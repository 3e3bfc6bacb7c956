"""The worker that finishes placements a crash interrupted: completed or released, never held."""

from __future__ import annotations

import logging
from datetime import timedelta

from services.kernel.periodic import PeriodicWorker
from services.orders.service import OrdersService

log = logging.getLogger(__name__)


def placement_recovery(
    service: OrdersService,
    interval: timedelta = timedelta(seconds=5),
    stale_after: timedelta = timedelta(seconds=30),
) -> PeriodicWorker:
    """On start and then every `interval`, resolves placements idle longer than `stale_after`.

    `stale_after` exceeds any placement's gRPC deadlines, so a placement still in flight on
    another replica is never taken for a crashed one.
    """

    async def recover() -> None:
        resolved = await service.recover_stale(stale_after)
        if resolved:
            log.info("resolved %d interrupted placement(s)", resolved)

    return PeriodicWorker("placement recovery", recover, interval)
