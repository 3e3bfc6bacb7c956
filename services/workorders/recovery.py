"""The worker that finishes work orders a crash left opening: opened or forgotten, never a
reservation without its work order."""

from __future__ import annotations

import logging
from datetime import timedelta

from services.kernel.periodic import PeriodicWorker
from services.workorders.service import WorkOrdersService

log = logging.getLogger(__name__)


def opening_recovery(
    service: WorkOrdersService,
    interval: timedelta = timedelta(seconds=5),
    stale_after: timedelta = timedelta(seconds=30),
) -> PeriodicWorker:
    """On start and then every `interval`, resolves work orders OPENING longer than
    `stale_after`, which exceeds any opening's gRPC deadlines (an opening still in flight on
    another replica is never taken for a crashed one)."""

    async def recover() -> None:
        resolved = await service.recover_stale(stale_after)
        if resolved:
            log.info("resolved %d interrupted work order opening(s)", resolved)

    return PeriodicWorker("work order opening recovery", recover, interval)
