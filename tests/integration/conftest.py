"""Fixtures for integration tests: real services on port 0 over a real database and broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from launcher.embedded_nats import EmbeddedNats
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from services.inventory.bootstrap import SERVICE as INVENTORY
from services.kernel.grpc_client import open_channel
from services.kernel.runtime import RunningService, start_service
from services.kernel.settings import ServiceSettings, normalize_database_url
from services.orders.bootstrap import SERVICE as ORDERS
from tests.support.databases import database_url


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


@dataclass
class OrdersUnderTest:
    running: RunningService
    stub: OrdersServiceStub
    inventory: InventoryServiceStub


@pytest.fixture
async def orders(
    inventory: InventoryUnderTest, backend: str, nats_server: EmbeddedNats, tmp_path: Path
) -> AsyncIterator[OrdersUnderTest]:
    """The orders service, with its own database of the same backend, calling `inventory`."""
    with database_url(backend, tmp_path, "orders") as url:
        settings = ServiceSettings(
            name="orders",
            database_url=normalize_database_url(url),
            nats_url=nats_server.url,
            grpc_listen="127.0.0.1:0",
            shutdown_grace_seconds=2,
            grpc_targets={"inventory": f"127.0.0.1:{inventory.running.port}"},
        )
        running = await start_service(ORDERS, settings)
        channel = open_channel(f"127.0.0.1:{running.port}")
        try:
            yield OrdersUnderTest(running, OrdersServiceStub(channel), inventory.stub)
        finally:
            await channel.close()
            await running.stop()
