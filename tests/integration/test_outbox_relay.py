"""Replicas share one outbox: each relays what it reads, and none may remove an event it has not
published, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import nats
from nats.js import JetStreamContext
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from launcher.embedded_nats import EmbeddedNats
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.inventory_pb2 import StockLevelChanged
from services.kernel.db import Database
from services.kernel.events import ensure_stream, stream_name
from services.kernel.migrate import KERNEL_STREAM, migrate
from services.kernel.outbox import OutboxMessage, record_event
from services.kernel.relay import OutboxRelay
from services.kernel.settings import normalize_database_url


class HeldJetStream:
    """The real JetStream behind a gate: a replica that is slow in the middle of its batch."""

    def __init__(self, jetstream: JetStreamContext) -> None:
        self._jetstream = jetstream
        self.publishing = asyncio.Event()
        self.release = asyncio.Event()

    async def publish(self, *args: Any, **kwargs: Any) -> Any:
        self.publishing.set()
        await self.release.wait()
        return await self._jetstream.publish(*args, **kwargs)


async def stored_event_ids(jetstream: JetStreamContext) -> list[str]:
    info = await jetstream.stream_info(stream_name("inventory"))
    pull = await jetstream.pull_subscribe("oms.inventory.>", stream=stream_name("inventory"))
    messages = await pull.fetch(info.state.messages, timeout=2)
    return [EventEnvelope.FromString(m.data).event_id for m in messages]


async def test_a_slow_replica_never_deletes_an_event_recorded_after_its_read(
    db_url: str, nats_server: EmbeddedNats
) -> None:
    db = Database(normalize_database_url(db_url))
    await migrate(db, [KERNEL_STREAM])
    client = await nats.connect(nats_server.url)
    try:
        jetstream = client.jetstream()
        await ensure_stream(jetstream, "inventory")
        async with db.transaction() as session:
            first = record_event(session, "inventory", StockLevelChanged(sku="A", reason="one"))
        held = HeldJetStream(jetstream)
        slow = OutboxRelay(db, cast(JetStreamContext, held), "inventory")
        fast = OutboxRelay(db, jetstream, "inventory")

        slow_batch = asyncio.create_task(slow.relay_batch())
        await asyncio.wait_for(held.publishing.wait(), 5)  # read `first`, not yet published
        assert await fast.relay_batch() == 1  # published and deleted `first`
        # On SQLite the new row takes the freed row id: what the slow replica holds.
        async with db.transaction() as session:
            second = record_event(session, "inventory", StockLevelChanged(sku="A", reason="two"))
        held.release.set()
        await asyncio.wait_for(slow_batch, 5)  # publishes `first` again (deduplicated)
        await fast.relay_batch()

        assert await stored_event_ids(jetstream) == [first.event_id, second.event_id]
    finally:
        await client.close()
        await db.dispose()


async def test_events_recorded_in_a_rolled_back_transaction_are_never_inserted(
    db_url: str,
) -> None:
    db = Database(normalize_database_url(db_url))
    await migrate(db, [KERNEL_STREAM])
    try:
        async with AsyncSession(db.engine) as session:
            await session.begin()
            record_event(session, "inventory", StockLevelChanged(sku="GONE"))
            await session.rollback()
            # The same session, used again: only what this transaction records goes in.
            await session.begin()
            record_event(session, "inventory", StockLevelChanged(sku="KEPT"))
            await session.commit()
        async with db.snapshot() as session:
            rows = (await session.exec(select(OutboxMessage.data))).all()
        skus = []
        for data in rows:
            change = StockLevelChanged()
            EventEnvelope.FromString(data).payload.Unpack(change)
            skus.append(change.sku)
        assert skus == ["KEPT"]
    finally:
        await db.dispose()
