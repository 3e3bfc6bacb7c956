"""What must hold after a gauntlet run, whatever was done to the system: every order a client
was told was placed exists once and no other does, no reservation is held for a missing or
cancelled order, no refund is paid twice or withheld one paid, every ledger movement is on the
stream exactly once, and the ledger replays to the stored stock levels."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from nats.js.errors import NotFoundError
from sqlmodel import col, select

from launcher.nats_access import passwords_path
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
from tests.gauntlet.load import Shop, every_order, until
from tests.support.contract import operation
from tests.support.refund_platform import FakePlatform


@dataclass(frozen=True)
class System:
    """Where a run's data is: each service's database URL, the broker (one server or a
    cluster's, separated by commas) and the data dir that holds the NATS passwords."""

    database_urls: dict[str, str]
    nats_url: str
    data_dir: Path

    def database(self, service: str) -> Database:
        return Database(normalize_database_url(self.database_urls[service]))

    def nats_login(self, party: str) -> str:
        passwords: dict[str, str] = json.loads(passwords_path(self.data_dir).read_text())
        login = {"OMS_NATS_URL": self.nats_url, "OMS_NATS_USER": party}
        return nats_url({**login, "OMS_NATS_PASSWORD": passwords[party]})


async def events_on_stream(system: System, producer: str, event_type: str) -> list[EventEnvelope]:
    """Every copy of the event type on the producer's stream, duplicates included (read as
    the producer: the broker lets each service read its own stream only)."""
    client = await events.connect(system.nats_login(producer), f"oms-{producer}")
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


def once_each(envelopes: list[EventEnvelope]) -> list[EventEnvelope]:
    """One envelope per event id: a copy published twice under one id is one event."""
    return list({envelope.event_id: envelope for envelope in envelopes}.values())


async def ledger_movement_ids(system: System) -> list[int]:
    db = system.database("inventory")
    try:
        async with db.snapshot() as session:
            query = select(StockMovementRow.id).order_by(col(StockMovementRow.id))
            return [movement for movement in (await session.exec(query)).all() if movement]
    finally:
        await db.dispose()


async def movements_announced(system: System) -> Counter[int]:
    """How many distinct StockLevelChanged events name each ledger movement."""
    envelopes = once_each(await events_on_stream(system, "inventory", "StockLevelChanged"))
    return Counter(unpack(e, StockLevelChanged).movement_id for e in envelopes)


async def every_movement_announced(system: System) -> bool:
    return set(await movements_announced(system)) >= set(await ledger_movement_ids(system))


async def assert_nothing_lost_or_doubled(
    system: System,
    shop: Shop,
    platform: FakePlatform,
    stop_system: Callable[[], Awaitable[None]],
) -> None:
    """Waits for what the run set in motion to settle (refunds, announcements), reads what the
    clients can see, stops the system with `stop_system`, then checks the stored state."""
    told = shop.told

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
    await until(lambda: every_movement_announced(system), "every ledger movement on the stream")
    announced, ledger = await movements_announced(system), await ledger_movement_ids(system)
    doubled = {movement: n for movement, n in announced.items() if n > 1}
    assert not doubled, f"movements announced more than once: {doubled}"
    assert sorted(announced) == ledger, "announced movements that are not in the ledger"

    refund_events = once_each(await events_on_stream(system, "returns", "RefundIssued"))
    orders_seen = await every_order(shop)
    await stop_system()

    # Orders: the ones the clients were told about, each once; nothing else.
    by_external_id = Counter(order["externalId"] for order in orders_seen)
    assert {e: n for e, n in by_external_id.items() if n > 1} == {}
    assert {o["externalId"]: o["id"] for o in orders_seen} == told.placed
    db = system.database("orders")
    async with db.snapshot() as session:
        stored = {row.id: row for row in (await session.exec(select(OrderRow))).all()}
    await db.dispose()
    assert {row.external_id: row.id for row in stored.values()} == told.placed
    assert {i for i, row in stored.items() if row.status == "CANCELLED"} == told.cancelled
    assert not told.refused.keys() & set(by_external_id)

    # Reservations: none held for an order that is missing or cancelled, none lost by a live one.
    db = system.database("inventory")
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
    db = system.database("returns")
    async with db.snapshot() as session:
        refunds = {row.id: row for row in (await session.exec(select(RefundRow))).all()}
    await db.dispose()
    assert set(platform.payments) <= set(refunds), "paid a refund the service never made"
    paid_by_return = Counter(refunds[key].return_id for key in platform.payments)
    assert {r: n for r, n in paid_by_return.items() if n > 1} == {}
    expected_paid = {r for r, status in told.inspected.items() if status == "ISSUED"}
    assert set(paid_by_return) == expected_paid
    issued = Counter(unpack(e, RefundIssued).return_id for e in refund_events)
    assert issued == Counter(expected_paid), "RefundIssued once per paid refund"
