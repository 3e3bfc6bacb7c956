"""The event bus: NATS connection, JetStream streams, and idempotent durable consumers.

Every domain publishes on its own stream `OMS_<DOMAIN>` (subjects `oms.<domain>.>`). A consumer
is a durable pull consumer with explicit ack; it records each event id it applied in the same
unit of work as the change the event caused, so a redelivered event is applied once.

Every service handles events one way: a `Subscription` maps payload types to handlers, and a
handler takes the unit of work's store and the unpacked payload, `async (store, event) -> None`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import nats
from google.protobuf.message import DecodeError, Message
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError, ServiceUnavailableError

from oms.events.v1.envelope_pb2 import EventEnvelope
from services.kernel import metrics, tracing
from services.kernel.dead_letters import DeadLetter, DeadLetterKind
from services.kernel.pull import ContinuousPull
from services.kernel.settings import StreamSettings, nats_servers, without_password
from services.kernel.unit_of_work import Store, UnitOfWork

log = logging.getLogger(__name__)

DOMAINS = ("inventory", "orders", "returns", "procurement", "workorders", "channels")
# Long enough to cover a relay that retries after a broker restart.
DUPLICATE_WINDOW_SECONDS = 15 * 60

# How long the scrape waits for the broker's figure of one consumer's lag.
LAG_TIMEOUT_SECONDS = 1.0

# Deliveries of an event whose handler keeps failing before it is set aside: with the
# doubling delay, about three minutes of retries (a service it needs may be restarting).
DEFAULT_MAX_DELIVERIES = 10

M = TypeVar("M", bound=Message)
S = TypeVar("S", bound=Store)
# A handler's payload is the type it is registered under in its subscription.
EventHandler = Callable[[S, Any], Awaitable[None]]


def stream_name(domain: str) -> str:
    return f"OMS_{domain.upper()}"


async def connect(url: str, name: str) -> NatsClient:
    """A NATS connection that keeps reconnecting for as long as the process runs: to the next
    of `url`'s servers (a cluster's, separated by commas) when the one it uses goes away."""

    async def on_error(error: Exception) -> None:
        log.warning("nats (%s): %s", name, error)

    async def on_disconnected() -> None:
        log.warning("nats (%s): disconnected", name)

    async def on_reconnected() -> None:
        log.info("nats (%s): reconnected", name)

    return await nats.connect(
        nats_servers(url),
        name=name,
        # Replies come to inboxes under the connection's own name, so a broker that gives each
        # process a user can let it read its own replies and no one else's.
        inbox_prefix=f"_INBOX.{name}",
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.25,
        connect_timeout=2,
        error_cb=on_error,
        disconnected_cb=on_disconnected,
        reconnected_cb=on_reconnected,
    )


async def connect_patiently(url: str, name: str, patience_seconds: float = 30.0) -> NatsClient:
    """`connect`, retried while the broker is still starting (containers start in any order)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_seconds
    while True:
        try:
            return await connect(url, name)
        except Exception as error:
            if loop.time() > deadline:
                raise
            log.warning("waiting for NATS at %s: %s", without_password(url), error)
            await asyncio.sleep(0.5)


async def ensure_stream(
    js: JetStreamContext, domain: str, settings: StreamSettings | None = None
) -> None:
    """Creates the domain's stream, or brings its configuration up to date: its replicas (> 1,
    at most the cluster's size, keeps it through the loss of a node) and its retention."""
    kept = settings or StreamSettings()
    config = StreamConfig(
        name=stream_name(domain),
        subjects=[f"oms.{domain}.>"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=kept.replicas,
        max_age=kept.max_age_seconds,
        max_bytes=kept.max_bytes,
    )
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


async def ensure_stream_patiently(
    js: JetStreamContext,
    domain: str,
    settings: StreamSettings | None = None,
    patience_seconds: float = 30.0,
) -> None:
    """`ensure_stream`, retried while JetStream cannot answer yet: a restarted node of a cluster
    has no stream leader for a few seconds, and a service starting then should wait, not die."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_seconds
    while True:
        try:
            await ensure_stream(js, domain, settings)
            return
        except (
            NatsTimeoutError,
            TimeoutError,
            ServiceUnavailableError,
            NoRespondersError,
        ) as error:
            if loop.time() > deadline:
                raise
            log.warning("waiting for JetStream to create %s: %r", stream_name(domain), error)
            await asyncio.sleep(0.5)


def redelivery_delay(deliveries: int) -> float:
    """Seconds before a failed event comes back: doubling from half a second to a minute, so a
    poison event costs little while the other events of the stream keep flowing."""
    return float(min(0.5 * 2 ** max(0, deliveries - 1), 60.0))


class UnreadableEvent(Exception):
    """A message that is not the event it claims to be: no retry will make it readable."""


def unpack(envelope: EventEnvelope, payload_type: type[M]) -> M:
    payload = payload_type()
    try:
        unpacked = envelope.payload.Unpack(payload)
    except DecodeError as error:
        raise UnreadableEvent(f"event {envelope.event_id}: {error}") from error
    if not unpacked:
        raise UnreadableEvent(f"event {envelope.event_id} is not a {payload_type.__name__}")
    return payload


@dataclass(frozen=True)
class Subscription(Generic[S]):
    """What a service consumes: a durable name, a subject filter, and a handler per payload
    type (events of other types on the subject are acknowledged and passed over)."""

    durable: str
    subject: str
    handlers: Mapping[type[Message], EventHandler[S]]
    # How long JetStream waits for an ack before redelivering.
    ack_wait_seconds: float = 30.0
    # Per payload type, whether a payload needs its handler at all: one that does not is
    # acknowledged without a unit of work (most orders make nothing to order, say).
    needs: Mapping[type[Message], Callable[[Any], bool]] = field(default_factory=dict)

    def handler_for(self, event_type: str) -> tuple[type[Message], EventHandler[S]] | None:
        for payload_type, handler in self.handlers.items():
            if payload_type.DESCRIPTOR.name == event_type:
                return payload_type, handler
        return None

    def wanted(self, envelope: EventEnvelope) -> tuple[EventHandler[S], Message] | None:
        """The handler and payload of an event this subscription applies; None for one it
        passes over (a type it does not handle, a payload that needs nothing)."""
        found = self.handler_for(envelope.event_type)
        if found is None:
            return None
        payload_type, handler = found
        payload = unpack(envelope, payload_type)
        need = self.needs.get(payload_type)
        if need is not None and not need(payload):
            return None
        return handler, payload


async def apply_event(
    uow: UnitOfWork[S], subscription: Subscription[S], envelope: EventEnvelope
) -> bool:
    """Applies one event in one unit of work: the handler's changes, their events and the note
    that this consumer applied this event id commit together. False when there was nothing to
    do: an event the subscription passes over, or one applied before."""
    wanted = subscription.wanted(envelope)
    if wanted is None:
        return False
    async with uow.write() as store:
        return await apply_in(store, subscription, envelope.event_id, *wanted)


async def apply_in(
    store: S,
    subscription: Subscription[S],
    event_id: str,
    handler: EventHandler[S],
    payload: Message,
) -> bool:
    """Applies a wanted event in the caller's unit of work; False when applied before."""
    if not await store.first_delivery(subscription.durable, event_id):
        return False
    await handler(store, payload)
    return True


class EventConsumer(Generic[S]):
    """Runs one durable pull consumer until drained."""

    def __init__(
        self,
        client: NatsClient,
        uow: UnitOfWork[S],
        subscription: Subscription[S],
        batch: int = 64,
        max_deliveries: int = DEFAULT_MAX_DELIVERIES,
        service: str = "",
    ) -> None:
        self._client = client
        self._uow = uow
        self._sub = subscription
        self._batch = batch
        self._max_deliveries = max_deliveries
        self._stopping = False
        # The wait for events, cancelled by `stop` so that a stop need not wait it out.
        self._waiting: asyncio.Task[list[Msg]] | None = None
        self.name = f"consumer {subscription.durable}"
        # Its counters' labels: the service, the stream it reads, its durable name.
        self._labels = (service, stream_name(subscription.subject.split(".")[1]), self._sub.durable)
        # Since when reading has failed (the broker away), for readiness.
        self._failing_since: float | None = None
        self._last_failure = ""

    def stuck(self, after_seconds: float = 60.0) -> str | None:
        """Why no event has been fetched for a while, if so."""
        if self._failing_since is None:
            return None
        waited = asyncio.get_running_loop().time() - self._failing_since
        if waited < after_seconds:
            return None
        return f"cannot fetch for {waited:.0f}s: {self._last_failure}"

    async def run(self) -> None:
        pull: ContinuousPull | None = None
        while not self._stopping:
            try:
                if pull is None:
                    pull = self._pull()
                    await pull.open()
                self._waiting = asyncio.ensure_future(pull.next_batch())
                try:
                    messages = await self._waiting
                finally:
                    self._waiting = None
                self._failing_since = None
            except asyncio.CancelledError:
                if not self._stopping:
                    raise
                break  # a wait cut short by `stop`: what arrived is given back below
            except NotFoundError:  # the consumer was deleted: create it again
                await _closed(pull)
                pull = None
                await asyncio.sleep(0.5)
                continue
            except Exception as error:  # broker away: retry until it is back
                log.warning("consumer %s waiting: %s", self._sub.durable, error)
                if self._failing_since is None:
                    self._failing_since = asyncio.get_running_loop().time()
                self._last_failure = f"{type(error).__name__}: {error}"
                await _closed(pull)
                pull = None
                await asyncio.sleep(0.5)
                continue
            await self._apply_all(messages)
        await _closed(pull)

    def _pull(self) -> ContinuousPull:
        config = ConsumerConfig(
            name=self._sub.durable,
            durable_name=self._sub.durable,
            filter_subject=self._sub.subject,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._sub.ack_wait_seconds,
        )
        domain = self._sub.subject.split(".")[1]
        return ContinuousPull(self._client, stream_name(domain), config, self._batch)

    async def _apply_all(self, messages: Sequence[Msg]) -> None:
        """Applies what arrived together in one unit of work when every event is a first
        delivery that reads and applies cleanly (a burst then costs one commit); otherwise, or
        when that unit of work fails, one event at a time, so one bad event holds back no
        other. Events of types the subscription does not handle are acknowledged unread."""
        together = self._readable_first_deliveries(messages)
        if together is not None:
            wanted = self._wanted(together)
            # None wanted (types passed over, payloads needing nothing): acknowledged unread
            # again; several: one unit of work.
            if wanted == [] or (
                wanted is not None and len(wanted) > 1 and await self._applied_together(wanted)
            ):
                for message, envelope in together:
                    await _settle(message.ack(), envelope.event_id)
                return
        for message in messages:
            await self._apply(message)

    def _readable_first_deliveries(
        self, messages: Sequence[Msg]
    ) -> list[tuple[Msg, EventEnvelope]] | None:
        """Each message with its envelope; None unless all are first deliveries that read."""
        try:
            together = [(m, EventEnvelope.FromString(m.data)) for m in messages]
        except DecodeError:
            return None
        if any((m.metadata.num_delivered or 1) > 1 for m in messages):
            return None
        return together

    def _wanted(
        self, together: Sequence[tuple[Msg, EventEnvelope]]
    ) -> list[tuple[Msg, EventEnvelope, EventHandler[S], Message]] | None:
        """The events among these that the subscription applies, with handler and payload;
        None when one does not read as the type it claims."""
        wanted = []
        for message, envelope in together:
            try:
                found = self._sub.wanted(envelope)
            except UnreadableEvent:
                return None
            if found is not None:
                wanted.append((message, envelope, *found))
        return wanted

    async def _applied_together(
        self, wanted: Sequence[tuple[Msg, EventEnvelope, EventHandler[S], Message]]
    ) -> bool:
        try:
            async with self._uow.write() as store:
                for message, envelope, handler, payload in wanted:
                    with tracing.consuming(message.headers, envelope, self._sub.durable):
                        await apply_in(store, self._sub, envelope.event_id, handler, payload)
        except Exception:  # rolled back: each is applied, or refused, on its own instead
            log.info("consumer %s applies a batch one event at a time", self._sub.durable)
            return False
        return True

    async def _apply(self, message: Msg) -> None:
        deliveries = message.metadata.num_delivered or 1
        if deliveries > 1:
            metrics.EVENT_REDELIVERIES.labels(*self._labels).inc()
        try:
            envelope = EventEnvelope.FromString(message.data)
        except DecodeError as error:
            await self._set_aside(message, None, f"unreadable envelope: {error}", deliveries)
            return
        try:
            with tracing.consuming(message.headers, envelope, self._sub.durable):
                await apply_event(self._uow, self._sub, envelope)
        except UnreadableEvent as error:
            await self._set_aside(message, envelope, str(error), deliveries)
            return
        except Exception as error:
            log.exception("consumer %s failed on event %s", self._sub.durable, envelope.event_id)
            if deliveries >= self._max_deliveries:
                reason = f"failed {deliveries} times, last: {type(error).__name__}: {error}"
                await self._set_aside(message, envelope, reason, deliveries)
            else:
                await message.nak(delay=redelivery_delay(deliveries))
            return
        await _settle(message.ack(), envelope.event_id)

    async def _set_aside(
        self, message: Msg, envelope: EventEnvelope | None, reason: str, deliveries: int
    ) -> None:
        """Keeps the event as a dead letter and stops its redelivery; if it cannot be kept
        (the database is away), it comes back later instead."""
        letter = DeadLetter(
            kind=DeadLetterKind.UNAPPLIED,
            event_id=envelope.event_id if envelope else "",
            event_type=envelope.event_type if envelope else "",
            subject=message.subject,
            data=message.data,
            reason=reason,
            consumer=self._sub.durable,
            deliveries=deliveries,
        )
        try:
            async with self._uow.write() as store:
                await store.set_aside(letter)
        except Exception:
            log.exception("consumer %s could not set an event aside", self._sub.durable)
            await _settle(message.nak(delay=redelivery_delay(deliveries)), letter.event_id)
            return
        metrics.DEAD_LETTERED.labels(*self._labels).inc()
        await _settle(message.term(), letter.event_id)

    def stop(self) -> None:
        self._stopping = True
        if self._waiting is not None:
            self._waiting.cancel()


async def _closed(pull: ContinuousPull | None) -> None:
    """Stops reading; the events that arrived and were not applied go back to the server at
    once (a nak), instead of after the ack wait."""
    if pull is None:
        return
    try:
        for message in await pull.close():
            await _settle(message.nak(), "")
    except Exception as error:  # the connection is gone: the server redelivers after ack wait
        log.warning("closing a consumer: %s", error)


async def _settle(answer: Awaitable[None], event_id: str) -> None:
    """Sends an ack, nak or term; a lost one only means a redelivery the guard absorbs."""
    try:
        await answer
    except Exception as error:
        log.warning("answer to %s lost: %s", event_id or "an unreadable event", error)


def consumer_lag(
    js: JetStreamContext, service: str, subscriptions: Sequence[Subscription[Any]]
) -> Callable[[], Coroutine[Any, Any, list[metrics.Reading]]]:
    """Reads, from the broker, how many events each of the service's consumers has yet to
    apply (not yet delivered, or delivered and not yet acknowledged)."""

    async def one(sub: Subscription[Any]) -> metrics.Reading | None:
        stream = stream_name(sub.subject.split(".")[1])
        try:
            info = await js.consumer_info(stream, sub.durable, timeout=LAG_TIMEOUT_SECONDS)
        except Exception:  # not created yet, or the broker away: no figure this time
            return None
        return metrics.Reading(
            "oms_consumer_pending",
            "Events a consumer has not applied yet (undelivered or unacknowledged)",
            (info.num_pending or 0) + (info.num_ack_pending or 0),
            {"service": service, "stream": stream, "consumer": sub.durable},
        )

    async def read() -> list[metrics.Reading]:
        # Asked together: one after another, a broker away outlasted the scrape's deadline
        # with three consumers, and the database's figures were lost with it.
        found = await asyncio.gather(*(one(sub) for sub in subscriptions))
        return [reading for reading in found if reading is not None]

    return read
