"""No oversell: many buyers race for the last units through two inventory processes sharing
one database (the running PostgreSQL, then a SQLite file). Exactly the units on hand are sold."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from launcher.embedded_nats import EmbeddedNats
from launcher.ports import free_port
from oms.inventory.v1 import inventory_pb2 as pb
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from services.inventory.bootstrap import bootstrap
from services.inventory.store import SqlInventoryStore
from services.kernel.db import Database
from services.kernel.errors import ErrorCode, from_rpc_error
from services.kernel.settings import normalize_database_url
from services.kernel.unit_of_work import SqlUnitOfWork
from tests.integration.conftest import InventoryClient
from tests.support.processes import ServiceProcess

BUYERS = 60
UNITS = 5


@pytest.fixture
async def stubs(
    db_url: str, nats_server: EmbeddedNats, tmp_path: Path
) -> AsyncIterator[list[InventoryClient]]:
    """Clients of two inventory processes sharing one database."""
    replicas = []
    for _ in range(2):
        port = free_port()
        env = {
            "OMS_INVENTORY_DATABASE_URL": db_url,
            "OMS_INVENTORY_GRPC_LISTEN": f"127.0.0.1:{port}",
            "OMS_NATS_URL": nats_server.url,
        }
        replicas.append(ServiceProcess("inventory", env, tmp_path / "logs", port))
    # Together, as a deployment starts them: both create the same tables at start-up.
    for replica in replicas:
        replica.start()
    channels = []
    try:
        for replica in replicas:
            await replica.wait_serving()
        channels = [r.channel(deadline_seconds=60) for r in replicas]
        yield [InventoryServiceStub(c) for c in channels]
    finally:
        for channel in channels:
            await channel.close()
        for replica in replicas:
            assert replica.terminate() == 0, replica.log_path.read_text()[-2000:]


async def reserve(stub: InventoryClient, key: str, lines: list[tuple[str, int]]) -> str:
    request = pb.ReserveRequest(
        key=key,
        lines=[pb.ReservationLine(sku="LAST", location_code=loc, quantity=q) for loc, q in lines],
    )
    try:
        await stub.Reserve(request, timeout=60)
    except grpc.aio.AioRpcError as error:
        refusal = from_rpc_error(error)
        return refusal.code.value if refusal else f"transport:{error.code().name}"
    return "HELD"


async def seed(stub: InventoryClient, stock: dict[str, int]) -> None:
    await stub.UpsertSku(
        pb.UpsertSkuRequest(code="LAST", title="Last units", unit_cost_cents=100, weight_grams=1)
    )
    for code, units in stock.items():
        await stub.UpsertLocation(
            pb.UpsertLocationRequest(
                code=code, name=code, kind=pb.LOCATION_KIND_RETURN_HUB, latitude=1, longitude=1
            )
        )
        await stub.AdjustStock(
            pb.AdjustStockRequest(sku="LAST", location_code=code, delta=units, reason="count")
        )


async def assert_ledger_balances(db_url: str) -> None:
    db = Database(normalize_database_url(db_url))
    try:
        assert await bootstrap(SqlUnitOfWork(db, SqlInventoryStore)).ledger_discrepancies() == []
    finally:
        await db.dispose()


async def test_concurrent_buyers_never_share_a_unit(
    db_url: str, stubs: list[InventoryClient]
) -> None:
    await seed(stubs[0], {"HUB-B": UNITS})
    outcomes = await asyncio.gather(
        *(reserve(stubs[i % 2], f"order-{i}", [("HUB-B", 1)]) for i in range(BUYERS))
    )
    assert outcomes.count("HELD") == UNITS
    assert outcomes.count(ErrorCode.INSUFFICIENT_STOCK.value) == BUYERS - UNITS, outcomes

    levels = await stubs[1].GetStockLevels(pb.GetStockLevelsRequest(skus=["LAST"]))
    assert [(x.on_hand, x.reserved, x.available) for x in levels.levels] == [(UNITS, UNITS, 0)]
    availability = await stubs[0].GetAvailability(
        pb.GetAvailabilityRequest(skus=["LAST"], channel="web")
    )
    assert availability.availability[0].available == 0

    # Winners ship while the losers' saga compensations release: on hand ends at zero.
    winners = [f"order-{i}" for i, o in enumerate(outcomes) if o == "HELD"]
    losers = [f"order-{i}" for i, o in enumerate(outcomes) if o != "HELD"]
    await asyncio.gather(
        *(stubs[i % 2].Commit(pb.CommitRequest(key=k)) for i, k in enumerate(winners)),
        *(stubs[i % 2].Release(pb.ReleaseRequest(key=k)) for i, k in enumerate(losers)),
    )
    levels = await stubs[0].GetStockLevels(pb.GetStockLevelsRequest(skus=["LAST"]))
    assert [(x.on_hand, x.reserved) for x in levels.levels] == [(0, 0)]
    await assert_ledger_balances(db_url)


async def test_multi_location_reservations_hold_all_lines_or_none(
    db_url: str, stubs: list[InventoryClient]
) -> None:
    await seed(stubs[0], {"DC-A": 3, "HUB-B": 2})
    # Half the buyers list their lines in the other order: locks must not deadlock.
    orders = [
        [("DC-A", 1), ("HUB-B", 1)] if i % 2 else [("HUB-B", 1), ("DC-A", 1)] for i in range(BUYERS)
    ]
    outcomes = await asyncio.gather(
        *(reserve(stubs[i % 2], f"order-{i}", lines) for i, lines in enumerate(orders))
    )
    assert outcomes.count("HELD") == 2
    assert set(outcomes) == {"HELD", ErrorCode.INSUFFICIENT_STOCK.value}
    levels = await stubs[1].GetStockLevels(pb.GetStockLevelsRequest(skus=["LAST"]))
    assert [(x.location_code, x.reserved) for x in levels.levels] == [("DC-A", 2), ("HUB-B", 2)]
    await assert_ledger_balances(db_url)


@pytest.mark.parametrize("quantity", [1, 2])
async def test_the_same_order_retried_concurrently_reserves_once(
    stubs: list[InventoryClient], quantity: int
) -> None:
    await stubs[0].UpsertSku(
        pb.UpsertSkuRequest(code="S", title="s", unit_cost_cents=1, weight_grams=1)
    )
    await stubs[0].UpsertLocation(
        pb.UpsertLocationRequest(
            code="DC",
            name="dc",
            kind=pb.LOCATION_KIND_DISTRIBUTION_CENTER,
            latitude=1,
            longitude=1,
        )
    )
    await stubs[0].AdjustStock(
        pb.AdjustStockRequest(sku="S", location_code="DC", delta=10, reason="count")
    )
    request = pb.ReserveRequest(
        key="order-same",
        lines=[pb.ReservationLine(sku="S", location_code="DC", quantity=quantity)],
    )
    results = await asyncio.gather(*(stubs[i % 2].Reserve(request) for i in range(20)))
    assert {r.status for r in results} == {pb.RESERVATION_STATUS_HELD}
    levels = await stubs[1].GetStockLevels(pb.GetStockLevelsRequest(skus=["S"]))
    assert levels.levels[0].reserved == quantity
