"""Backorders without I/O: the rules (oldest first, the promised date), inventory's promise and
fill over its in-memory store, and orders placing and allocating backorders over theirs."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from oms.events.v1.inventory_pb2 import BackorderFilled, FilledLine
from oms.events.v1.orders_pb2 import OrderPlaced
from oms.events.v1.procurement_pb2 import PurchasedUnits, PurchaseOrderReceived
from services.inventory.bootstrap import bootstrap as inventory_bootstrap
from services.inventory.domain import rules
from services.inventory.domain.model import (
    LocationChange,
    LocationKind,
    Movement,
    ReservationLine,
    ReservationStatus,
    SourceType,
    StockDelta,
    Supply,
)
from services.inventory.events import subscriptions as inventory_subscriptions
from services.inventory.service import InventoryService
from services.inventory.store import InventoryStore
from services.kernel.errors import ErrorCode
from services.orders.domain.model import OrderStatus
from services.orders.service import allocate_backorder
from tests.fakes.inventory import InventoryData
from tests.fakes.inventory import memory_uow as inventory_uow
from tests.fakes.kernel import MemoryUnitOfWork
from tests.support.refusals import refused
from tests.unit.test_orders_use_cases import new_order, system

MAY, JUNE = datetime(2031, 5, 1, tzinfo=UTC), datetime(2031, 6, 1, tzinfo=UTC)

# Rules


def test_receipts_fill_the_oldest_backorders_first_and_the_last_one_in_part() -> None:
    waiting = [("a", 2), ("b", 2), ("c", 1)]
    assert rules.fill_oldest_first(waiting, 3) == [("a", 2), ("b", 1)]
    assert rules.fill_oldest_first(waiting, 9) == waiting
    assert rules.fill_oldest_first(waiting, 0) == []


@given(
    st.lists(
        st.tuples(st.uuids().map(str), st.integers(1, 50)), max_size=20, unique_by=lambda x: x[0]
    ),
    st.integers(0, 500),
)
def test_a_fill_never_gives_more_than_received_nor_overtakes_an_older_backorder(
    waiting: list[tuple[str, int]], units: int
) -> None:
    filled = rules.fill_oldest_first(waiting, units)
    assert sum(n for _, n in filled) == min(units, sum(n for _, n in waiting))
    assert [key for key, _ in filled] == [key for key, _ in waiting[: len(filled)]]
    # Every backorder but the last one served got all it was promised.
    assert all(n == promised for (_, n), (_, promised) in zip(filled[:-1], waiting, strict=False))


def test_a_promise_is_expected_with_the_purchase_order_that_brings_its_last_unit() -> None:
    supply = [Supply(JUNE, 5), Supply(MAY, 3), Supply(None, 10)]
    assert rules.expected_arrival(supply, 0, 3) == MAY
    assert rules.expected_arrival(supply, 2, 2) == JUNE
    assert rules.expected_arrival(supply, 6, 2) == JUNE
    assert rules.expected_arrival(supply, 7, 2) is None  # only undated supply reaches it


# Inventory


async def dc_with_books_on_order(
    units: int,
) -> tuple[InventoryService, MemoryUnitOfWork[InventoryStore, InventoryData]]:
    uow = inventory_uow()
    service = inventory_bootstrap(uow)
    await service.upsert_location(
        LocationChange("DC", "DC", LocationKind.DISTRIBUTION_CENTER, 50.1, 8.7)
    )
    await service.upsert_sku("BOOK", "Book", 500, 300, serialized=False)
    await service.upsert_channel("web", 0, [], allow_backorders=True)
    await service.upsert_channel("shop", 0, [])
    async with uow.write() as store:
        await store.expect_supply("po-1", "DC", [("BOOK", units)], MAY)
        opened = Movement("BOOK", "DC", StockDelta(in_transit=units), "po", SourceType.RECEIPT, "p")
        await service.apply_movements(store, [opened], "PurchaseOrderOpened")
    return service, uow


async def test_only_a_channel_that_allows_backorders_gets_options_and_keeps_it_when_left_out() -> (
    None
):
    service, _ = await dc_with_books_on_order(4)
    allowed, options = await service.backorder_options(["BOOK"], "web")
    assert allowed and [(x.code, units) for x, units in options] == [("DC", {"BOOK": 4})]
    assert await service.backorder_options(["BOOK"], "shop") == (False, [])
    assert await service.backorder_options(["BOOK"], "never-set-up") == (False, [])
    kept = await service.upsert_channel("web", 2, [])
    assert kept.allow_backorders


async def test_promises_never_exceed_what_is_on_order_and_a_receipt_holds_the_oldest_first() -> (
    None
):
    service, uow = await dc_with_books_on_order(4)
    _reservation, expected = await service.promise("a", [ReservationLine("BOOK", "DC", 3)])
    assert expected == MAY
    code, field = await refused(service.promise("b", [ReservationLine("BOOK", "DC", 2)]))
    assert (code, field) == (ErrorCode.INSUFFICIENT_STOCK, "lines.0.quantity")
    await service.promise("c", [ReservationLine("BOOK", "DC", 1)])
    # Nothing is on hand for a promise to ship.
    assert (await refused(service.commit("a")))[0] is ErrorCode.INVALID_STATE

    _returns, _workorders, procurement = inventory_subscriptions(service)
    handler = procurement.handlers[PurchaseOrderReceived]
    receipt = PurchaseOrderReceived(
        purchase_order_id="po-1",
        location_code="DC",
        lines=[PurchasedUnits(sku="BOOK", quantity=3)],
    )
    async with uow.write() as store:
        await handler(store, receipt)
    [level] = await service.stock_levels(["BOOK"])
    assert (level.on_hand, level.reserved, level.in_transit, level.promised) == (3, 3, 1, 1)
    assert [(x.key, list(x.held)) for x in uow.published(BackorderFilled)] == [
        ("a", [FilledLine(sku="BOOK", location_code="DC", quantity=3)])
    ]
    assert (await service.reservation("c")).promised == (ReservationLine("BOOK", "DC", 1),)

    released = await service.release("c")
    assert released.status is ReservationStatus.RELEASED
    [level] = await service.stock_levels(["BOOK"])
    assert level.promised == 0
    assert await service.ledger_discrepancies() == []


# Orders


async def test_an_order_short_on_hand_is_backordered_only_where_the_channel_allows() -> None:
    service, uow, inventory = system({})
    inventory.skus.add("BOOK")
    inventory.on_order[("BOOK", "HUB-BER")] = 2
    inventory.expected_at = MAY

    code, _ = await refused(service.place(new_order("w-1", {"BOOK": 1})))
    assert code is ErrorCode.INSUFFICIENT_STOCK
    inventory.backorder_channels.add("web")
    order = await service.place(new_order("w-2", {"BOOK": 2}))
    assert (order.status, order.backorder_expected_at, order.shipments) == (
        OrderStatus.BACKORDERED,
        MAY,
        (),
    )
    code, _ = await refused(service.place(new_order("w-3", {"BOOK": 1})))
    assert code is ErrorCode.INSUFFICIENT_STOCK
    assert uow.published(OrderPlaced) == []

    [(key, held)] = inventory.receive("BOOK", "HUB-BER", 2)
    async with uow.write() as store:
        await allocate_backorder(store, key, held)
        await allocate_backorder(store, key, held)  # again: nothing more
    allocated = await service.order(order.id)
    assert allocated.status is OrderStatus.ALLOCATED
    assert [(s.location_code, s.lines) for s in allocated.shipments] == [
        ("HUB-BER", (("BOOK", 2),))
    ]
    assert len(uow.published(OrderPlaced)) == 1


async def test_a_cancelled_backorder_releases_its_promise_and_is_never_allocated() -> None:
    service, uow, inventory = system({})
    inventory.skus.add("BOOK")
    inventory.on_order[("BOOK", "HUB-BER")] = 1
    inventory.backorder_channels.add("web")
    order = await service.place(new_order("w-1", {"BOOK": 1}))
    cancelled = await service.cancel(order.id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert inventory.promised("BOOK", "HUB-BER") == 0
    async with uow.write() as store:
        await allocate_backorder(store, order.id, [("BOOK", "HUB-BER", 1)])
    assert (await service.order(order.id)).status is OrderStatus.CANCELLED
