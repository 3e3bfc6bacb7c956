"""The unit of work every use case runs in: one transaction over its service's store, which
commits the state change and the events it records together, or neither.

A service defines its store port (`store.py`: the queries and statements its use cases need, as
methods in the business's words) and implements it over SQL by extending `SqlStore`. Its
bootstrap takes any `UnitOfWork` of that port, so the same use cases run over the database in
production and over an in-memory fake in unit tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from google.protobuf.message import Message
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kernel.db import Database, UTCDateTime, insert_ignoring_conflict, utcnow
from services.kernel.dead_letters import DeadLetter, set_aside
from services.kernel.outbox import record_event


class Store(Protocol):
    """What every service's store offers beside its own queries."""

    def record(self, payload: Message) -> None:
        """Adds an event to the outbox; it is published only if the unit of work commits."""
        ...

    async def first_delivery(self, consumer: str, event_id: str) -> bool:
        """Notes that `consumer` applies `event_id` now; False when it already had (a
        redelivery), so the caller applies nothing."""
        ...

    async def set_aside(self, letter: DeadLetter) -> None:
        """Keeps an event that cannot be applied, and announces it (`dead_letters`)."""
        ...


S = TypeVar("S", bound=Store, covariant=True)


class UnitOfWork(Protocol[S]):
    """Hands a use case its store for one transaction."""

    def write(self) -> AbstractAsyncContextManager[S]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        ...

    def read(self) -> AbstractAsyncContextManager[S]:
        """A read-only snapshot; nothing done through it is kept."""
        ...


class ProcessedEvent(SQLModel, table=True):
    """Event ids a consumer has applied: the guard that makes redelivery harmless."""

    __tablename__ = "processed_event"

    consumer: str = Field(primary_key=True, max_length=100)
    event_id: str = Field(primary_key=True, max_length=36)
    processed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SqlStore:
    """The SQL side every service's store extends: a session and the kernel's two tables."""

    def __init__(self, session: AsyncSession, producer: str) -> None:
        self.session = session
        self.producer = producer

    def record(self, payload: Message) -> None:
        record_event(self.session, self.producer, payload)

    async def first_delivery(self, consumer: str, event_id: str) -> bool:
        return await insert_ignoring_conflict(
            self.session, ProcessedEvent, {"consumer": consumer, "event_id": event_id}
        )

    async def set_aside(self, letter: DeadLetter) -> None:
        set_aside(self.session, self.producer, letter)


SqlS = TypeVar("SqlS", bound=SqlStore)


class SqlUnitOfWork(Generic[SqlS]):
    """Units of work over a service's database; `store` binds its store to a session."""

    def __init__(self, db: Database, store: Callable[[AsyncSession], SqlS]) -> None:
        self.db = db
        self._store = store

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqlS]:
        async with self.db.transaction() as session:
            yield self._store(session)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlS]:
        async with self.db.snapshot() as session:
            yield self._store(session)
