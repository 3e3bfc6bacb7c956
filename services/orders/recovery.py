"""The worker that finishes placements a crash interrupted: completed or released, never held."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from services.orders.service import OrdersService

log = logging.getLogger(__name__)


class PlacementRecovery:
    """On start and then every `interval`, resolves placements idle longer than `stale_after`.

    `stale_after` exceeds any placement's gRPC deadlines, so a placement still in flight on
    another replica is never taken for a crashed one.
    """

    def __init__(
        self,
        service: OrdersService,
        interval: timedelta = timedelta(seconds=5),
        stale_after: timedelta = timedelta(seconds=30),
    ) -> None:
        self._service = service
        self._interval = interval.total_seconds()
        self._stale_after = stale_after
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                resolved = await self._service.recover_stale(self._stale_after)
                if resolved:
                    log.info("resolved %d interrupted placement(s)", resolved)
            except Exception as error:  # inventory away: try again next round
                log.warning("placement recovery postponed: %s", error)
            try:
                await asyncio.wait_for(self._stopping.wait(), self._interval)
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stopping.set()
