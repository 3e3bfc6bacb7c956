"""A service process's life: start its parts in order, serve, and stop gracefully on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc
from nats.aio.client import Client as NatsClient
from sqlmodel import SQLModel

from services.kernel import events
from services.kernel.db import Database
from services.kernel.events import EventConsumer, ProcessedEvent, Subscription
from services.kernel.grpc_server import GrpcServer, start_grpc_server
from services.kernel.outbox import OutboxMessage, OutboxRelay
from services.kernel.settings import ServiceSettings

log = logging.getLogger(__name__)

NATS_CONNECT_PATIENCE_SECONDS = 30.0


@dataclass(frozen=True)
class ServiceDefinition:
    """Names every concrete part of one service; `python -m services.<name>` runs it."""

    name: str
    tables: Sequence[type[SQLModel]]
    grpc_service_names: Sequence[str]
    # Builds the use cases on the database and adds the gRPC servicers to the server.
    register_grpc: Callable[[grpc.aio.Server, Database], None]
    subscriptions: Callable[[Database], Sequence[Subscription]] = field(default=lambda _db: ())


@dataclass
class RunningService:
    settings: ServiceSettings
    db: Database
    nats: NatsClient
    grpc: GrpcServer
    relay: OutboxRelay
    consumers: list[EventConsumer]
    tasks: list[asyncio.Task[None]]

    @property
    def port(self) -> int:
        return self.grpc.port

    async def stop(self) -> None:
        """In-flight calls finish, consumers drain, the outbox relays what it can, then close."""
        await self.grpc.stop(self.settings.shutdown_grace_seconds)
        for consumer in self.consumers:
            consumer.stop()
        self.relay.stop()
        _done, pending = await asyncio.wait(
            self.tasks, timeout=self.settings.shutdown_grace_seconds
        )
        for task in pending:
            task.cancel()
        with contextlib.suppress(Exception):
            await self.nats.drain()
        await self.db.dispose()


async def _connect_nats(settings: ServiceSettings) -> NatsClient:
    deadline = asyncio.get_running_loop().time() + NATS_CONNECT_PATIENCE_SECONDS
    while True:
        try:
            return await events.connect(settings.nats_url, f"oms-{settings.name}")
        except Exception as error:
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.warning("waiting for NATS at %s: %s", settings.nats_url, error)
            await asyncio.sleep(0.5)


async def start_service(definition: ServiceDefinition, settings: ServiceSettings) -> RunningService:
    db = Database(settings.database_url)
    await db.create_tables([*definition.tables, OutboxMessage, ProcessedEvent])
    nats_client = await _connect_nats(settings)
    js = nats_client.jetstream()
    await events.ensure_stream(js, definition.name)
    relay = OutboxRelay(db, js)
    consumers = [EventConsumer(js, db, sub) for sub in definition.subscriptions(db)]
    tasks = [asyncio.create_task(relay.run(), name=f"{definition.name}-outbox")]
    tasks += [asyncio.create_task(c.run(), name=f"{definition.name}-consumer") for c in consumers]
    server = await start_grpc_server(
        settings.grpc_listen,
        lambda s: definition.register_grpc(s, db),
        definition.grpc_service_names,
    )
    log.info("%s serving gRPC on port %d", definition.name, server.port)
    return RunningService(settings, db, nats_client, server, relay, consumers, tasks)


async def serve(definition: ServiceDefinition, settings: ServiceSettings) -> None:
    """Runs until SIGTERM or SIGINT, then stops gracefully."""
    running = await start_service(definition, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("%s stopping", definition.name)
    await running.stop()


def main(definition: ServiceDefinition) -> None:
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s {definition.name} %(levelname)s %(message)s"
    )
    asyncio.run(serve(definition, ServiceSettings.from_env(definition.name)))
