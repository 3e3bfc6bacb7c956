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
import contextlib
import json
import os
import signal
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nats.js.errors import NotFoundError
from sqlmodel import col, select

from gateway.auth import load_or_create_signing_key
from launcher.nats_access import passwords_path
from launcher.ports import free_port
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.inventory_pb2 import StockLevelChanged
from oms.events.v1.returns_pb2 import RefundIssued
from services.inventory.bootstrap import bootstrap as inventory_bootstrap
from services.inventory.store import SqlInventoryStore
from services.inventory.tables import ReservationRow, StockMovementRow
from services.kernel import events
from services.kernel.caller import Role
from services.kernel.db import Database
from services.kernel.events import stream_name, unpack
from services.kernel.outbox import subject_for
from services.kernel.settings import nats_url, normalize_database_url
from services.kernel.unit_of_work import SqlUnitOfWork
from services.orders.store import OrderRow
from services.returns.store import RefundRow
from tests.e2e.test_launcher import RunningOms
from tests.gauntlet.load import (
    HUB,
    SKUS,
    Shop,
    Told,
    adjust_stock,
    cancel_orders,
    every_order,
    place_orders,
    return_orders,
    until,
)
from tests.support.contract import operation
from tests.support.graphql import GraphQLClient
from tests.support.refund_platform import FakePlatform
from tests.support.stock import seed

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
PLACES = {
    "DC-LIS": ("DISTRIBUTION_CENTER", 38.72, -9.14),
    "STORE-BER": ("STORE", 52.53, 13.41),
    HUB: ("RETURN_HUB", 52.50, 13.45),
}


def chaos_env(platform: FakePlatform) -> dict[str, str]:
    """Quick restarts and recoveries, and refunds through the fake platform."""
    return {
        "OMS_RESTART_DELAY_SECONDS": "0.2",
        # Longer than a placement's gRPC deadlines (5 s), as the setting requires.
        "OMS_ORDERS_RECOVERY_AFTER_SECONDS": "8",
        "OMS_REFUND_PROVIDER": "webhook",
        "OMS_REFUND_WEBHOOK_URL": platform.url,
        "OMS_REFUND_WEBHOOK_SECRET": platform.secret,
        "OMS_REFUND_WEBHOOK_TIMEOUT_SECONDS": "2",
        "OMS_REFUND_LEASE_SECONDS": "5",
        "OMS_REFUND_RETRY_BASE_SECONDS": "0.2",
        "OMS_REFUND_RETRY_MAX_SECONDS": "2",
        "OMS_REFUND_WORKER_INTERVAL_SECONDS": "0.5",
    }


@dataclass
class Run:
    running: RunningOms
    data_dir: Path
    platform: FakePlatform
    shop: Shop

    def database(self, service: str) -> Database:
        return Database(normalize_database_url(f"sqlite:///{self.data_dir / service}.sqlite"))


@pytest.fixture
async def run(tmp_path: Path) -> AsyncIterator[Run]:
    platform = FakePlatform(free_port(), lose_every_nth_answer=3)
    await platform.start()
    data_dir = tmp_path / "data"
    running = RunningOms(data_dir, free_port(), chaos_env(platform))
    try:
        await asyncio.to_thread(running.wait_ready)
        key = load_or_create_signing_key(data_dir)
        async with GraphQLClient(running.base_url, key, timeout=15) as graphql:
            stock = {(sku, at): 400 for sku in SKUS for at in ("DC-LIS", "STORE-BER")}
            await seed(graphql, PLACES, SKUS, stock)
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


async def events_on_stream(run: Run, producer: str, event_type: str) -> list[EventEnvelope]:
    """Every copy of the event type on the producer's stream, duplicates included (read as
    the producer: the broker lets each service read its own stream only)."""
    login = {"OMS_NATS_URL": run.running.parts["nats"].address, "OMS_NATS_USER": producer}
    login["OMS_NATS_PASSWORD"] = nats_passwords(run.data_dir)[producer]
    client = await events.connect(nats_url(login), f"oms-{producer}")
    try:
        js = client.jetstream()
        state = (await js.stream_info(stream_name(producer))).state
        subject = subject_for(producer, event_type)
        found = []
        for seq in range(state.first_seq, state.last_seq + 1):
            with contextlib.suppress(NotFoundError):  # a gap: a message deleted by the server
                message = await js.get_msg(stream_name(producer), seq)
                if message.subject == subject and message.data:
                    found.append(EventEnvelope.FromString(message.data))
        return found
    finally:
        await client.close()


def nats_passwords(data_dir: Path) -> dict[str, str]:
    passwords: dict[str, str] = json.loads(passwords_path(data_dir).read_text())
    return passwords


def once_each(envelopes: list[EventEnvelope]) -> list[EventEnvelope]:
    """One envelope per event id: a copy published twice under one id is one event."""
    return list({envelope.event_id: envelope for envelope in envelopes}.values())


async def ledger_movement_ids(run: Run) -> list[int]:
    db = run.database("inventory")
    try:
        async with db.snapshot() as session:
            query = select(StockMovementRow.id).order_by(col(StockMovementRow.id))
            return [movement for movement in (await session.exec(query)).all() if movement]
    finally:
        await db.dispose()


async def movements_announced(run: Run) -> Counter[int]:
    """How many distinct StockLevelChanged events name each ledger movement."""
    envelopes = once_each(await events_on_stream(run, "inventory", "StockLevelChanged"))
    return Counter(unpack(e, StockLevelChanged).movement_id for e in envelopes)


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

    # Refunds: each verified return paid once, each withheld one never.
    async def refunds_settled() -> bool:
        for return_id, expected in told.inspected.items():
            answer = await shop.settled(
                "reading a return", Role.BACKOFFICE, operation("Return"), {"id": return_id}
            )
            assert answer.data is not None
            if answer.data["return"]["refund"]["status"] != expected:
                return False
        return True

    await until(refunds_settled, "every refund issued or withheld as inspected")

    # Events: every ledger movement announced exactly once, none missing.
    async def all_announced() -> bool:
        return set(await movements_announced(run)) >= set(await ledger_movement_ids(run))

    await until(all_announced, "every ledger movement on the stream")
    announced, ledger = await movements_announced(run), await ledger_movement_ids(run)
    doubled = {movement: n for movement, n in announced.items() if n > 1}
    assert not doubled, f"movements announced more than once: {doubled}"
    assert sorted(announced) == ledger, "announced movements that are not in the ledger"

    refund_events = once_each(await events_on_stream(run, "returns", "RefundIssued"))
    orders_seen = await every_order(shop)
    assert run.running.terminate() == 0, run.running.output

    # Orders: the ones the clients were told about, each once; nothing else.
    by_external_id = Counter(order["externalId"] for order in orders_seen)
    assert {e: n for e, n in by_external_id.items() if n > 1} == {}
    assert {o["externalId"]: o["id"] for o in orders_seen} == told.placed
    db = run.database("orders")
    async with db.snapshot() as session:
        stored = {row.id: row for row in (await session.exec(select(OrderRow))).all()}
    await db.dispose()
    assert {row.external_id: row.id for row in stored.values()} == told.placed
    assert {i for i, row in stored.items() if row.status == "CANCELLED"} == told.cancelled
    assert not told.refused.keys() & set(by_external_id)

    # Reservations: none held for an order that is missing or cancelled, none lost by a live one.
    db = run.database("inventory")
    async with db.snapshot() as session:
        reservations = (await session.exec(select(ReservationRow))).all()
    held = {r.key for r in reservations if r.holder_type == "order" and r.status == "HELD"}
    assert held <= set(stored), f"held for orders that do not exist: {held - set(stored)}"
    assert not held & told.cancelled, f"held for cancelled orders: {held & told.cancelled}"
    allocated = {i for i, row in stored.items() if row.status == "ALLOCATED"}
    assert allocated <= held, f"allocated orders holding nothing: {allocated - held}"
    # The ledger replays to the stored levels.
    assert (
        await inventory_bootstrap(SqlUnitOfWork(db, SqlInventoryStore)).ledger_discrepancies() == []
    )
    await db.dispose()

    # Refunds: one per return, paid once by the platform, announced once.
    db = run.database("returns")
    async with db.snapshot() as session:
        refunds = {row.id: row for row in (await session.exec(select(RefundRow))).all()}
    await db.dispose()
    assert set(run.platform.payments) <= set(refunds), "paid a refund the service never made"
    paid_by_return = Counter(refunds[key].return_id for key in run.platform.payments)
    assert {r: n for r, n in paid_by_return.items() if n > 1} == {}
    expected_paid = {r for r, status in told.inspected.items() if status == "ISSUED"}
    assert set(paid_by_return) == expected_paid
    issued = Counter(unpack(e, RefundIssued).return_id for e in refund_events)
    assert issued == Counter(expected_paid), "RefundIssued once per paid refund"
