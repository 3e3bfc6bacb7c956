"""The in-memory unit of work every service's fake store runs under."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from google.protobuf.message import Message

from services.kernel.dead_letters import DeadLetter


@dataclass
class MemoryData:
    """What every fake store keeps beside its service's own data."""

    # Events recorded by committed units of work, in order.
    outbox: list[Message] = field(default_factory=list)
    # (consumer, event id) pairs applied.
    processed: set[tuple[str, str]] = field(default_factory=set)
    # Events set aside.
    dead_letters: list[DeadLetter] = field(default_factory=list)


D = TypeVar("D", bound=MemoryData)
M = TypeVar("M", bound=Message)


class MemoryStore(Generic[D]):
    """The kernel half of a fake store: the outbox and the processed-event guard."""

    def __init__(self, data: D) -> None:
        self.data = data

    def record(self, payload: Message) -> None:
        self.data.outbox.append(payload)

    async def first_delivery(self, consumer: str, event_id: str) -> bool:
        if (consumer, event_id) in self.data.processed:
            return False
        self.data.processed.add((consumer, event_id))
        return True

    async def set_aside(self, letter: DeadLetter) -> None:
        self.data.dead_letters.append(letter)


S = TypeVar("S")


class MemoryUnitOfWork(Generic[S, D]):
    """A unit of work over data in memory. A write works on a copy, kept only when the use case
    returns, so a refusal midway leaves nothing behind, as a rolled-back transaction does."""

    def __init__(self, data: D, store: Callable[[D], S]) -> None:
        self.data = data
        self._store = store

    @asynccontextmanager
    async def write(self) -> AsyncIterator[S]:
        draft = copy.deepcopy(self.data)
        yield self._store(draft)
        self.data = draft

    @asynccontextmanager
    async def read(self) -> AsyncIterator[S]:
        yield self._store(copy.deepcopy(self.data))

    def published(self, payload_type: type[M]) -> list[M]:
        """The committed events of one type, in order."""
        return [event for event in self.data.outbox if isinstance(event, payload_type)]
