"""A service's workers are kept running: one that fails is restarted, and while it is down, or
while a worker says it is stuck, the service reports itself not ready."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from services.kernel import supervision
from services.kernel.supervision import WorkerSupervisor


class Flaky:
    """Fails its first run, then runs until stopped."""

    name = "flaky"

    def __init__(self) -> None:
        self.runs = 0
        self._stopped = asyncio.Event()

    async def run(self) -> None:
        self.runs += 1
        if self.runs == 1:
            raise RuntimeError("lost its connection")
        await self._stopped.wait()

    def stop(self) -> None:
        self._stopped.set()


class Stuck(Flaky):
    name = "stuck"

    def __init__(self) -> None:
        super().__init__()
        self.runs = 1  # never fails
        self.reason: str | None = "nothing published for 90s"

    def stuck(self) -> str | None:
        return self.reason


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_failed_worker_is_restarted_and_readiness_follows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(supervision, "FIRST_RESTART_DELAY_SECONDS", 0.2)
    reported: list[bool] = []

    async def report(healthy: bool) -> None:
        reported.append(healthy)

    flaky = Flaky()
    workers = WorkerSupervisor("svc", [flaky], report, check_seconds=0.01)
    workers.start()
    await until(lambda: flaky.runs == 2)
    assert workers.restarts("flaky") == 1
    await until(lambda: reported[-1:] == [True])
    # While it was down, the service said so; then it came back.
    assert False in reported and reported[-1] is True
    assert workers.problems() == []
    await workers.stop(1.0)


async def test_a_stuck_worker_makes_the_service_not_ready_until_it_moves() -> None:
    reported: list[bool] = []

    async def report(healthy: bool) -> None:
        reported.append(healthy)

    stuck = Stuck()
    workers = WorkerSupervisor("svc", [stuck], report, check_seconds=0.01)
    workers.start()
    await until(lambda: reported == [False])
    assert workers.problems() == ["stuck: nothing published for 90s"]
    stuck.reason = None
    await until(lambda: reported == [False, True])
    await workers.stop(1.0)
