"""A service process's life: start its parts in order, serve, and stop gracefully on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
import uvloop
from nats.aio.client import Client as NatsClient
from sqlmodel import SQLModel

from services.kernel import events, logs, metrics, tracing
from services.kernel.db import Database
from services.kernel.dead_letters import STREAM_DOMAIN as DEAD_LETTERS
from services.kernel.events import EventConsumer, Subscription
from services.kernel.grpc_client import open_channel
from services.kernel.grpc_server import GrpcServer, start_grpc_server
from services.kernel.migrate import migrate, streams
from services.kernel.relay import OutboxRelay
from services.kernel.settings import ServiceSettings, grpc_target
from services.kernel.supervision import Worker, WorkerSupervisor
from services.kernel.tls import Credentials, MissingCredentials
from services.kernel.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
# Named apart: `RunningService.grpc` (the server) hides the module inside that class.
GrpcChannel = grpc.aio.Channel


@dataclass(frozen=True)
class ServiceContext:
    """What a service's parts are built from: its database, channels to the services it calls,
    and the environment its own settings are read from (once, by its `Settings.from_env`)."""

    settings: ServiceSettings
    db: Database
    channels: Mapping[str, grpc.aio.Channel]
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass(frozen=True)
class ServiceParts:
    """The concrete parts of one running service."""

    # Adds the gRPC servicers to the server.
    register_grpc: Callable[[grpc.aio.Server], None]
    # The unit of work its event consumers apply events in.
    uow: UnitOfWork[Any] | None = None
    subscriptions: Sequence[Subscription[Any]] = ()
    workers: Sequence[Worker] = ()


@dataclass(frozen=True)
class ServiceDefinition:
    """Names every concrete part of one service; `python -m services.<name>` runs it."""

    name: str
    tables: Sequence[type[SQLModel]]
    grpc_service_names: Sequence[str]
    build: Callable[[ServiceContext], ServiceParts]
    # The services it calls over gRPC.
    calls: Sequence[str] = field(default=())
    # Its own figures, read from its database when its metrics are scraped.
    gauges: metrics.ReadGauges | None = None


@dataclass
class RunningService:
    settings: ServiceSettings
    db: Database
    nats: NatsClient
    grpc: GrpcServer
    channels: Mapping[str, GrpcChannel]
    workers: WorkerSupervisor
    metrics: metrics.MetricsEndpoint | None = None

    @property
    def port(self) -> int:
        return self.grpc.port

    async def stop(self) -> None:
        """In-flight calls finish, workers drain, the outbox relays what it can, then close."""
        await self.grpc.stop(self.settings.shutdown_grace_seconds)
        await self.workers.stop(self.settings.shutdown_grace_seconds)
        for channel in self.channels.values():
            await channel.close()
        with contextlib.suppress(Exception):
            await self.nats.drain()
        if self.metrics is not None:
            self.metrics.stop()
        await self.db.dispose()


async def start_service(
    definition: ServiceDefinition,
    settings: ServiceSettings,
    env: Mapping[str, str] | None = None,
) -> RunningService:
    """Starts the service's parts in order; `env` (the process environment when left out) is
    what its own settings are read from."""
    # Read first: a service without its certificate stops before it touches anything.
    credentials = Credentials.load(settings.tls_dir) if settings.tls_dir else None
    db = Database(settings.database_url)
    await migrate(db, streams(definition.name, definition.tables))
    nats_client = await events.connect_patiently(settings.nats_url, f"oms-{settings.name}")
    js = nats_client.jetstream()
    for domain in (definition.name, DEAD_LETTERS):
        await events.ensure_stream_patiently(js, domain, settings.streams)
    channels = {
        name: open_channel(settings.grpc_targets.get(name) or grpc_target(name), name, credentials)
        for name in definition.calls
    }
    context = ServiceContext(settings, db, channels, dict(os.environ if env is None else env))
    parts = definition.build(context)
    if parts.subscriptions and parts.uow is None:
        raise ValueError(f"{definition.name} subscribes to events but names no unit of work")
    server = await start_grpc_server(
        settings.grpc_listen,
        parts.register_grpc,
        definition.grpc_service_names,
        credentials,
        reflection_enabled=settings.grpc_reflection,
        health_address=settings.health_listen,
    )
    consumers = (
        EventConsumer(
            nats_client,
            parts.uow,
            sub,
            max_deliveries=settings.max_deliveries,
            service=definition.name,
        )
        for sub in parts.subscriptions
        if parts.uow
    )
    workers = WorkerSupervisor(
        definition.name,
        [OutboxRelay(db, js, definition.name), *consumers, *parts.workers],
        server.set_serving,
    )
    workers.start()
    lag = events.consumer_lag(js, definition.name, parts.subscriptions)
    read = metrics.database_gauges(db, definition.name, definition.gauges, [lag])
    gauges = metrics.ScrapeTimeGauges(asyncio.get_running_loop(), read)
    endpoint = metrics.start_endpoint(settings.metrics_listen, gauges)
    log.info(
        "%s serving gRPC on port %d (%s)",
        definition.name,
        server.port,
        "mutual TLS" if credentials else "PLAINTEXT: any client that reaches it is trusted",
    )
    return RunningService(settings, db, nats_client, server, channels, workers, endpoint)


async def serve(definition: ServiceDefinition, settings: ServiceSettings) -> None:
    """Runs until SIGTERM or SIGINT, then stops gracefully."""
    running = await start_service(definition, settings)
    # What start-up made (modules, schemas, migrations' leftovers collected first) lives as
    # long as the process: frozen, the collector's full collections walk only what requests
    # made since (walking start-up's objects was a sixth of a bulk import's CPU).
    gc.collect()
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("%s stopping", definition.name)
    await running.stop()


def main(definition: ServiceDefinition) -> None:
    logs.configure(definition.name)
    tracing.configure(definition.name)
    try:
        # uvloop: the loop's own overhead (wake-ups, callbacks, sockets) at a fraction of the
        # CPU; grpc.aio runs on it unchanged.
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(serve(definition, ServiceSettings.from_env(definition.name)))
    except MissingCredentials as error:
        log.error("%s", error)
        raise SystemExit(2) from None
    finally:
        tracing.shutdown()
