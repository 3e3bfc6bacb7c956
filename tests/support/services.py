"""Services started in-process on a free port for a test, with a client of each, then stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

import grpc

from services.kernel.runtime import RunningService, ServiceDefinition, start_service
from services.kernel.settings import ServiceSettings, normalize_database_url
from tests.support.trust import gateway_channel, tls_dir

S = TypeVar("S")
# Short: a test stops its services often, and nothing it leaves in flight needs long to finish.
SHUTDOWN_GRACE_SECONDS = 2.0


@dataclass
class ServiceUnderTest(Generic[S]):
    """A service running in the test's event loop, a channel to it and its client on that channel.

    The service holds its certificate from the tests' CA; the channel is the gateway's."""

    definition: ServiceDefinition
    running: RunningService
    channel: grpc.aio.Channel
    stub: S
    make_stub: Callable[[grpc.aio.Channel], S]
    # What its own settings were read from: its policy, its refund provider.
    env: Mapping[str, str]

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.running.port}"

    async def stop(self) -> None:
        await self.channel.close()
        await self.running.stop()

    async def restart(self) -> None:
        """Stops the service gracefully and starts it again on the same database and settings."""
        await self.stop()
        again = await _start(self.definition, self.make_stub, self.running.settings, self.env)
        self.running, self.channel, self.stub = again.running, again.channel, again.stub

    def replica(self) -> AbstractAsyncContextManager[ServiceUnderTest[S]]:
        """Another instance of the service beside this one: same database, broker and settings."""
        return _serving(self.definition, self.make_stub, self.running.settings, self.env)


def running_service(
    definition: ServiceDefinition,
    make_stub: Callable[[grpc.aio.Channel], S],
    database_url: str,
    nats_url: str,
    *,
    calls: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    max_deliveries: int = ServiceSettings.max_deliveries,
) -> AbstractAsyncContextManager[ServiceUnderTest[S]]:
    """The service on `database_url` and `nats_url`, serving on a free port, reaching the services
    it calls at the targets in `calls`; its own settings are read from `env` alone, so that the
    environment the tests run in does not change what they test."""
    settings = ServiceSettings(
        name=definition.name,
        database_url=normalize_database_url(database_url),
        nats_url=nats_url,
        grpc_listen="127.0.0.1:0",
        tls_dir=tls_dir(definition.name),
        shutdown_grace_seconds=SHUTDOWN_GRACE_SECONDS,
        grpc_targets=dict(calls or {}),
        max_deliveries=max_deliveries,
    )
    return _serving(definition, make_stub, settings, dict(env or {}))


@asynccontextmanager
async def _serving(
    definition: ServiceDefinition,
    make_stub: Callable[[grpc.aio.Channel], S],
    settings: ServiceSettings,
    env: Mapping[str, str],
) -> AsyncIterator[ServiceUnderTest[S]]:
    under_test = await _start(definition, make_stub, settings, env)
    try:
        yield under_test
    finally:
        # What is running now: a restart replaces the service and its channel.
        await under_test.stop()


async def _start(
    definition: ServiceDefinition,
    make_stub: Callable[[grpc.aio.Channel], S],
    settings: ServiceSettings,
    env: Mapping[str, str],
) -> ServiceUnderTest[S]:
    running = await start_service(definition, settings, env)
    channel = gateway_channel(f"127.0.0.1:{running.port}", definition.name)
    return ServiceUnderTest(definition, running, channel, make_stub(channel), make_stub, env)
