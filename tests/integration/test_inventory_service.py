"""The inventory service over gRPC, on SQLite and PostgreSQL, with its events on JetStream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypeVar

import grpc
import nats
import pytest
from google.protobuf.message import Message
from nats.aio.msg import Msg
from sqlalchemy import text

from launcher.embedded_nats import EmbeddedNats
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.inventory_pb2 import StockImported, StockLevelChanged
from oms.inventory.v1 import inventory_pb2 as pb
from services.inventory.bootstrap import bootstrap
from services.inventory.domain.imports import ImportOutcome
from services.inventory.domain.model import StockLevel
from services.inventory.store import SqlInventoryStore
from services.kernel.db import utcnow
from services.kernel.errors import ErrorCode, from_rpc_error
from services.kernel.events import unpack
from services.kernel.unit_of_work import SqlUnitOfWork
from tests.integration.conftest import InventoryClient, InventoryUnderTest

M = TypeVar("M", bound=Message)
DC = pb.LOCATION_KIND_DISTRIBUTION_CENTER
HUB = pb.LOCATION_KIND_RETURN_HUB


async def seed(
    stub: InventoryClient, *, sku: str = "TEE-M", stock: dict[str, int] | None = None
) -> None:
    await stub.UpsertSku(
        pb.UpsertSkuRequest(code=sku, title="Tee", unit_cost_cents=800, weight_grams=200)
    )
    for code, units in (stock or {}).items():
        kind = HUB if code.startswith("HUB") else DC
        await stub.UpsertLocation(
            pb.UpsertLocationRequest(code=code, name=code, kind=kind, latitude=52.5, longitude=13.4)
        )
        if units:
            await stub.AdjustStock(
                pb.AdjustStockRequest(sku=sku, location_code=code, delta=units, reason="count")
            )


async def refusal(call: Awaitable[object]) -> tuple[grpc.StatusCode, ErrorCode, str | None]:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    error = from_rpc_error(raised.value)
    assert error is not None, raised.value
    return raised.value.code(), error.code, error.field


async def test_locations_and_skus_upsert_by_code(inventory: InventoryUnderTest) -> None:
    stub = inventory.stub
    first = await stub.UpsertLocation(
        pb.UpsertLocationRequest(
            code="HUB-BER", name="Berlin hub", kind=HUB, latitude=52.5, longitude=13.4
        )
    )
    second = await stub.UpsertLocation(
        pb.UpsertLocationRequest(
            code="HUB-BER",
            name="Berlin return hub",
            kind=HUB,
            latitude=52.5,
            longitude=13.4,
            ships_orders=False,
        )
    )
    assert second.id == first.id
    assert second.name == "Berlin return hub"
    assert (first.ships_orders, second.ships_orders, second.accepts_returns) == (True, False, True)
    listed = await stub.ListLocations(pb.ListLocationsRequest(codes=["HUB-BER"]))
    assert [x.name for x in listed.locations] == ["Berlin return hub"]

    await stub.UpsertSku(
        pb.UpsertSkuRequest(
            code="PHONE", title="Phone", unit_cost_cents=30000, weight_grams=180, serialized=True
        )
    )
    skus = await stub.ListSkus(pb.ListSkusRequest(codes=["PHONE", "NOPE"]))
    assert [(s.code, s.serialized, s.unit_cost_cents) for s in skus.skus] == [
        ("PHONE", True, 30000)
    ]


async def test_bad_input_is_refused_with_stable_codes(inventory: InventoryUnderTest) -> None:
    stub = inventory.stub
    await seed(stub, stock={"DC-1": 3})
    cases: list[tuple[Awaitable[object], tuple[grpc.StatusCode, ErrorCode, str]]] = [
        (stub.AdjustStock(pb.AdjustStockRequest(sku="TEE-M", location_code="DC-1", delta=0, reason="x")),
         (grpc.StatusCode.INVALID_ARGUMENT, ErrorCode.INVALID_QUANTITY, "delta")),
        (stub.AdjustStock(pb.AdjustStockRequest(sku="NOPE", location_code="DC-1", delta=1, reason="x")),
         (grpc.StatusCode.NOT_FOUND, ErrorCode.NOT_FOUND, "sku")),
        (stub.AdjustStock(pb.AdjustStockRequest(sku="TEE-M", location_code="NOPE", delta=1, reason="x")),
         (grpc.StatusCode.NOT_FOUND, ErrorCode.NOT_FOUND, "location_code")),
        (stub.AdjustStock(pb.AdjustStockRequest(sku="TEE-M", location_code="DC-1", delta=-4, reason="x")),
         (grpc.StatusCode.FAILED_PRECONDITION, ErrorCode.INSUFFICIENT_STOCK, "delta")),
        (stub.UpsertLocation(pb.UpsertLocationRequest(code="X", name="X", kind=DC, latitude=91, longitude=0)),
         (grpc.StatusCode.INVALID_ARGUMENT, ErrorCode.INVALID_INPUT, "latitude")),
        (stub.UpsertLocation(pb.UpsertLocationRequest(code="X", name="X", latitude=1, longitude=0)),
         (grpc.StatusCode.INVALID_ARGUMENT, ErrorCode.INVALID_INPUT, "kind")),
        (stub.UpsertSku(pb.UpsertSkuRequest(code="has space", title="t", unit_cost_cents=1, weight_grams=1)),
         (grpc.StatusCode.INVALID_ARGUMENT, ErrorCode.INVALID_INPUT, "code")),
        (stub.Reserve(pb.ReserveRequest(key="o1", lines=[pb.ReservationLine(sku="TEE-M", location_code="DC-1", quantity=0)])),
         (grpc.StatusCode.INVALID_ARGUMENT, ErrorCode.INVALID_QUANTITY, "lines.0.quantity")),
        (stub.Reserve(pb.ReserveRequest(key="o2", lines=[pb.ReservationLine(sku="NOPE", location_code="DC-1", quantity=1)])),
         (grpc.StatusCode.NOT_FOUND, ErrorCode.NOT_FOUND, "lines.0.sku")),
        (stub.Reserve(pb.ReserveRequest(key="o3", lines=[pb.ReservationLine(sku="TEE-M", location_code="NOPE", quantity=1)])),
         (grpc.StatusCode.NOT_FOUND, ErrorCode.NOT_FOUND, "lines.0.location_code")),
    ]  # fmt: skip
    for call, expected in cases:
        assert await refusal(call) == expected
    levels = await stub.GetStockLevels(pb.GetStockLevelsRequest(skus=["TEE-M"]))
    assert [(x.on_hand, x.reserved) for x in levels.levels] == [(3, 0)]


async def test_adjust_reports_every_state_and_availability_nets_safety_stock(
    inventory: InventoryUnderTest,
) -> None:
    stub = inventory.stub
    await seed(stub, stock={"DC-1": 10, "HUB-1": 4})
    await stub.UpsertLocation(
        pb.UpsertLocationRequest(
            code="DC-NOSHIP", name="n", kind=DC, latitude=1, longitude=1, ships_orders=False
        )
    )
    await stub.AdjustStock(
        pb.AdjustStockRequest(sku="TEE-M", location_code="DC-NOSHIP", delta=50, reason="count")
    )
    level = await stub.AdjustStock(
        pb.AdjustStockRequest(sku="TEE-M", location_code="DC-1", delta=-3, reason="damaged")
    )
    assert (level.on_hand, level.reserved, level.available) == (7, 0, 7)

    await stub.Reserve(
        pb.ReserveRequest(
            key="order-1",
            lines=[pb.ReservationLine(sku="TEE-M", location_code="HUB-1", quantity=1)],
        )
    )
    web = await stub.GetAvailability(
        pb.GetAvailabilityRequest(skus=["TEE-M", "UNKNOWN"], channel="web")
    )
    assert [(a.sku, a.available) for a in web.availability] == [("TEE-M", 10), ("UNKNOWN", 0)]

    await stub.UpsertChannel(pb.UpsertChannelRequest(code="marketplace", default_safety_stock=2))
    market = await stub.GetAvailability(
        pb.GetAvailabilityRequest(skus=["TEE-M"], channel="marketplace")
    )
    assert market.availability[0].available == 8
    await stub.UpsertChannel(
        pb.UpsertChannelRequest(
            code="marketplace",
            default_safety_stock=2,
            safety_stock=[pb.SafetyStock(sku="TEE-M", units=25)],
        )
    )
    market = await stub.GetAvailability(
        pb.GetAvailabilityRequest(skus=["TEE-M"], channel="marketplace")
    )
    assert market.availability[0].available == 0  # never below zero


async def test_reservations_are_atomic_and_idempotent(inventory: InventoryUnderTest) -> None:
    stub = inventory.stub
    await seed(stub, stock={"DC-1": 2, "HUB-1": 1})
    line = pb.ReservationLine

    refused = stub.Reserve(
        pb.ReserveRequest(
            key="big",
            lines=[
                line(sku="TEE-M", location_code="DC-1", quantity=2),
                line(sku="TEE-M", location_code="HUB-1", quantity=2),
            ],
        )
    )
    assert (await refusal(refused))[1] == ErrorCode.INSUFFICIENT_STOCK
    levels = await stub.GetStockLevels(pb.GetStockLevelsRequest(skus=["TEE-M"]))
    assert [x.reserved for x in levels.levels] == [0, 0], "nothing stays reserved after a refusal"

    request = pb.ReserveRequest(
        key="o-1",
        holder_type="order",
        lines=[
            line(sku="TEE-M", location_code="DC-1", quantity=1),
            line(sku="TEE-M", location_code="HUB-1", quantity=1),
        ],
    )
    first, again = await stub.Reserve(request), await stub.Reserve(request)
    assert first.status == again.status == pb.RESERVATION_STATUS_HELD
    assert len(again.held) == 2
    levels = await stub.GetStockLevels(pb.GetStockLevelsRequest(skus=["TEE-M"]))
    assert [(x.location_code, x.reserved) for x in levels.levels] == [("DC-1", 1), ("HUB-1", 1)]

    shipped = await stub.Commit(pb.CommitRequest(key="o-1", location_code="HUB-1"))
    assert shipped.status == pb.RESERVATION_STATUS_PARTIALLY_COMMITTED
    await stub.Commit(pb.CommitRequest(key="o-1", location_code="HUB-1"))  # idempotent
    released = await stub.Release(pb.ReleaseRequest(key="o-1"))
    await stub.Release(pb.ReleaseRequest(key="o-1"))  # idempotent
    assert released.status == pb.RESERVATION_STATUS_COMMITTED
    assert [x.location_code for x in released.released] == ["DC-1"]
    levels = await stub.GetStockLevels(pb.GetStockLevelsRequest(skus=["TEE-M"]))
    assert [(x.location_code, x.on_hand, x.reserved) for x in levels.levels] == [
        ("DC-1", 2, 0),
        ("HUB-1", 0, 0),
    ]

    # A release that overtakes its reservation wins: the late reservation is refused.
    await stub.Release(pb.ReleaseRequest(key="late"))
    late = stub.Reserve(
        pb.ReserveRequest(key="late", lines=[line(sku="TEE-M", location_code="DC-1", quantity=1)])
    )
    assert (await refusal(late))[1] == ErrorCode.INVALID_STATE
    assert (await refusal(stub.Commit(pb.CommitRequest(key="ghost"))))[1] == ErrorCode.NOT_FOUND

    history = await stub.ListMovements(pb.ListMovementsRequest(sku="TEE-M", location_code="HUB-1"))
    assert [m.source_type for m in history.movements] == ["SHIPMENT", "RESERVATION", "ADJUSTMENT"]
    service = bootstrap(SqlUnitOfWork(inventory.running.db, SqlInventoryStore))
    assert await service.ledger_discrepancies() == []


async def test_the_ledger_check_reports_a_level_changed_or_deleted_behind_its_back(
    inventory: InventoryUnderTest,
) -> None:
    await seed(inventory.stub, stock={"DC-1": 5, "HUB-1": 2})
    service = bootstrap(SqlUnitOfWork(inventory.running.db, SqlInventoryStore))
    assert await service.ledger_discrepancies() == []

    # What no movement did: a level rewritten, another's row deleted, in the service's database.
    async with inventory.running.db.transaction() as session:
        connection = await session.connection()
        await connection.execute(
            text("UPDATE stock_level SET on_hand = 9 WHERE location_code = 'DC-1'")
        )
        await connection.execute(text("DELETE FROM stock_level WHERE location_code = 'HUB-1'"))
    assert await service.ledger_discrepancies() == [
        (StockLevel("TEE-M", "DC-1", on_hand=9), StockLevel("TEE-M", "DC-1", on_hand=5)),
        (None, StockLevel("TEE-M", "HUB-1", on_hand=2)),
    ]


@asynccontextmanager
async def published(
    nats_server: EmbeddedNats, subject: str, payload_type: type[M], count: int
) -> AsyncIterator[list[M]]:
    """The events published on `subject` while the block runs, `count` of them awaited at its
    end."""
    client = await nats.connect(nats_server.url)
    received: list[M] = []
    got_all = asyncio.Event()

    async def collect(message: Msg) -> None:
        received.append(unpack(EventEnvelope.FromString(message.data), payload_type))
        if len(received) == count:
            got_all.set()

    await client.subscribe(subject, cb=collect)
    try:
        yield received
        await asyncio.wait_for(got_all.wait(), 10)
    finally:
        await client.close()


async def test_every_level_change_is_published(
    inventory: InventoryUnderTest, nats_server: EmbeddedNats
) -> None:
    subject = "oms.inventory.stock_level_changed"
    async with published(nats_server, subject, StockLevelChanged, 3) as received:
        await seed(inventory.stub, stock={"DC-1": 5})
        await inventory.stub.Reserve(
            pb.ReserveRequest(
                key="o", lines=[pb.ReservationLine(sku="TEE-M", location_code="DC-1", quantity=2)]
            )
        )
        await inventory.stub.Commit(pb.CommitRequest(key="o"))
    assert [(e.source_type, e.on_hand, e.reserved, e.available) for e in received] == [
        ("ADJUSTMENT", 5, 0, 5),
        ("RESERVATION", 5, 2, 3),
        ("SHIPMENT", 3, 0, 3),
    ]
    assert all(e.sku == "TEE-M" and e.location_code == "DC-1" for e in received)


async def test_sourcing_options_list_shipping_locations_with_available_units(
    inventory: InventoryUnderTest,
) -> None:
    stub = inventory.stub
    await seed(stub, stock={"DC-1": 3, "HUB-1": 1, "HUB-EMPTY": 0})
    await stub.UpsertLocation(
        pb.UpsertLocationRequest(code="HUB-1", name="h", kind=HUB, latitude=1, longitude=2)
    )
    await stub.Reserve(
        pb.ReserveRequest(
            key="o", lines=[pb.ReservationLine(sku="TEE-M", location_code="HUB-1", quantity=1)]
        )
    )
    await stub.UpsertLocation(
        pb.UpsertLocationRequest(
            code="DC-NOSHIP", name="n", kind=DC, latitude=1, longitude=1, ships_orders=False
        )
    )
    await stub.AdjustStock(
        pb.AdjustStockRequest(sku="TEE-M", location_code="DC-NOSHIP", delta=9, reason="count")
    )
    options = await stub.GetSourcingOptions(pb.GetSourcingOptionsRequest(skus=["TEE-M", "OTHER"]))
    assert [
        (o.location.code, [(u.sku, u.available) for u in o.available]) for o in options.options
    ] == [("DC-1", [("TEE-M", 3)])]


async def test_an_import_moves_levels_with_their_ledger_rows_and_publishes_them_in_parts(
    inventory: InventoryUnderTest, nats_server: EmbeddedNats
) -> None:
    await seed(inventory.stub, stock={"DC-1": 5})
    await inventory.stub.Reserve(
        pb.ReserveRequest(
            key="o", lines=[pb.ReservationLine(sku="TEE-M", location_code="DC-1", quantity=2)]
        )
    )
    service = bootstrap(SqlUnitOfWork(inventory.running.db, SqlInventoryStore))
    skus = [f"S{i:04d}" for i in range(1_200)]
    await service.upsert_skus(
        csv="code,title,unit_cost_cents,weight_grams\n" + "".join(f"{s},{s},1,1\n" for s in skus)
    )
    # TEE-M moves by a delta above its reservation, S0000 to the zero it is at (not a move),
    # the others to new levels: 1,200 levels move, in two StockImported of 1,000 and 200.
    csv = "sku,location_code,delta,on_hand,reason\nTEE-M,DC-1,3,,recount\n" + "".join(
        f"{s},DC-1,,{i},\n" for i, s in enumerate(skus)
    )
    started = utcnow()
    subject = "oms.inventory.stock_imported"
    async with published(nats_server, subject, StockImported, 2) as received:
        done = await service.import_stock(csv=csv, idempotency_key="opening")
        assert done == ImportOutcome(rows=1_201, levels_changed=1_200)
        again = await service.import_stock(csv=csv, idempotency_key="opening")
        assert again == ImportOutcome(1_201, 1_200, replayed=True)

    assert [(len(e.levels), e.rows) for e in received] == [(1_000, 1_201), (200, 1_201)]
    assert len({e.import_id for e in received}) == 1
    levels = [level for event in received for level in event.levels]
    assert [list(e.skus) for e in received] == [
        sorted({level.sku for level in e.levels}) for e in received
    ]
    assert [level.sku for level in levels] == ["TEE-M", *skus[1:]]
    tee = levels[0]
    assert (tee.on_hand, tee.reserved, tee.available, tee.version, tee.reason) == (
        8,
        2,
        6,
        3,
        "recount",
    )
    assert {(lv.source_type, lv.source_id, lv.reason) for lv in levels[1:]} == {
        ("ADJUSTMENT", received[0].import_id, "import")
    }
    assert [(lv.on_hand, lv.available, lv.version) for lv in levels[1:3]] == [(1, 1, 1), (2, 2, 1)]
    ids = [level.movement_id for level in levels]
    assert ids == sorted(set(ids))
    # Each level's ledger row is the one its event names, with the import's time.
    for level in (tee, levels[-1]):
        [last, *_] = await service.movements(level.sku, "DC-1", 1)
        assert last.id == level.movement_id
        assert last.movement.delta.on_hand == (3 if level is tee else 1_199)
        assert started <= last.occurred_at <= utcnow()
    assert await service.ledger_discrepancies() == []
    stored = await service.stock_levels(["TEE-M", "S0000", "S1199"])
    assert [(lv.sku, lv.on_hand, lv.version) for lv in stored] == [
        ("S0000", 0, 0),
        ("S1199", 1_199, 1),
        ("TEE-M", 8, 3),
    ]
