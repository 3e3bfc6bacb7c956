"""Every process's metrics in the Prometheus format, on a plaintext port of its own
(`OMS_<PART>_METRICS_LISTEN`): counters and histograms its code moves as it works, and gauges
read from its own database only when scraped, cached for a few seconds so that scrapes stay
cheap and nothing is added to a request's path."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import DecodeError
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from oms.events.v1.envelope_pb2 import EventEnvelope
from services.kernel.db import Database
from services.kernel.dead_letters import DeadLetterRow
from services.kernel.outbox import OutboxMessage

log = logging.getLogger(__name__)

# How long a scrape's reading of the database is reused: a second Prometheus, or a person
# refreshing the page, costs no query.
CACHE_SECONDS = 5.0
# A scrape waits this long for the process's loop to read the database, then answers with
# what it read last.
READ_TIMEOUT_SECONDS = 2.0
# From a cache hit (under a millisecond) to a call that waits on its deadline (5 s).
LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

RPC_REQUESTS = Counter(
    "oms_grpc_server_requests",
    "gRPC calls handled, by method and outcome (OK, a domain error code, or a gRPC status)",
    ["method", "code"],
)
RPC_DURATION = Histogram(
    "oms_grpc_server_duration_seconds",
    "Time to handle a gRPC call, by method",
    ["method"],
    buckets=LATENCY_BUCKETS,
)
RESERVATION_CONFLICTS = Counter(
    "oms_reservation_conflicts",
    "Calls refused with INSUFFICIENT_STOCK: stock was not there to reserve",
    ["method"],
)
RELAY_PUBLISHED = Counter(
    "oms_relay_published", "Outbox rows the relay published to JetStream", ["service"]
)
EVENT_REDELIVERIES = Counter(
    "oms_event_redeliveries",
    "Events a consumer received again after a failure or a lost ack",
    ["service", "stream", "consumer"],
)
DEAD_LETTERED = Counter(
    "oms_dead_lettered",
    "Events a consumer set aside as dead letters",
    ["service", "stream", "consumer"],
)


@dataclass(frozen=True)
class Reading:
    """One gauge's value, as read from the database at scrape time."""

    name: str
    help: str
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)
    # False: the gauge is only declared (listed with no series, as when no channel exists yet).
    sampled: bool = True


def declared(name: str, help: str) -> Reading:
    """A gauge that is listed even while it has no series."""
    return Reading(name, help, 0.0, sampled=False)


# A service's own figures, read from its database (its `ServiceDefinition.gauges`).
ReadGauges = Callable[[AsyncSession], Awaitable[Iterable[Reading]]]


def stream_of(subject: str) -> str:
    """`oms.orders.order_placed` -> `OMS_ORDERS`, the stream that subject is kept on."""
    parts = subject.split(".")
    return f"OMS_{parts[1].upper()}" if len(parts) > 2 else ""


def age_seconds(since: datetime | None, now: datetime) -> float:
    if since is None:
        return 0.0
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return max(0.0, (now - since).total_seconds())


async def outbox_readings(session: AsyncSession, service: str) -> list[Reading]:
    """How many events wait in the outbox, and how long the oldest has waited."""
    count, first = (await session.exec(select(func.count(), func.min(OutboxMessage.id)))).one()
    oldest: datetime | None = None
    if first is not None:
        data = (
            await session.exec(select(OutboxMessage.data).where(OutboxMessage.id == first))
        ).first()
        try:
            oldest = EventEnvelope.FromString(data or b"").occurred_at.ToDatetime(UTC)
        except DecodeError:
            oldest = None
    labels = {"service": service}
    return [
        Reading("oms_outbox_depth", "Events recorded and not yet published", count, labels),
        Reading(
            "oms_outbox_oldest_age_seconds",
            "How long the oldest unpublished event has waited",
            age_seconds(oldest, datetime.now(UTC)),
            labels,
        ),
    ]


async def dead_letter_readings(session: AsyncSession, service: str) -> list[Reading]:
    """Dead letters not yet replayed, by the stream their event was (to be) published on."""
    rows = await session.exec(
        select(DeadLetterRow.subject, func.count())
        .where(col(DeadLetterRow.replayed_at).is_(None))
        .group_by(col(DeadLetterRow.subject))
    )
    by_stream: dict[str, int] = {}
    for subject, count in rows.all():
        by_stream[stream_of(subject)] = by_stream.get(stream_of(subject), 0) + count
    return [
        declared("oms_dead_letters", "Events set aside and not replayed, by stream"),
        *(
            Reading(
                "oms_dead_letters",
                "Events set aside and not replayed, by stream",
                count,
                {"service": service, "stream": stream},
            )
            for stream, count in sorted(by_stream.items())
        ),
    ]


class ScrapeTimeGauges(Collector):
    """Gauges read by `read` on the process's event loop when Prometheus scrapes (from the
    metrics server's thread), at most once per `CACHE_SECONDS`."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        read: Callable[[], Coroutine[Any, Any, list[Reading]]],
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self._loop = loop
        self._read = read
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._readings: list[Reading] = []
        self._read_at: float | None = None

    def describe(self) -> Iterable[Metric]:
        return []  # read only when scraped, not when registered

    def readings(self) -> list[Reading]:
        with self._lock:
            now = time.monotonic()
            if self._read_at is None or now - self._read_at >= self._cache_seconds:
                self._read_at = now
                future = asyncio.run_coroutine_threadsafe(self._read(), self._loop)
                try:
                    self._readings = future.result(READ_TIMEOUT_SECONDS)
                except Exception as error:  # the database away or slow: the last readings
                    future.cancel()
                    log.warning("metrics: could not read the gauges: %r", error)
            return self._readings

    def collect(self) -> Iterator[Metric]:
        by_name: dict[str, list[Reading]] = {}
        for reading in self.readings():
            by_name.setdefault(reading.name, []).append(reading)
        for name, readings in by_name.items():
            sampled = [reading for reading in readings if reading.sampled]
            labels = list(sampled[0].labels) if sampled else []
            family = GaugeMetricFamily(name, readings[0].help, labels=labels)
            for reading in sampled:
                family.add_metric(list(reading.labels.values()), reading.value)
            yield family


def database_gauges(
    db: Database,
    service: str,
    own: ReadGauges | None,
    more: Sequence[Callable[[], Coroutine[Any, Any, list[Reading]]]] = (),
) -> Callable[[], Coroutine[Any, Any, list[Reading]]]:
    """What a service's scrape reads: its outbox and dead letters, its own figures (`own`),
    and whatever else `more` reads (its consumers' positions on the broker)."""

    async def read() -> list[Reading]:
        async with db.snapshot() as session:
            readings = [
                *await outbox_readings(session, service),
                *await dead_letter_readings(session, service),
            ]
            if own is not None:
                readings.extend(await own(session))
        for extra in more:
            readings.extend(await extra())
        return readings

    return read


class MetricsEndpoint:
    """The plaintext HTTP server answering `GET /metrics` with this process's metrics: the
    module's counters and histograms, the process collectors, and its scrape-time gauges."""

    def __init__(self, listen: str, gauges: Collector | None = None) -> None:
        host, _, port = listen.rpartition(":")
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_Everything())
        if gauges is not None:
            self.registry.register(gauges)
        self._server, self._thread = start_http_server(
            int(port), addr=host or "0.0.0.0", registry=self.registry
        )
        self.port: int = self._server.server_port

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class _Everything(Collector):
    """The default registry's metrics (this module's, and the process's own), as one collector
    of an endpoint's registry."""

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def start_endpoint(listen: str | None, gauges: Collector | None = None) -> MetricsEndpoint | None:
    """The metrics endpoint on `listen` (`host:port`), when one is set."""
    if not listen:
        return None
    endpoint = MetricsEndpoint(listen, gauges)
    log.info("metrics at http://%s/metrics", listen)
    return endpoint
