"""Keeps a service's background workers (outbox relay, event consumers, periodic jobs) running:
a worker that fails is restarted after a growing delay, and while any worker is down or reports
itself stuck the service answers NOT_SERVING to health checks, so its readiness shows it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)

FIRST_RESTART_DELAY_SECONDS = 0.5
LONGEST_RESTART_DELAY_SECONDS = 30.0


class Worker(Protocol):
    """A background loop owned by a service: runs until stopped."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


def worker_name(worker: Worker) -> str:
    return str(getattr(worker, "name", type(worker).__name__))


def stuck_reason(worker: Worker) -> str | None:
    """Why the worker makes no progress although it runs (a worker may say; most never are)."""
    stuck = getattr(worker, "stuck", None)
    return stuck() if callable(stuck) else None


class WorkerSupervisor:
    """Runs the workers, restarts those that fail, and reports the service's health."""

    def __init__(
        self,
        service: str,
        workers: Sequence[Worker],
        report_health: Callable[[bool], Awaitable[None]],
        check_seconds: float = 1.0,
    ) -> None:
        self._service = service
        self._workers = list(workers)
        self._report_health = report_health
        self._check_seconds = check_seconds
        self._down: set[str] = set()
        self._restarts: dict[str, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self._healthy: bool | None = None

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._keep_running(w), name=f"{self._service}:{worker_name(w)}")
            for w in self._workers
        ]
        self._watcher = asyncio.create_task(self._watch(), name=f"{self._service}:health")

    def problems(self) -> list[str]:
        """What keeps the service from being ready: workers down or stuck."""
        found = [f"{name} is down" for name in sorted(self._down)]
        for worker in self._workers:
            reason = stuck_reason(worker)
            if reason:
                found.append(f"{worker_name(worker)}: {reason}")
        return found

    def restarts(self, name: str) -> int:
        return self._restarts.get(name, 0)

    async def stop(self, grace_seconds: float) -> None:
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()  # it only reports health: nothing to finish
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        for worker in self._workers:
            worker.stop()
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _keep_running(self, worker: Worker) -> None:
        name, delay = worker_name(worker), FIRST_RESTART_DELAY_SECONDS
        while not self._stopping:
            try:
                await worker.run()
                return  # stopped on purpose
            except Exception:
                self._down.add(name)
                self._restarts[name] = self._restarts.get(name, 0) + 1
                log.exception("%s: %s failed; restarting in %.1fs", self._service, name, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, LONGEST_RESTART_DELAY_SECONDS)
            self._down.discard(name)

    async def _watch(self) -> None:
        while not self._stopping:
            healthy = not self.problems()
            if healthy != self._healthy and not self._stopping:
                if not healthy:
                    log.error("%s not ready: %s", self._service, "; ".join(self.problems()))
                await self._report_health(healthy)
                self._healthy = healthy
            await asyncio.sleep(self._check_seconds)
