"""The outbox relay: publishes committed outbox rows to JetStream in order, with `Nats-Msg-Id`
set to the event id so a row published twice (a crash after the publish, before the delete) is
stored once, and deletes a row only after JetStream has acknowledged it. Nothing is lost while
NATS is down: rows wait. A row the broker refuses for good (too large, a bad subject) is set
aside as a dead letter in place of its outbox row, so the rows after it still flow.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from google.protobuf.message import DecodeError
from nats.errors import BadSubjectError, MaxPayloadError
from nats.js import JetStreamContext
from nats.js.errors import APIError
from sqlalchemy import bindparam, delete
from sqlmodel import col, select

from oms.events.v1.envelope_pb2 import EventEnvelope
from services.kernel import metrics, tracing
from services.kernel.db import Database
from services.kernel.dead_letters import DeadLetter, DeadLetterKind, set_aside
from services.kernel.outbox import OutboxMessage, added_events

log = logging.getLogger(__name__)
# JetStream's error code for a message over the stream's maximum size.
MESSAGE_TOO_LARGE = 10054


# Each batch of events reads and deletes with queries built once (the batch's query in the
# relay), their values parameters: built per batch, they cost more than they ran.
_DELETE_PUBLISHED = delete(OutboxMessage).where(
    col(OutboxMessage.event_id).in_(bindparam("event_ids", expanding=True))
)


def refused_for_good(error: Exception) -> bool:
    """Whether publishing failed for a reason retrying cannot change (unlike a broker that is
    away or slow): a payload over the broker's limit, a subject it cannot take."""
    if isinstance(error, MaxPayloadError | BadSubjectError):
        return True
    return isinstance(error, APIError) and error.err_code == MESSAGE_TOO_LARGE


class OutboxRelay:
    """Publishes committed outbox rows to JetStream, oldest first, until stopped."""

    def __init__(
        self,
        db: Database,
        jetstream: JetStreamContext,
        service: str,
        *,
        batch_size: int = 200,
        poll_seconds: float = 0.5,
        publish_timeout: float = 2.0,
        stuck_after_seconds: float = 60.0,
    ) -> None:
        self._db = db
        self._js = jetstream
        self._service = service
        self._batch_size = batch_size
        self._next_batch = select(OutboxMessage).order_by(col(OutboxMessage.id)).limit(batch_size)
        self._poll_seconds = poll_seconds
        self._publish_timeout = publish_timeout
        self._wake = asyncio.Event()
        self._stopping = False
        self._stuck_after = stuck_after_seconds
        # Since when every attempt to publish has failed, and why the last one did.
        self._failing_since: float | None = None
        self._last_failure = ""
        db.after_commit(self._woken_by)

    name = "outbox relay"

    def _woken_by(self, committed: dict[Any, Any]) -> None:
        # Only a commit that recorded events has anything to relay: most of what consumers
        # commit records none, and a needless look costs a transaction.
        if added_events(committed):
            self._wake.set()

    def stuck(self) -> str | None:
        """Why events have not left for a while, if they have not."""
        if self._failing_since is None:
            return None
        waited = asyncio.get_running_loop().time() - self._failing_since
        if waited < self._stuck_after:
            return None
        return f"nothing published for {waited:.0f}s: {self._last_failure}"

    async def run(self) -> None:
        backoff = 0.1
        while not self._stopping:
            try:
                relayed = await self.relay_batch()
                backoff, self._failing_since = 0.1, None
            except Exception as error:  # NATS down or slow: keep the rows, retry later.
                log.warning("outbox relay paused: %s", error)
                if self._failing_since is None:
                    self._failing_since = asyncio.get_running_loop().time()
                self._last_failure = f"{type(error).__name__}: {error}"
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
            rows = (await session.exec(self._next_batch)).all()
        # Deleted by event id, never by row id: SQLite hands a deleted row's id to the next
        # insert, so a replica finishing late would delete another replica's new event.
        published: list[str] = []
        try:
            for row in rows:
                try:
                    await self._js.publish(
                        row.subject,
                        row.data,
                        timeout=self._publish_timeout,
                        headers={
                            "Nats-Msg-Id": row.event_id,
                            **tracing.publish_headers(row.subject, row.data),
                        },
                    )
                except Exception as error:
                    if not refused_for_good(error):
                        raise  # the broker is away or slow: this row and the rest wait
                    await self._set_aside(row, error)
                    continue
                published.append(row.event_id)
        finally:
            if published:
                metrics.RELAY_PUBLISHED.labels(self._service).inc(len(published))
                async with self._db.transaction() as session:
                    await session.exec(_DELETE_PUBLISHED, params={"event_ids": published})
        return len(published)

    async def _set_aside(self, row: OutboxMessage, error: Exception) -> None:
        envelope = _readable(row.data)
        letter = DeadLetter(
            kind=DeadLetterKind.UNPUBLISHABLE,
            event_id=row.event_id,
            event_type=envelope.event_type if envelope else "",
            subject=row.subject,
            data=row.data,
            reason=f"{type(error).__name__}: {error}",
        )
        async with self._db.transaction() as session:
            set_aside(session, self._service, letter)
            await session.exec(
                delete(OutboxMessage).where(col(OutboxMessage.event_id) == row.event_id)
            )

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()


def _readable(data: bytes) -> EventEnvelope | None:
    try:
        return EventEnvelope.FromString(data)
    except DecodeError:
        return None
