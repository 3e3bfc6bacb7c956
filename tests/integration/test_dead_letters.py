"""The event path cannot jam, on SQLite and PostgreSQL: an event the broker refuses for good, an
unreadable message and a handler that keeps failing are each set aside as a dead letter (kept,
announced on the dead-letter stream, replayable) while every other event flows on."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext
from sqlmodel import select

from launcher.dead_letters import replay
from launcher.embedded_nats import EmbeddedNats
from oms.events.v1.dead_letters_pb2 import EventSetAside
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.inventory_pb2 import StockLevelChanged
from oms.events.v1.returns_pb2 import InspectedUnits, ReturnInspected, ReturnReceived, ReturnUnits
from oms.inventory.v1 import inventory_pb2 as inv
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from oms.returns.v1 import returns_pb2 as rpb
from services.inventory.bootstrap import SERVICE as INVENTORY
from services.kernel.db import Database
from services.kernel.dead_letters import DeadLetterKind, dead_letters, requeue
from services.kernel.events import ensure_stream, stream_name, unpack
from services.kernel.migrate import KERNEL_STREAM, migrate
from services.kernel.outbox import OutboxMessage, record_event
from services.kernel.relay import OutboxRelay
from services.kernel.settings import ServiceSettings, normalize_database_url
from tests.integration.conftest import InventoryClient, event_envelope, eventually, publish_event
from tests.support.services import running_service

HUB = "HUB-BER"


@pytest.fixture
async def jetstream(nats_server: EmbeddedNats) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(nats_server.url)
    js = client.jetstream()
    for domain in ("returns", "inventory", "dead_letters"):
        await ensure_stream(js, domain)
    try:
        yield js
    finally:
        await client.close()


async def seed(stub: InventoryClient) -> None:
    await stub.UpsertLocation(
        inv.UpsertLocationRequest(
            code=HUB, name=HUB, kind=inv.LOCATION_KIND_RETURN_HUB, latitude=52.5, longitude=13.4
        )
    )
    await stub.UpsertSku(
        inv.UpsertSkuRequest(code="PHONE", title="Phone", unit_cost_cents=1, weight_grams=1)
    )


async def pending_inspection(stub: InventoryClient) -> int:
    reply = await stub.GetStockLevels(inv.GetStockLevelsRequest(skus=["PHONE"]))
    return sum(level.pending_inspection for level in reply.levels)


def received(return_id: str, units: int) -> EventEnvelope:
    lines = [ReturnUnits(sku="PHONE", quantity=units)]
    return event_envelope(
        "returns", ReturnReceived(return_id=return_id, location_code=HUB, lines=lines)
    )


async def test_unreadable_events_are_set_aside_and_the_stream_flows_on(
    db_url: str, nats_server: EmbeddedNats, jetstream: JetStreamContext
) -> None:
    async with running_service(
        INVENTORY, InventoryServiceStub, db_url, nats_server.url
    ) as inventory:
        await seed(inventory.stub)
        # Not an envelope at all, then an envelope whose payload is not what it says.
        await jetstream.publish("oms.returns.return_received", b"\xff\x00not protobuf")
        liar = EventEnvelope(
            event_id=str(uuid.uuid4()), event_type="ReturnReceived", producer="returns"
        )
        liar.payload.Pack(StockLevelChanged(sku="PHONE"))
        await publish_event(jetstream, liar)
        await publish_event(jetstream, received("R1", 2))

        async def applied() -> bool:
            return await pending_inspection(inventory.stub) == 2

        await eventually(applied, what="the readable event applied after the unreadable ones")
        letters = await dead_letters(inventory.running.db)
        assert [(s.letter.kind, s.letter.consumer, s.letter.event_id) for s in letters] == [
            (DeadLetterKind.UNAPPLIED, "inventory-returns", ""),
            (DeadLetterKind.UNAPPLIED, "inventory-returns", liar.event_id),
        ]
        assert "unreadable envelope" in letters[0].letter.reason
        assert letters[0].letter.data == b"\xff\x00not protobuf"
        assert "is not a ReturnReceived" in letters[1].letter.reason
        # The consumer kept running and the service stayed ready.
        assert inventory.running.workers.problems() == []

        async def announced() -> bool:
            return await dead_letter_notice_count(jetstream) == 2

        await eventually(announced, what="both notices on the dead-letter stream")
        kinds = [notice.kind for notice in await notices(jetstream)]
        assert kinds == ["UNAPPLIED", "UNAPPLIED"]


async def dead_letter_notice_count(js: JetStreamContext) -> int:
    info = await js.stream_info(stream_name("dead_letters"))
    return int(info.state.messages)


async def notices(js: JetStreamContext) -> list[EventSetAside]:
    """The notices on the dead-letter stream so far."""
    pull = await js.pull_subscribe("oms.dead_letters.>", stream=stream_name("dead_letters"))
    try:
        messages = await pull.fetch(50, timeout=1)
    finally:
        await pull.unsubscribe()
    return [unpack(EventEnvelope.FromString(m.data), EventSetAside) for m in messages]


async def test_a_handler_that_keeps_failing_is_set_aside_then_replayed_once_fixed(
    db_url: str, nats_server: EmbeddedNats, jetstream: JetStreamContext, tmp_path: Path
) -> None:
    inspected = ReturnInspected(
        return_id="R9",
        location_code=HUB,
        lines=[
            InspectedUnits(
                sku="PHONE",
                quantity=1,
                grade=rpb.GRADE_NEW,
                disposition=rpb.DISPOSITION_RESTOCK,
            )
        ],
    )
    envelope = event_envelope("returns", inspected)
    async with running_service(
        INVENTORY, InventoryServiceStub, db_url, nats_server.url, max_deliveries=2
    ) as inventory:
        await seed(inventory.stub)
        # Inspected before it was received: no unit waits for inspection, so it cannot apply.
        await publish_event(jetstream, envelope)

        async def set_aside() -> bool:
            return len(await dead_letters(inventory.running.db)) == 1

        await eventually(set_aside, what="the failing event to be set aside")
        [stored] = await dead_letters(inventory.running.db)
        assert (stored.letter.kind, stored.letter.deliveries) == (DeadLetterKind.UNAPPLIED, 2)
        assert "failed 2 times" in stored.letter.reason
        # Later events still flow.
        await publish_event(jetstream, received("R9", 1))

        async def received_counted() -> bool:
            return await pending_inspection(inventory.stub) == 1

        await eventually(received_counted, what="the receipt after the failing event")
        # The cause is gone (the unit is received now): replaying applies it, once.
        env = {"OMS_INVENTORY_DATABASE_URL": db_url, "OMS_DATA_DIR": str(tmp_path)}
        assert await replay("inventory", stored.id, env) == (
            f"inventory #{stored.id}: applied by inventory-returns"
        )
        levels = await inventory.stub.GetStockLevels(inv.GetStockLevelsRequest(skus=["PHONE"]))
        assert [(x.on_hand, x.pending_inspection) for x in levels.levels] == [(1, 0)]
        assert await dead_letters(inventory.running.db) == []
        with pytest.raises(LookupError):
            await replay("inventory", stored.id, env)


async def test_an_event_the_broker_refuses_for_good_is_set_aside_and_the_rest_flow(
    db_url: str, nats_server: EmbeddedNats, jetstream: JetStreamContext
) -> None:
    db = Database(normalize_database_url(db_url))
    await migrate(db, [KERNEL_STREAM])
    too_large = StockLevelChanged(sku="PHONE", reason="x" * (1024 * 1024 + 1))
    async with db.transaction() as session:
        big = record_event(session, "inventory", too_large)
        small = record_event(session, "inventory", StockLevelChanged(sku="PHONE", reason="ok"))
    client = await nats.connect(nats_server.url)
    try:
        relay = OutboxRelay(db, client.jetstream(), "inventory")
        await relay.relay_batch()  # the large one is set aside; the small one published
        await relay.relay_batch()  # the notice of the set-aside one published
        info = await jetstream.stream_info(stream_name("inventory"))
        assert info.state.messages == 1
        pull = await jetstream.pull_subscribe("oms.inventory.>", stream="OMS_INVENTORY")
        [published] = await pull.fetch(1, timeout=2)
        assert EventEnvelope.FromString(published.data).event_id == small.event_id
        [stored] = await dead_letters(db)
        assert (stored.letter.kind, stored.letter.event_id) == (
            DeadLetterKind.UNPUBLISHABLE,
            big.event_id,
        )
        assert "MaxPayloadError" in stored.letter.reason
        assert await dead_letter_notice_count(jetstream) == 1
        async with db.snapshot() as session:
            assert (await session.exec(select(OutboxMessage))).all() == []
        # Replayed while still too large: set aside again, never blocking the outbox.
        await requeue(db, stored.id)
        await relay.relay_batch()
        assert [s.letter.event_id for s in await dead_letters(db)] == [big.event_id]
    finally:
        await client.close()
        await db.dispose()


async def test_every_stream_is_bounded_and_the_dead_letter_stream_exists(
    db_url: str, nats_server: EmbeddedNats
) -> None:
    env = {"OMS_NATS_STREAM_MAX_AGE_DAYS": "2", "OMS_NATS_STREAM_MAX_BYTES": "1000000"}
    settings = ServiceSettings.from_env("inventory", env)
    assert (settings.streams.max_age_seconds, settings.streams.max_bytes) == (2 * 86400, 1000000)
    async with running_service(INVENTORY, InventoryServiceStub, db_url, nats_server.url):
        client = await nats.connect(nats_server.url)
        try:
            js = client.jetstream()
            for name in ("OMS_INVENTORY", "OMS_DEAD_LETTERS"):
                config = (await js.stream_info(name)).config
                assert config.max_age == 7 * 86400 and config.max_bytes == 1024**3, name
        finally:
            await client.close()
