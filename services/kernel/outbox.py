"""Transactional outbox: events are written with the change that caused them and relayed later.

A use case calls `record_event` inside its write transaction; the `OutboxRelay` publishes
committed rows to JetStream in order, with `Nats-Msg-Id` set to the event id so a row published
twice (a crash after the publish, before the delete) is stored once, and deletes a row only
after JetStream has acknowledged it. Nothing is lost while NATS is down: rows wait.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from nats.js import JetStreamContext
from sqlalchemy import delete
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from oms.events.v1.envelope_pb2 import EventEnvelope
from services.kernel.db import Database, utcnow
from services.kernel.proto_enums import snake_case

log = logging.getLogger(__name__)


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=36)
    subject: str = Field(max_length=200)
    data: bytes


def subject_for(producer: str, event_type: str) -> str:
    """`("inventory", "StockLevelChanged")` -> `"oms.inventory.stock_level_changed"`."""
    return f"oms.{producer}.{snake_case(event_type)}"


def record_event(session: AsyncSession, producer: str, payload: Message) -> EventEnvelope:
    """Adds the event to the outbox inside the caller's transaction and returns its envelope."""
    occurred_at = Timestamp()
    occurred_at.FromDatetime(utcnow())
    envelope = EventEnvelope(
        event_id=str(uuid.uuid4()),
        event_type=payload.DESCRIPTOR.name,
        occurred_at=occurred_at,
        producer=producer,
    )
    envelope.payload.Pack(payload)
    session.add(
        OutboxMessage(
            event_id=envelope.event_id,
            subject=subject_for(producer, envelope.event_type),
            data=envelope.SerializeToString(),
        )
    )
    return envelope


class OutboxRelay:
    """Publishes committed outbox rows to JetStream, oldest first, until stopped."""

    def __init__(
        self,
        db: Database,
        jetstream: JetStreamContext,
        *,
        batch_size: int = 200,
        poll_seconds: float = 0.5,
        publish_timeout: float = 2.0,
    ) -> None:
        self._db = db
        self._js = jetstream
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._publish_timeout = publish_timeout
        self._wake = asyncio.Event()
        self._stopping = False
        db.after_commit(self._wake.set)

    async def run(self) -> None:
        backoff = 0.1
        while not self._stopping:
            try:
                relayed = await self.relay_batch()
                backoff = 0.1
            except Exception as error:  # NATS down or slow: keep the rows, retry later.
                log.warning("outbox relay paused: %s", error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if relayed < self._batch_size:
                await self._wait_for_work()

    async def _wait_for_work(self) -> None:
        # Woken by our own commits; the poll catches rows other replicas wrote.
        try:
            await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
        except TimeoutError:
            pass
        self._wake.clear()

    async def relay_batch(self) -> int:
        """Publishes up to one batch; returns how many rows it relayed."""
        async with self._db.snapshot() as session:
            rows = (
                await session.exec(
                    select(OutboxMessage).order_by(col(OutboxMessage.id)).limit(self._batch_size)
                )
            ).all()
        published: list[int] = []
        try:
            for row in rows:
                await self._js.publish(
                    row.subject,
                    row.data,
                    timeout=self._publish_timeout,
                    headers={"Nats-Msg-Id": row.event_id},
                )
                assert row.id is not None, "a stored row has its id"
                published.append(row.id)
        finally:
            if published:
                async with self._db.transaction() as session:
                    await session.exec(
                        delete(OutboxMessage).where(col(OutboxMessage.id).in_(published))
                    )
        return len(published)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
