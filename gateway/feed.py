"""The inventory feed: one NATS subscription per process, fanned out to every GraphQL subscriber.

Each subscriber gets its own bounded queue. When a subscriber falls behind and its queue is full,
the oldest change waiting for it is dropped: every change carries the whole stock level after
it, so the newest one is what a client needs, and one slow client never holds up the others or
the NATS connection. Changes published while NATS is unreachable are not replayed; the feed is
live, not a log (clients that need the state ask `stockLevels`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from gateway.availability import AvailabilityModel
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.inventory_pb2 import StockImported, StockLevelChanged
from services.kernel.events import unpack

log = logging.getLogger(__name__)

STOCK_LEVEL_CHANGED = "oms.inventory.stock_level_changed"
STOCK_IMPORTED = "oms.inventory.stock_imported"


@dataclass(frozen=True)
class StockChange:
    level: StockLevelChanged
    occurred_at: datetime


class _Subscriber:
    def __init__(self, skus: frozenset[str] | None, queue_size: int) -> None:
        self.skus = skus
        self.queue: asyncio.Queue[StockChange] = asyncio.Queue(queue_size)
        self.dropped = 0

    def offer(self, change: StockChange) -> None:
        if self.skus is not None and change.level.sku not in self.skus:
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(change)


class InventoryFeed:
    """Stock level changes from NATS, delivered to each subscriber of their SKU."""

    def __init__(self, queue_size: int = 256) -> None:
        # Channel availability kept from the same events (see gateway/availability.py).
        self.availability = AvailabilityModel()
        self._queue_size = queue_size
        self._subscribers: set[_Subscriber] = set()
        self._subscription: Subscription | None = None
        self._imports: Subscription | None = None

    async def start(self, nats: NatsClient) -> None:
        # Core NATS, not a JetStream consumer: subscribers want changes from now on, and the
        # stream keeps receiving them for the services whatever the gateway does.
        self._subscription = await nats.subscribe(STOCK_LEVEL_CHANGED, cb=self._on_message)
        self._imports = await nats.subscribe(STOCK_IMPORTED, cb=self._on_import)
        await self.availability.start(nats)

    async def stop(self) -> None:
        await self.availability.stop()
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None
        if self._imports is not None:
            await self._imports.unsubscribe()
            self._imports = None

    async def changes(
        self, skus: Collection[str] | None = None
    ) -> AsyncGenerator[StockChange, None]:
        """Changes of these SKUs (every SKU when None) from now until the caller stops."""
        subscriber = _Subscriber(None if skus is None else frozenset(skus), self._queue_size)
        self._subscribers.add(subscriber)
        try:
            while True:
                yield await subscriber.queue.get()
        finally:
            self._subscribers.discard(subscriber)
            if subscriber.dropped:
                log.info("subscriber fell behind: %d changes dropped", subscriber.dropped)

    def deliver(self, change: StockChange) -> None:
        for subscriber in self._subscribers:
            subscriber.offer(change)

    async def _on_message(self, message: Msg) -> None:
        try:
            envelope = EventEnvelope.FromString(message.data)
            change = StockChange(
                unpack(envelope, StockLevelChanged), envelope.occurred_at.ToDatetime(tzinfo=UTC)
            )
        except Exception as error:  # one bad message must not stop the feed
            log.warning("skipping malformed %s message: %s", STOCK_LEVEL_CHANGED, error)
            return
        self.deliver(change)

    async def _on_import(self, message: Msg) -> None:
        """A bulk import's levels, each delivered as a change of its own."""
        try:
            envelope = EventEnvelope.FromString(message.data)
            imported = unpack(envelope, StockImported)
            at = envelope.occurred_at.ToDatetime(tzinfo=UTC)
        except Exception as error:  # one bad message must not stop the feed
            log.warning("skipping malformed %s message: %s", STOCK_IMPORTED, error)
            return
        for level in imported.levels:
            self.deliver(StockChange(level, at))
