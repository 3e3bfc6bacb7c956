"""The cluster run: `oms up --cluster` (three NATS servers, two replicas of each service on
PostgreSQL, two gateways) under the chaos run's steady load through both gateways, while one NATS
server (the one leading the inventory stream), one replica of each service and one gateway are
killed with SIGKILL at once and kept down for a while. Meanwhile the survivors go on placing
orders and announcing stock movements; afterwards, with everything back, nothing is lost or
doubled (`tests.gauntlet.invariants`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nats.errors import Error as NatsError

from gateway.auth import load_or_create_signing_key
from launcher.ports import free_port
from services.kernel import events
from services.kernel.events import stream_name
from services.kernel.settings import SERVICE_NAMES
from tests.e2e.test_launcher import RunningOms
from tests.gauntlet.gateways import EitherGateway
from tests.gauntlet.invariants import (
    System,
    assert_nothing_lost_or_doubled,
    ledger_movement_ids,
    movements_announced,
)
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
from tests.support.databases import postgres_database
from tests.support.graphql import GraphQLClient
from tests.support.refund_platform import FakePlatform

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

NATS_SERVERS = ("nats-1", "nats-2", "nats-3")
PARTS = (*NATS_SERVERS, *(f"{p}-{n}" for p in (*SERVICE_NAMES, "gateway") for n in (1, 2)))
# How long a killed part stays down (the restart delay): what is served meanwhile, the
# survivors served.
DOWN_SECONDS = 20.0
# What the survivors must get done while the victims are down.
ORDERS_WHILE_DOWN = 10
WARM_UP_ORDERS = 10
ORDERS_AFTER_RESTARTS = 5
STOREFRONTS = 3
READY_AGAIN = re.compile(r"^oms: (\S+) is ready again \(pid \d+\)$")


@dataclass
class ClusterRun:
    running: RunningOms
    system: System
    platform: FakePlatform
    shop: Shop


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[ClusterRun]:
    platform = FakePlatform(free_port(), lose_every_nth_answer=3)
    await platform.start()
    data_dir, port = tmp_path / "data", free_port()
    with contextlib.ExitStack() as databases:
        urls = {name: databases.enter_context(postgres_database()) for name in SERVICE_NAMES}
        env = {
            **gauntlet_env(platform),
            **{f"OMS_{name.upper()}_DATABASE_URL": url for name, url in urls.items()},
            "OMS_RESTART_DELAY_SECONDS": str(DOWN_SECONDS),
            "OMS_RESTART_MAX_DELAY_SECONDS": str(DOWN_SECONDS),
        }
        running = RunningOms(data_dir, port, env, "--cluster")
        try:
            await asyncio.to_thread(running.wait_ready, PARTS)
            nats = ",".join(running.parts[name].address for name in NATS_SERVERS)
            key = load_or_create_signing_key(data_dir)
            async with (
                GraphQLClient(f"http://127.0.0.1:{port}", key, timeout=15) as first,
                GraphQLClient(f"http://127.0.0.1:{port + 1}", key, timeout=15) as second,
            ):
                await stock_the_shop(first)
                shop = Shop(EitherGateway([first, second]), Told(), asyncio.Event())
                yield ClusterRun(running, System(urls, nats, data_dir), platform, shop)
        finally:
            running.kill_all()
            await platform.stop()


async def stream_leader(system: System, producer: str) -> str:
    """The NATS server that leads the producer's stream: the one whose loss hurts most."""
    client = await events.connect(system.nats_login(producer), f"oms-{producer}")
    try:
        cluster = (await client.jetstream().stream_info(stream_name(producer))).cluster
        assert cluster is not None and cluster.leader, "the stream is not replicated"
        return cluster.leader
    finally:
        await client.close()


def kill(running: RunningOms, names: list[str]) -> None:
    for name in names:
        os.kill(running.pid_of(name), signal.SIGKILL)


def restarted(running: RunningOms) -> set[str]:
    return {name for name, _, _ in running.restarts}


async def survivors_carry_on(run: ClusterRun, victims: list[str]) -> None:
    """Orders are placed, and stock movements recorded since the kill are announced on the
    stream, before any victim is back."""
    told = run.shop.told
    placed, before = len(told.placed), set(await ledger_movement_ids(run.system))

    async def orders_placed() -> bool:
        return len(told.placed) >= placed + ORDERS_WHILE_DOWN

    await until(orders_placed, "orders placed by the survivors", DOWN_SECONDS)
    recorded = set(await ledger_movement_ids(run.system))
    assert recorded - before, "no stock moved while the victims were down"

    async def announced() -> bool:
        try:
            return set(await movements_announced(run.system)) >= recorded
        except NatsError:  # the reader's request met the election of a new stream leader
            return False

    await until(announced, "movements announced by the survivors", DOWN_SECONDS)
    assert not restarted(run.running) & set(victims), "a victim came back before the check"


async def victims_back(running: RunningOms, victims: list[str]) -> None:
    async def all_ready_again() -> bool:
        ready = {m[1] for line in running.lines if (m := READY_AGAIN.match(line))}
        return set(victims) <= ready

    await until(all_ready_again, "every victim ready again", timeout=2 * DOWN_SECONDS + 60)


async def test_the_survivors_carry_the_load_and_nothing_is_lost_or_doubled(
    cluster: ClusterRun,
) -> None:
    shop, told, running = cluster.shop, cluster.shop.told, cluster.running
    load = [
        *(asyncio.create_task(place_orders(shop, client)) for client in range(STOREFRONTS)),
        asyncio.create_task(adjust_stock(shop)),
        asyncio.create_task(cancel_orders(shop)),
        asyncio.create_task(return_orders(shop)),
    ]
    try:

        async def warmed_up() -> bool:
            return len(told.placed) >= WARM_UP_ORDERS

        await until(warmed_up, "the load to get going")
        nats_leader = await stream_leader(cluster.system, "inventory")
        victims = [nats_leader, *(f"{name}-1" for name in SERVICE_NAMES), "gateway-1"]
        kill(running, victims)
        await survivors_carry_on(cluster, victims)
        await victims_back(running, victims)
        placed = len(told.placed)

        async def placed_after_restarts() -> bool:
            return len(told.placed) >= placed + ORDERS_AFTER_RESTARTS

        await until(placed_after_restarts, "orders placed once every part is back")
    finally:
        shop.stop.set()
        # Each client settles what it was doing; a failure here is the run's finding.
        await asyncio.gather(*load)

    assert restarted(running) == set(victims), running.output
    assert told.adjustments >= 10 and told.cancelled and told.inspected, told

    async def stop_system() -> None:
        assert running.terminate() == 0, running.output

    await assert_nothing_lost_or_doubled(cluster.system, shop, cluster.platform, stop_system)
