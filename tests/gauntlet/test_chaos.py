"""The chaos run: `oms up` under steady load (orders placed and cancelled, stock counted, returns
shipped back, received, inspected and refunded through the returns platform's webhook, which
loses the answer to every third payment it makes) while each service, the gateway and the broker
is killed with SIGKILL in turn and brought back by `oms up`, then the broker and inventory are
frozen with SIGSTOP for 10 s each. Afterwards nothing is lost or doubled:
every order a client was told was placed exists once and no other does, no reservation is held
for a missing or cancelled order, no refund is paid twice or withheld one paid, every ledger
movement is on the stream exactly once, and the ledger replays to the stored stock levels."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.auth import load_or_create_signing_key
from launcher.ports import free_port
from services.kernel.settings import SERVICE_NAMES
from tests.e2e.test_launcher import RunningOms
from tests.gauntlet.invariants import System, assert_nothing_lost_or_doubled
from tests.gauntlet.load import (
    Shop,
    Told,
    adjust_stock,
    cancel_orders,
    place_orders,
    return_orders,
    until,
)
from tests.gauntlet.settings import gauntlet_env, stock_the_shop
from tests.support.graphql import GraphQLClient
from tests.support.refund_platform import FakePlatform

pytestmark = pytest.mark.timeout(600)

# Killed in this order, each once it is serving again after the one before.
VICTIMS = ("inventory", "orders", "returns", "workorders", "procurement", "gateway", "nats")
# Frozen in turn: the broker for longer than a publish waits for its acknowledgement (so
# every outbox relay sees its publishes fail), then the service every order goes through.
FROZEN = ("nats", "inventory")
FROZEN_SECONDS = 10.0
# Load against the whole system before the first kill and between two kills.
LOAD_BETWEEN_SECONDS = 1.5
STOREFRONTS = 3


@dataclass
class Run:
    running: RunningOms
    data_dir: Path
    platform: FakePlatform
    shop: Shop

    @property
    def system(self) -> System:
        databases = {name: f"sqlite:///{self.data_dir / name}.sqlite" for name in SERVICE_NAMES}
        return System(databases, self.running.parts["nats"].address, self.data_dir)


@pytest.fixture
async def run(tmp_path: Path) -> AsyncIterator[Run]:
    platform = FakePlatform(free_port(), lose_every_nth_answer=3)
    await platform.start()
    data_dir = tmp_path / "data"
    running = RunningOms(data_dir, free_port(), gauntlet_env(platform))
    try:
        await asyncio.to_thread(running.wait_ready)
        key = load_or_create_signing_key(data_dir)
        async with GraphQLClient(running.base_url, key, timeout=15) as graphql:
            await stock_the_shop(graphql)
            yield Run(running, data_dir, platform, Shop(graphql, Told(), asyncio.Event()))
    finally:
        running.kill_all()
        await platform.stop()


async def kill_and_wait_until_back(running: RunningOms, name: str) -> None:
    """Kills the part and waits until `oms up` says it serves again (after one restart, or
    more if a restart did not last)."""
    restarts = len(running.restarts)
    os.kill(running.pid_of(name), signal.SIGKILL)
    await asyncio.to_thread(running.wait_for_restart, name, 1)

    async def back() -> bool:
        return len(running.restarts) > restarts and any(
            line == f"oms: {name} is ready again (pid {running.pid_of(name)})"
            for line in running.lines
        )

    await until(back, f"{name} to serve again", timeout=120)


async def freeze(running: RunningOms, name: str, seconds: float) -> None:
    """A process that stops answering without dying: a long GC pause, a swapped-out VM."""
    pid = running.pid_of(name)
    os.kill(pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(seconds)
    finally:
        os.kill(pid, signal.SIGCONT)


async def chaos(run: Run) -> None:
    for name in VICTIMS:
        await asyncio.sleep(LOAD_BETWEEN_SECONDS)
        await kill_and_wait_until_back(run.running, name)
    for name in FROZEN:
        await asyncio.sleep(LOAD_BETWEEN_SECONDS)
        await freeze(run.running, name, FROZEN_SECONDS)
    await asyncio.sleep(LOAD_BETWEEN_SECONDS)


async def test_nothing_is_lost_or_doubled_when_every_part_is_killed_in_turn(run: Run) -> None:
    shop, told = run.shop, run.shop.told
    load = [
        *(asyncio.create_task(place_orders(shop, client)) for client in range(STOREFRONTS)),
        asyncio.create_task(adjust_stock(shop)),
        asyncio.create_task(cancel_orders(shop)),
        asyncio.create_task(return_orders(shop)),
    ]
    try:
        await chaos(run)
    finally:
        shop.stop.set()
        # Each client settles what it was doing; a failure here is the run's finding.
        await asyncio.gather(*load)

    output = run.running.output
    restarted = [name for name, _, _ in run.running.restarts]
    assert sorted(set(restarted), key=restarted.index) == list(VICTIMS), output
    # The run did what it says: the load went on through it.
    assert len(told.placed) >= 30 and told.cancelled and told.adjustments >= 10, told
    assert sum(1 for s in told.inspected.values() if s == "ISSUED") >= 3, told.inspected
    assert "WITHHELD" in told.inspected.values(), told.inspected

    async def stop_system() -> None:
        assert run.running.terminate() == 0, run.running.output

    await assert_nothing_lost_or_doubled(run.system, shop, run.platform, stop_system)
