"""Dead letters: events that can never be published or never be applied are set aside — kept
in the service's `dead_letter` table and announced on the `oms.dead_letters.<service>` stream —
so that the rest of the flow goes on, and an operator can see them and replay them once the
cause is fixed (`oms dead-letters`).

Two kinds: an outbox row the broker refuses for good (too large, a bad subject) is set aside by
the relay in place of its outbox row; an event a consumer cannot read, or whose handler failed
on every one of its allowed deliveries, is set aside by the consumer, which then acknowledges it
as terminated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from oms.events.v1.dead_letters_pb2 import EventSetAside
from services.kernel.db import Database, UTCDateTime, utcnow
from services.kernel.outbox import add_to_outbox, record_event

log = logging.getLogger(__name__)

STREAM_DOMAIN = "dead_letters"
MAX_REASON = 500


class DeadLetterKind(StrEnum):
    # The broker refused the outbox row for good.
    UNPUBLISHABLE = "UNPUBLISHABLE"
    # A consumer could not apply the event.
    UNAPPLIED = "UNAPPLIED"


@dataclass(frozen=True)
class DeadLetter:
    """An event set aside, with why and where it stopped."""

    kind: DeadLetterKind
    event_id: str
    event_type: str
    subject: str
    data: bytes
    reason: str
    # The durable consumer that gave up on it; empty for an unpublishable event.
    consumer: str = ""
    deliveries: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", self.reason[:MAX_REASON])


class DeadLetterRow(SQLModel, table=True):
    """The kernel's table of dead letters, in every service's database."""

    __tablename__ = "dead_letter"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    consumer: str = Field(default="", max_length=100)
    event_id: str = Field(max_length=36, index=True)
    event_type: str = Field(max_length=100)
    subject: str = Field(max_length=200)
    data: bytes
    reason: str = Field(max_length=MAX_REASON)
    deliveries: int = 0
    set_aside_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    replayed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @classmethod
    def of(cls, letter: DeadLetter) -> DeadLetterRow:
        return cls(
            kind=letter.kind.value,
            consumer=letter.consumer,
            event_id=letter.event_id,
            event_type=letter.event_type,
            subject=letter.subject,
            data=letter.data,
            reason=letter.reason,
            deliveries=letter.deliveries,
        )


def set_aside(session: AsyncSession, service: str, letter: DeadLetter) -> None:
    """Keeps the letter and records its notice, inside the caller's transaction (so the notice
    is published through the outbox like any event), and raises the operator's alert."""
    session.add(DeadLetterRow.of(letter))
    notice = EventSetAside(
        service=service,
        kind=letter.kind.value,
        consumer=letter.consumer,
        event_id=letter.event_id,
        event_type=letter.event_type,
        subject=letter.subject,
        reason=letter.reason,
        deliveries=letter.deliveries,
    )
    record_event(session, service, notice, subject=notice_subject(service))
    alert(service, letter)


def alert(service: str, letter: DeadLetter) -> None:
    """The operator's alert: one error line per letter set aside (the metrics issue adds a
    counter to watch)."""
    log.error(
        "DEAD LETTER in %s: %s %s (%s) set aside by %s after %d deliveries: %s",
        service,
        letter.kind.value,
        letter.event_type or "unreadable event",
        letter.event_id or "no id",
        letter.consumer or "the outbox relay",
        letter.deliveries,
        letter.reason,
    )


def notice_subject(service: str) -> str:
    return f"oms.{STREAM_DOMAIN}.{service}"


@dataclass(frozen=True)
class StoredDeadLetter:
    """A dead letter as the table keeps it."""

    id: int
    letter: DeadLetter
    set_aside_at: datetime
    replayed_at: datetime | None


async def dead_letters(db: Database, include_replayed: bool = False) -> list[StoredDeadLetter]:
    """The letters set aside in the database, oldest first."""
    statement = select(DeadLetterRow).order_by(col(DeadLetterRow.id))
    if not include_replayed:
        statement = statement.where(col(DeadLetterRow.replayed_at).is_(None))
    async with db.snapshot() as session:
        return [_stored(row) for row in (await session.exec(statement)).all()]


async def requeue(db: Database, letter_id: int) -> StoredDeadLetter:
    """Puts an unpublishable event back in the outbox, for the relay to try again (after the
    cause is fixed), and marks the letter replayed; both or neither."""
    async with db.transaction() as session:
        row = await _unreplayed(session, letter_id, DeadLetterKind.UNPUBLISHABLE)
        add_to_outbox(
            session, [{"event_id": row.event_id, "subject": row.subject, "data": row.data}]
        )
        row.replayed_at = utcnow()
        session.add(row)
    return _stored(row)


async def mark_replayed(db: Database, letter_id: int) -> StoredDeadLetter:
    async with db.transaction() as session:
        row = await _unreplayed(session, letter_id, DeadLetterKind.UNAPPLIED)
        row.replayed_at = utcnow()
        session.add(row)
    return _stored(row)


async def _unreplayed(session: AsyncSession, letter_id: int, kind: DeadLetterKind) -> DeadLetterRow:
    row = await session.get(DeadLetterRow, letter_id)
    if row is None or row.replayed_at is not None or row.kind != kind.value:
        raise LookupError(f"no {kind.value.lower()} dead letter {letter_id} waiting")
    return row


def _stored(row: DeadLetterRow) -> StoredDeadLetter:
    assert row.id is not None, "a stored row has its id"
    letter = DeadLetter(
        kind=DeadLetterKind(row.kind),
        event_id=row.event_id,
        event_type=row.event_type,
        subject=row.subject,
        data=row.data,
        reason=row.reason,
        consumer=row.consumer,
        deliveries=row.deliveries,
    )
    return StoredDeadLetter(row.id, letter, row.set_aside_at, row.replayed_at)
