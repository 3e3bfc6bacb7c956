"""Transactional outbox: events are written with the change that caused them, in the same
transaction, and published later by the relay (`relay.py`)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import Insert, event, insert
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from oms.events.v1.envelope_pb2 import EventEnvelope
from services.kernel import tracing
from services.kernel.db import utcnow
from services.kernel.proto_enums import snake_case


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=36)
    subject: str = Field(max_length=200)
    data: bytes


# The session's outbox rows not yet inserted (`Session.info` key). Present once the session has
# added any, so the commit that inserted them can be told to wake the relay.
_PENDING_ROWS = "oms.outbox.pending"


def add_to_outbox(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    """Queues outbox rows (`event_id`, `subject`, `data`) to be inserted just before the
    session's transaction commits, in the order added, in one statement: so they commit with
    the change or not at all. (An ORM row per event, built and flushed, cost a placement more
    than the insert does.)"""
    session.info.setdefault(_PENDING_ROWS, []).extend(rows)


def added_events(committed: Mapping[Any, Any]) -> bool:
    """Whether a committed session's `info` says it wrote outbox rows (the relay's wake-up)."""
    return _PENDING_ROWS in committed


@event.listens_for(Session, "before_commit")
def _insert_pending(session: Session) -> None:
    pending = session.info.get(_PENDING_ROWS)
    if pending:
        session.connection().execute(_insert_into_outbox(), pending)
        pending.clear()


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, _previous: object) -> None:
    # Rolled back with the change they announce: a session used again must not insert them.
    session.info.pop(_PENDING_ROWS, None)


def subject_for(producer: str, event_type: str) -> str:
    """`("inventory", "StockLevelChanged")` -> `"oms.inventory.stock_level_changed"`."""
    return f"oms.{producer}.{snake_case(event_type)}"


def record_event(
    session: AsyncSession, producer: str, payload: Message, subject: str = ""
) -> EventEnvelope:
    """Adds the event to the outbox in the caller's transaction (`add_to_outbox`) and returns
    its envelope; it is published on `oms.<producer>.<snake_case type>` unless `subject` says
    otherwise. A session here runs one transaction (`Database.transaction`): what a
    rolled-back one recorded goes with it."""
    occurred_at = Timestamp()
    occurred_at.FromDatetime(utcnow())
    envelope = EventEnvelope(
        event_id=str(uuid.uuid4()),
        event_type=payload.DESCRIPTOR.name,
        occurred_at=occurred_at,
        producer=producer,
    )
    envelope.payload.Pack(payload)
    tracing.record_context(envelope.trace_context)
    subject = subject or subject_for(producer, envelope.event_type)
    add_to_outbox(
        session,
        [{"event_id": envelope.event_id, "subject": subject, "data": envelope.SerializeToString()}],
    )
    return envelope


@functools.cache
def _insert_into_outbox() -> Insert:
    return insert(OutboxMessage.__table__)  # type: ignore[attr-defined]  # SQLModel does not declare it
