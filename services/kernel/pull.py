"""A durable JetStream pull consumer read continuously.

nats-py's `fetch` costs a round trip per call: a "no wait" request, its "no messages" answer,
then a waiting request. A consumer fed one event at a time paid that for every event, about
four socket writes where one (the ack) is needed. Here pull requests stay outstanding: a new
one is sent while the previous ones can still deliver half a batch, so events arrive as they
are published and the requests cost a write per half batch.

The server answers each request with up to `batch` events and ends it with a status message
when it expires; a request it never answers (lost in a reconnect or a broker restart) is
given up on the client's clock shortly after its expiry, so the flow resumes within seconds.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription
from nats.js.api import ConsumerConfig, Header
from nats.js.errors import NotFoundError

# A request's life on the server: an idle consumer sends one this often.
REQUEST_EXPIRES_SECONDS = 2.0
# How long after its expiry a request whose end the server never told is given up.
LOST_AFTER_SECONDS = 0.5
# A request the server ended: expired (408), nothing to deliver (404), or ended otherwise (409:
# exceeded limits, leadership change, consumer deleted).
_ENDED = {"404", "408", "409"}


@dataclass
class _Request:
    expires_at: float
    remaining: int


class ConsumerDeleted(NotFoundError):
    """The durable consumer went away while being read: it is created again."""


class ContinuousPull:
    """Reads one durable consumer with pull requests kept outstanding; `next_batch` hands
    over what has arrived."""

    def __init__(
        self,
        client: NatsClient,
        stream: str,
        config: ConsumerConfig,
        batch: int = 64,
        expires_seconds: float = REQUEST_EXPIRES_SECONDS,
    ) -> None:
        if not config.durable_name:
            raise ValueError("a continuous pull reads a durable consumer")
        self._client = client
        self._stream = stream
        self._config = config
        self._batch = batch
        self._expires = expires_seconds
        self._arrived: asyncio.Queue[Msg] = asyncio.Queue()
        self._requests: deque[_Request] = deque()
        self._subscription: NatsSubscription | None = None
        self._inbox = ""

    async def open(self) -> None:
        """Creates the durable consumer unless it exists, and listens on an inbox of its own."""
        js = self._client.jetstream()
        durable = self._config.durable_name or ""
        try:
            await js.consumer_info(self._stream, durable)
        except NotFoundError:
            await js.add_consumer(self._stream, config=self._config)
        self._inbox = self._client.new_inbox()
        self._subscription = await self._client.subscribe(self._inbox, cb=self._arrived.put)

    async def close(self) -> list[Msg]:
        """Stops listening; returns the events that arrived and were not handed over, for the
        caller to give back."""
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None
        self._requests.clear()
        left = []
        while not self._arrived.empty():
            message = self._arrived.get_nowait()
            if _status(message) is None:
                left.append(message)
        return left

    async def next_batch(self) -> list[Msg]:
        """The events that have arrived, at most a batch, waiting for the first one until the
        outstanding requests end; empty when none came. While the connection is down it sends
        nothing (nats-py would buffer the requests and deliver them all on reconnection)."""
        if not self._client.is_connected:
            self._requests.clear()  # lost with the connection
            await asyncio.sleep(LOST_AFTER_SECONDS)
            return []
        await self._top_up()
        loop = asyncio.get_running_loop()
        wait = max(0.05, self._requests[-1].expires_at + LOST_AFTER_SECONDS - loop.time())
        try:
            first = await asyncio.wait_for(self._arrived.get(), wait)
        except TimeoutError:
            self._requests.clear()  # their ends never came: lost with a connection
            return []
        received = [first]
        while len(received) < self._batch and not self._arrived.empty():
            received.append(self._arrived.get_nowait())
        events: list[Msg] = []
        for index, message in enumerate(received):
            status = _status(message)
            if status is None:
                events.append(message)
                self._delivered()
            elif status in _ENDED:
                if _deleted(message):
                    self._requests.clear()
                    # Left for `close` to give back, as what arrived after them is.
                    for kept in [*events, *received[index + 1 :]]:
                        self._arrived.put_nowait(kept)
                    raise ConsumerDeleted(description=_description(message))
                if self._requests:
                    self._requests.popleft()
            # a heartbeat or another notice: nothing to do
        self._forget_lost(loop.time())
        return events

    async def _top_up(self) -> None:
        """Sends a request when those outstanding can deliver less than half a batch more."""
        self._forget_lost(asyncio.get_running_loop().time())
        if sum(r.remaining for r in self._requests) > self._batch // 2:
            return
        durable = self._config.durable_name
        request = {"batch": self._batch, "expires": int(self._expires * 1_000_000_000)}
        await self._client.publish(
            f"$JS.API.CONSUMER.MSG.NEXT.{self._stream}.{durable}",
            json.dumps(request).encode(),
            reply=self._inbox,
        )
        expires_at = asyncio.get_running_loop().time() + self._expires
        self._requests.append(_Request(expires_at, self._batch))

    def _delivered(self) -> None:
        # The server fills one client's requests oldest first.
        if not self._requests:
            return
        self._requests[0].remaining -= 1
        if self._requests[0].remaining <= 0:
            self._requests.popleft()

    def _forget_lost(self, now: float) -> None:
        while self._requests and self._requests[0].expires_at + LOST_AFTER_SECONDS < now:
            self._requests.popleft()


def _status(message: Msg) -> str | None:
    """The status of a notice from the server; None for an event (which has a reply subject to
    acknowledge it on)."""
    if message.reply or message.headers is None:
        return None
    return message.headers.get(Header.STATUS)


def _description(message: Msg) -> str:
    return (message.headers or {}).get(Header.DESCRIPTION, "")


def _deleted(message: Msg) -> bool:
    return "deleted" in _description(message).lower()
