"""Transactional outbox: events are written with the change that caused them, in the same
transaction, and published later by the relay (`relay.py`)."""

from __future__ import annotations

import uuid

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
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


# Noted in a session's `info` when it records an event, so its commit wakes the relay.
RECORDED_EVENTS = "oms.outbox.recorded"


def note_recorded(session: AsyncSession) -> None:
    """Notes that the session wrote outbox rows: its commit wakes the relay (`relay.py`)."""
    session.info[RECORDED_EVENTS] = True


def subject_for(producer: str, event_type: str) -> str:
    """`("inventory", "StockLevelChanged")` -> `"oms.inventory.stock_level_changed"`."""
    return f"oms.{producer}.{snake_case(event_type)}"


def record_event(
    session: AsyncSession, producer: str, payload: Message, subject: str = ""
) -> EventEnvelope:
    """Adds the event to the outbox inside the caller's transaction and returns its envelope;
    it is published on `oms.<producer>.<snake_case type>` unless `subject` says otherwise."""
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
    note_recorded(session)
    session.add(
        OutboxMessage(
            event_id=envelope.event_id,
            subject=subject or subject_for(producer, envelope.event_type),
            data=envelope.SerializeToString(),
        )
    )
    return envelope
