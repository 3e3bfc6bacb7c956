"""A real orders process is killed (SIGKILL) in the middle of a placement and restarted with a
short stale-placement threshold: the placement is then completed (the held stock becomes the
order) or released (nothing stays held), never both, and nothing is held for no order.

The crash lands at a known step, seen from outside: inventory is frozen (SIGSTOP) while the
placement asks it for stock, so the claim is written and the call unanswered; to crash after
the hold, the claim's row is also locked in the orders database, so the allocation waits on it
once inventory, thawed, has held the stock."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import psycopg
import pytest
from sqlmodel import select

from launcher.embedded_nats import EmbeddedNats
from launcher.ports import free_port
from oms.inventory.v1 import inventory_pb2 as inv
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from oms.orders.v1 import orders_pb2 as pb
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from services.kernel.db import Database
from services.kernel.settings import normalize_database_url
from services.orders.store import OrderRow
from tests.integration.conftest import InventoryClient, OrdersClient, eventually
from tests.support.databases import database_url
from tests.support.processes import ServiceProcess

ORDER = pb.PlaceOrderRequest(
    channel="web",
    external_id="crash-1",
    email="ada@example.com",
    ship_to=pb.Address(latitude=52.52, longitude=13.40),
    split_policy=pb.SPLIT_POLICY_ALLOW_SPLIT,
    lines=[pb.OrderLine(sku="TEE", quantity=1, unit_price_cents=2500)],
)
# How long a placement stays PLACING before the restarted process takes it for interrupted.
RECOVERY_AFTER_SECONDS = "1"


@dataclass
class Placing:
    """An inventory and an orders process over their own databases, with clients of both."""

    inventory: ServiceProcess
    orders: ServiceProcess
    orders_url: str
    orders_db: Database
    inventory_stub: InventoryClient
    orders_stub: OrdersClient

    async def claim(self) -> OrderRow | None:
        """The order row under ORDER's external id, in whatever state."""
        async with self.orders_db.snapshot() as session:
            statement = select(OrderRow).where(OrderRow.external_id == ORDER.external_id)
            return (await session.exec(statement)).first()

    async def reserved(self) -> int:
        levels = await self.inventory_stub.GetStockLevels(inv.GetStockLevelsRequest(skus=["TEE"]))
        return sum(level.reserved for level in levels.levels)

    async def reservation(self, key: str) -> inv.Reservation:
        return await self.inventory_stub.GetReservation(inv.GetReservationRequest(key=key))

    async def place(self) -> pb.Order:
        # Waits for the channel to connect: after a restart it may be backing off.
        return await self.orders_stub.PlaceOrder(ORDER, timeout=30, wait_for_ready=True)

    async def interrupted(self) -> tuple[str, asyncio.Task[pb.Order]]:
        """Starts placing ORDER with inventory frozen; once the claim is written and the call
        unanswered: the claim's id and the call."""
        self.inventory.freeze()
        call = asyncio.create_task(self.place())

        async def claimed() -> bool:
            return await self.claim() is not None

        await eventually(claimed, what="the placement's claim")
        claim = await self.claim()
        assert claim is not None and claim.status == "PLACING"
        assert not call.done(), "the placement is in flight"
        return claim.id, call

    async def crash(self, call: asyncio.Task[pb.Order]) -> None:
        """Kills the orders process with `call` in flight, which is cut off unanswered."""
        self.orders.kill()
        with pytest.raises(grpc.aio.AioRpcError) as cut:
            await call
        assert cut.value.code() is grpc.StatusCode.UNAVAILABLE

    async def restart(self) -> None:
        """Starts the orders process again, quick to take a placement for interrupted."""
        self.orders.env["OMS_ORDERS_RECOVERY_AFTER_SECONDS"] = RECOVERY_AFTER_SECONDS
        self.orders.start()
        await self.orders.wait_serving()


@pytest.fixture
async def placing(
    db_url: str, backend: str, nats_server: EmbeddedNats, tmp_path: Path
) -> AsyncIterator[Placing]:
    logs = tmp_path / "logs"
    inventory_port, orders_port = free_port(), free_port()
    inventory = ServiceProcess(
        "inventory",
        {
            "OMS_NATS_URL": nats_server.url,
            "OMS_INVENTORY_DATABASE_URL": db_url,
            "OMS_INVENTORY_GRPC_LISTEN": f"127.0.0.1:{inventory_port}",
        },
        logs,
        inventory_port,
    )
    with database_url(backend, tmp_path, "orders") as orders_url:
        orders = ServiceProcess(
            "orders",
            {
                "OMS_NATS_URL": nats_server.url,
                "OMS_ORDERS_DATABASE_URL": orders_url,
                "OMS_ORDERS_GRPC_LISTEN": f"127.0.0.1:{orders_port}",
                "OMS_INVENTORY_GRPC_TARGET": inventory.target,
            },
            logs,
            orders_port,
        )
        orders_db = Database(normalize_database_url(orders_url))
        channels = [inventory.channel(deadline_seconds=30), orders.channel(deadline_seconds=30)]
        try:
            inventory.start()
            orders.start()
            await inventory.wait_serving()
            await orders.wait_serving()
            stubs = InventoryServiceStub(channels[0]), OrdersServiceStub(channels[1])
            await stock(stubs[0])
            yield Placing(inventory, orders, orders_url, orders_db, *stubs)
        finally:
            inventory.thaw()
            for channel in channels:
                await channel.close()
            orders.terminate()
            inventory.terminate()
            await orders_db.dispose()


async def stock(inventory: InventoryClient) -> None:
    """Two TEEs at a hub near the customer."""
    await inventory.UpsertLocation(
        inv.UpsertLocationRequest(
            code="HUB-BER", name="hub", kind=inv.LOCATION_KIND_RETURN_HUB, latitude=52.5, longitude=13.4
        )
    )  # fmt: skip
    await inventory.UpsertSku(
        inv.UpsertSkuRequest(code="TEE", title="tee", unit_cost_cents=500, weight_grams=200)
    )
    await inventory.AdjustStock(
        inv.AdjustStockRequest(sku="TEE", location_code="HUB-BER", delta=2, reason="count")
    )


@contextmanager
def writes_to_order_held(url: str, order_id: str) -> Iterator[None]:
    """Holds what a write to the order needs until the block ends: its row lock on PostgreSQL,
    the database's write lock on SQLite (which has no row locks)."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.rollback()
            connection.close()
        return
    with psycopg.connect(url) as session:  # a transaction until the block ends
        session.execute("SELECT 1 FROM orders WHERE id = %s FOR UPDATE", (order_id,))
        yield
        session.rollback()


async def test_a_placement_crashed_before_its_hold_is_released(placing: Placing) -> None:
    key, call = await placing.interrupted()
    await placing.crash(call)
    placing.inventory.thaw()
    await placing.restart()

    async def forgotten() -> bool:
        return await placing.claim() is None

    await eventually(forgotten, what="the interrupted claim released")
    released = await placing.reservation(key)
    assert released.status == inv.RESERVATION_STATUS_RELEASED and not released.held
    assert await placing.reserved() == 0
    # The client's retry places the order, holding its unit once.
    order = await placing.place()
    assert order.status == pb.ORDER_STATUS_ALLOCATED and order.id != key
    assert await placing.reserved() == 1


async def test_a_placement_crashed_after_its_hold_is_completed(placing: Placing) -> None:
    key, call = await placing.interrupted()
    with writes_to_order_held(placing.orders_url, key):
        placing.inventory.thaw()

        async def held() -> bool:
            return await placing.reserved() == 1

        await eventually(held, what="inventory holding the placement's stock")
        claim = await placing.claim()
        assert claim is not None and claim.status == "PLACING" and not call.done()
        await placing.crash(call)
    await placing.restart()

    async def allocated() -> bool:
        claim = await placing.claim()
        return claim is not None and claim.status == "ALLOCATED"

    await eventually(allocated, what="the interrupted placement completed")
    order = await placing.orders_stub.GetOrder(pb.GetOrderRequest(id=key), wait_for_ready=True)
    assert [(s.location_code, [(x.sku, x.quantity) for x in s.lines]) for s in order.shipments] == [
        ("HUB-BER", [("TEE", 1)])
    ]
    reservation = await placing.reservation(key)
    assert reservation.status == inv.RESERVATION_STATUS_HELD
    assert [(x.sku, x.quantity) for x in reservation.held] == [("TEE", 1)]
    assert await placing.reserved() == 1
    # The client's retry gets that order and holds nothing more.
    assert (await placing.place()).id == key
    assert await placing.reserved() == 1
