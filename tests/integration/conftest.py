"""Fixtures for integration tests: real services on port 0 over a real database and broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from launcher.embedded_nats import EmbeddedNats
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from services.inventory.bootstrap import SERVICE as INVENTORY
from services.kernel.grpc_client import open_channel
from services.kernel.runtime import RunningService, start_service
from services.kernel.settings import ServiceSettings, normalize_database_url


@dataclass
class InventoryUnderTest:
    running: RunningService
    stub: InventoryServiceStub


@pytest.fixture
async def inventory(db_url: str, nats_server: EmbeddedNats) -> AsyncIterator[InventoryUnderTest]:
    """The inventory service started in-process on a free port, and a client for it."""
    settings = ServiceSettings(
        name="inventory",
        database_url=normalize_database_url(db_url),
        nats_url=nats_server.url,
        grpc_listen="127.0.0.1:0",
        shutdown_grace_seconds=2,
    )
    running = await start_service(INVENTORY, settings)
    channel = open_channel(f"127.0.0.1:{running.port}")
    try:
        yield InventoryUnderTest(running, InventoryServiceStub(channel))
    finally:
        await channel.close()
        await running.stop()
