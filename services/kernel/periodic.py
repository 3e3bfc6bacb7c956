"""A background worker that runs one action now and then every interval, until stopped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

log = logging.getLogger(__name__)


class PeriodicWorker:
    """Runs `action` at start and then every `interval`; a failed round is logged and retried
    at the next one (the service it needs may be restarting)."""

    def __init__(
        self, name: str, action: Callable[[], Awaitable[object]], interval: timedelta
    ) -> None:
        self._name = name
        self._action = action
        self._interval = interval.total_seconds()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._action()
            except Exception as error:
                log.warning("%s postponed: %s", self._name, error)
            try:
                await asyncio.wait_for(self._stopping.wait(), self._interval)
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stopping.set()
