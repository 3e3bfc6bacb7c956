"""The gateway's long-lived connections: one gRPC channel per service, one NATS connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import grpc
from nats.aio.client import Client as NatsClient

from gateway.feed import InventoryFeed
from gateway.services import ServiceStubs
from gateway.settings import GatewaySettings
from services.kernel import events
from services.kernel.grpc_client import is_serving, open_channel


@dataclass
class Backends:
    """What every request shares; opened when the app starts and closed when it stops."""

    channels: Mapping[str, grpc.aio.Channel]
    nats: NatsClient
    feed: InventoryFeed
    services: ServiceStubs
    # The services readiness waits for: those the schema calls (all, when not told).
    needed: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    async def open(
        cls, settings: GatewaySettings, needed: Collection[str] | None = None
    ) -> Backends:
        channels = {
            name: open_channel(target, name, settings.credentials)
            for name, target in settings.service_targets.items()
        }
        try:
            nats = await events.connect_patiently(settings.nats_url, "oms-gateway")
        except BaseException:
            await asyncio.gather(*(channel.close() for channel in channels.values()))
            raise
        feed = InventoryFeed(settings.subscriber_queue_size)
        await feed.start(nats)
        required = frozenset(channels if needed is None else needed)
        return cls(channels, nats, feed, ServiceStubs.over(channels), required)

    async def close(self) -> None:
        await self.feed.stop()
        with contextlib.suppress(Exception):  # the broker may already be gone at shutdown
            await self.nats.drain()
        await asyncio.gather(*(channel.close() for channel in self.channels.values()))

    async def not_ready(self) -> list[str]:
        """Names of the needed services not answering SERVING, and "nats" when it is
        disconnected."""
        names = [name for name in self.channels if name in self.needed]
        serving = await asyncio.gather(*(is_serving(self.channels[name]) for name in names))
        missing = [name for name, ok in zip(names, serving, strict=True) if not ok]
        if not self.nats.is_connected:
            missing.append("nats")
        return missing
