"""The inventory's use cases and event handlers over the in-memory store, built by the service's
own bootstrap: what each returns, what it refuses, which events it records, and that no
sequence of them oversells or lets the ledger disagree with the levels."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from typing import Any

import pytest
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.inventory_pb2 import StockLevelChanged
from oms.events.v1.returns_pb2 import (
    InspectedUnits,
    RefundIssued,
    ReturnInspected,
    ReturnReceived,
    ReturnRejected,
    ReturnUnits,
)
from oms.events.v1.workorders_pb2 import WorkOrderCancelled, WorkOrderCompleted, WorkOrderOpened
from oms.returns.v1 import returns_pb2 as rpb
from oms.workorders.v1 import workorders_pb2 as wpb
from services.inventory.bootstrap import bootstrap
from services.inventory.domain.model import (
    LocationChange,
    LocationKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
    SafetyStock,
    SourceType,
    StockDelta,
    StockLevel,
)
from services.inventory.events import subscriptions
from services.inventory.service import InventoryService
from services.inventory.settings import InventorySettings
from services.inventory.store import InventoryStore
from services.kernel import paging
from services.kernel.caller import Caller, Role
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.events import Subscription, apply_event
from tests.fakes.inventory import InventoryData, MemoryInventoryStore, memory_uow
from tests.fakes.kernel import MemoryUnitOfWork
from tests.support.refusals import refused

DC = LocationKind.DISTRIBUTION_CENTER
HUB = LocationKind.RETURN_HUB
Uow = MemoryUnitOfWork[InventoryStore, InventoryData]


async def seed(
    service: InventoryService, stock: dict[str, int], sku: str = "TEE", ships: bool = True
) -> None:
    """The SKU, a location per code (RETURN_HUB when it starts with HUB), and its units."""
    await service.upsert_sku(sku, sku.title(), 800, 200, serialized=False)
    for code, units in stock.items():
        kind = HUB if code.startswith("HUB") else DC
        await service.upsert_location(
            LocationChange(code, code, kind, 52.5, 13.4, ships_orders=ships)
        )
        if units:
            await service.adjust_stock(sku, code, units, "count")


def changes(uow: Uow) -> list[tuple[str, str, int, int, int, str]]:
    """(SKU, location, on hand, reserved, available, source type) of each published change."""
    return [
        (e.sku, e.location_code, e.on_hand, e.reserved, e.available, e.source_type)
        for e in uow.published(StockLevelChanged)
        if isinstance(e, StockLevelChanged)
    ]


# Locations and SKUs


async def test_a_location_is_upserted_by_code_keeping_its_id_and_its_capabilities() -> None:
    service = bootstrap(memory_uow())
    first = await service.upsert_location(
        LocationChange(" HUB-BER ", "Berlin hub", HUB, 52.5, 13.4)
    )
    assert (first.code, first.kind, first.ships_orders, first.accepts_returns) == (
        "HUB-BER",
        HUB,
        True,
        True,
    )
    second = await service.upsert_location(
        LocationChange("HUB-BER", "Berlin return hub", HUB, 52.6, 13.5, ships_orders=False)
    )
    assert second.id == first.id
    assert (second.name, second.latitude, second.longitude) == ("Berlin return hub", 52.6, 13.5)
    assert (second.ships_orders, second.accepts_returns) == (False, True)
    # A new kind keeps what the location does unless the operator says otherwise.
    third = await service.upsert_location(
        LocationChange("HUB-BER", "Berlin", LocationKind.THIRD_PARTY_WAREHOUSE, 52.5, 13.4)
    )
    assert (third.id, third.kind, third.ships_orders, third.accepts_returns) == (
        first.id,
        LocationKind.THIRD_PARTY_WAREHOUSE,
        False,
        True,
    )
    warehouse = await service.upsert_location(
        LocationChange("3PL-1", "Outsourced", LocationKind.THIRD_PARTY_WAREHOUSE, 48.1, 11.6)
    )
    assert (warehouse.ships_orders, warehouse.accepts_returns) == (True, False)
    assert warehouse.id != first.id

    assert await service.locations() == [warehouse, third]
    assert await service.locations(["HUB-BER", "NOPE"]) == [third]


async def test_a_bad_location_is_refused_and_nothing_is_stored() -> None:
    service = bootstrap(memory_uow())
    cases = [
        (
            service.upsert_location(LocationChange("has space", "n", DC, 1, 1)),
            (ErrorCode.INVALID_INPUT, "code"),
        ),
        (
            service.upsert_location(LocationChange("", "n", DC, 1, 1)),
            (ErrorCode.INVALID_INPUT, "code"),
        ),
        (
            service.upsert_location(LocationChange("X" * 65, "n", DC, 1, 1)),
            (ErrorCode.INVALID_INPUT, "code"),
        ),
        (
            service.upsert_location(LocationChange("X", "  ", DC, 1, 1)),
            (ErrorCode.INVALID_INPUT, "name"),
        ),
        (
            service.upsert_location(LocationChange("X", "n", DC, 90.5, 1)),
            (ErrorCode.INVALID_INPUT, "latitude"),
        ),
        (
            service.upsert_location(LocationChange("X", "n", DC, 1, -181)),
            (ErrorCode.INVALID_INPUT, "longitude"),
        ),
    ]
    for call, expected in cases:
        assert await refused(call) == expected
    assert await service.locations() == []


async def test_skus_are_upserted_by_code_and_listed_in_code_order() -> None:
    service = bootstrap(memory_uow())
    phone = await service.upsert_sku("PHONE", "Phone", 30000, 180, serialized=True)
    await service.upsert_sku("CASE", "Case", 500, 40, serialized=False)
    renamed = await service.upsert_sku("PHONE", " Phone 2 ", 31000, 181, serialized=True)
    assert (phone.code, renamed.title, renamed.unit_cost_cents, renamed.weight_grams) == (
        "PHONE",
        "Phone 2",
        31000,
        181,
    )
    assert [s.code for s in await service.skus()] == ["CASE", "PHONE"]
    assert await service.skus(["PHONE", "NOPE"]) == [renamed]

    cases = [
        (service.upsert_sku("a b", "t", 1, 1, False), (ErrorCode.INVALID_INPUT, "code")),
        (service.upsert_sku("A", "", 1, 1, False), (ErrorCode.INVALID_INPUT, "title")),
        (service.upsert_sku("A", "t", -1, 1, False), (ErrorCode.INVALID_INPUT, "unit_cost_cents")),
        (service.upsert_sku("A", "t", 1, -1, False), (ErrorCode.INVALID_INPUT, "weight_grams")),
    ]
    for call, expected in cases:
        assert await refused(call) == expected
    assert [s.code for s in await service.skus()] == ["CASE", "PHONE"]


# Stock


async def test_an_adjustment_changes_on_hand_with_its_ledger_entry_and_event() -> None:
    uow = memory_uow()
    service = bootstrap(uow)
    await seed(service, {"DC-1": 10})
    level = await service.adjust_stock("TEE", "DC-1", -3, " damaged ")
    assert level == StockLevel("TEE", "DC-1", on_hand=7)
    assert level.available == 7

    newest, oldest = await service.movements("TEE", "DC-1")
    assert (newest.id, newest.movement.delta, newest.movement.reason) == (
        2,
        StockDelta(on_hand=-3),
        "damaged",
    )
    assert (oldest.id, oldest.movement.delta, oldest.movement.reason) == (
        1,
        StockDelta(on_hand=10),
        "count",
    )
    assert newest.movement.source_type is SourceType.ADJUSTMENT
    assert newest.movement.source_id != oldest.movement.source_id
    assert uow.published(StockLevelChanged)[-1] == StockLevelChanged(
        sku="TEE",
        location_code="DC-1",
        on_hand=7,
        available=7,
        reason="damaged",
        source_type="ADJUSTMENT",
        source_id=newest.movement.source_id,
        movement_id=2,
        version=2,  # the level's second change
    )
    assert await service.ledger_discrepancies() == []


async def test_an_adjustment_is_refused_with_stable_codes_and_changes_nothing() -> None:
    uow = memory_uow()
    service = bootstrap(uow)
    await seed(service, {"DC-1": 3})
    await service.reserve("o-1", [ReservationLine("TEE", "DC-1", 2)], "order")
    await service.upsert_location(LocationChange("DC-EMPTY", "empty", DC, 1, 1))
    before = (len(uow.published(StockLevelChanged)), await service.stock_levels())
    cases = [
        (service.adjust_stock("TEE", "DC-1", 0, "x"), (ErrorCode.INVALID_QUANTITY, "delta")),
        (service.adjust_stock("TEE", "DC-1", 1, " "), (ErrorCode.INVALID_INPUT, "reason")),
        (service.adjust_stock("NOPE", "DC-1", 1, "x"), (ErrorCode.NOT_FOUND, "sku")),
        (service.adjust_stock("TEE", "NOPE", 1, "x"), (ErrorCode.NOT_FOUND, "location_code")),
        # Below what is reserved, and below zero where nothing was ever stocked.
        (service.adjust_stock("TEE", "DC-1", -2, "x"), (ErrorCode.INSUFFICIENT_STOCK, "delta")),
        (service.adjust_stock("TEE", "DC-EMPTY", -1, "x"), (ErrorCode.INSUFFICIENT_STOCK, "delta")),
    ]
    for call, expected in cases:
        assert await refused(call) == expected
    assert (len(uow.published(StockLevelChanged)), await service.stock_levels()) == before
    assert await service.adjust_stock("TEE", "DC-1", -1, "x") == StockLevel("TEE", "DC-1", 2, 2)


async def test_stock_levels_are_filtered_by_sku_and_location() -> None:
    service = bootstrap(memory_uow())
    await seed(service, {"DC-1": 5, "HUB-1": 2})
    await seed(service, {"DC-1": 1}, sku="CAP")
    assert [(x.sku, x.location_code) for x in await service.stock_levels()] == [
        ("CAP", "DC-1"),
        ("TEE", "DC-1"),
        ("TEE", "HUB-1"),
    ]
    assert await service.stock_levels(["TEE"], ["HUB-1"]) == [StockLevel("TEE", "HUB-1", 2)]
    assert [x.sku for x in await service.stock_levels(location_codes=["DC-1"])] == ["CAP", "TEE"]
    assert await service.stock_levels(["NOPE"]) == []


async def test_a_locations_levels_page_by_sku_for_whoever_may_read_there() -> None:
    service = bootstrap(memory_uow())
    for sku in ("TEE", "CAP", "MUG", "HAT"):
        await seed(service, {"DC-1": 5, "HUB-1": 2}, sku=sku)
    await seed(service, {"HUB-1": 1}, sku="BAG")
    pages, after, more = [], "", True
    while more:
        edges, more = await service.levels_at("DC-1", 3, after)
        pages.append([(level.sku, level.location_code) for _, level in edges])
        after = edges[-1][0]
    assert pages == [[("CAP", "DC-1"), ("HAT", "DC-1"), ("MUG", "DC-1")], [("TEE", "DC-1")]]
    assert await service.levels_at("DC-1", 3, after) == ([], False)
    at_the_hub = Caller("hub-1", Role.SCANNER, "HUB-1")
    edges, more = await service.levels_at("HUB-1", 50, "", at_the_hub)
    assert ([level.sku for _, level in edges], more) == (["BAG", "CAP", "HAT", "MUG", "TEE"], False)
    levels_at = service.levels_at
    for call, expected in [
        (levels_at("DC-1", 3, "", at_the_hub), (ErrorCode.FORBIDDEN, "location_code")),
        (levels_at("DC-NOPE", 3, ""), (ErrorCode.NOT_FOUND, "location_code")),
        (levels_at(" ", 3, ""), (ErrorCode.INVALID_INPUT, "location_code")),
        (levels_at("DC-1", 0, ""), (ErrorCode.INVALID_INPUT, "first")),
        (levels_at("DC-1", 201, ""), (ErrorCode.INVALID_INPUT, "first")),
        (levels_at("DC-1", 3, "TEE"), (ErrorCode.INVALID_INPUT, "after")),
        (
            levels_at("DC-1", 3, paging.encode_cursor("return", "TEE")),
            (ErrorCode.INVALID_INPUT, "after"),
        ),
    ]:
        assert await refused(call) == expected


async def test_availability_is_sellable_units_less_the_channels_safety_stock() -> None:
    service = bootstrap(memory_uow())
    await seed(service, {"DC-1": 10, "HUB-1": 4})
    await seed(service, {"DC-NOSHIP": 50}, ships=False)
    await seed(service, {"DC-1": 6}, sku="CAP")
    await service.reserve("o-1", [ReservationLine("TEE", "HUB-1", 1)], "order")

    # An unknown channel holds nothing back; an unknown SKU has nothing to sell.
    assert await service.availability(["TEE", "CAP", "NOPE"], "web") == [
        ("TEE", 13),
        ("CAP", 6),
        ("NOPE", 0),
    ]
    channel = await service.upsert_channel("marketplace", 2, [SafetyStock("CAP", 5)])
    assert (channel.code, channel.default_safety_stock, channel.safety_stock) == (
        "marketplace",
        2,
        (SafetyStock("CAP", 5),),
    )
    assert await service.availability(["TEE", "CAP"], "marketplace") == [("TEE", 11), ("CAP", 1)]
    # A SKU's own safety stock wins over the default, and availability never goes below 0.
    await service.upsert_channel("marketplace", 2, [SafetyStock("TEE", 25)])
    assert await service.availability(["TEE", "CAP"], "marketplace") == [("TEE", 0), ("CAP", 4)]
    # Setting the channel up again replaces its per-SKU safety stock.
    await service.upsert_channel("marketplace", 0, [])
    assert await service.availability(["TEE", "CAP"], "marketplace") == [("TEE", 13), ("CAP", 6)]
    assert await service.availability(["TEE"], "web") == [("TEE", 13)]


async def test_a_bad_channel_is_refused() -> None:
    service = bootstrap(memory_uow())
    cases = [
        (service.upsert_channel("has space", 0, []), (ErrorCode.INVALID_INPUT, "code")),
        (service.upsert_channel("web", -1, []), (ErrorCode.INVALID_INPUT, "default_safety_stock")),
        (
            service.upsert_channel("web", 0, [SafetyStock("A", 1), SafetyStock("B", -1)]),
            (ErrorCode.INVALID_INPUT, "safety_stock.1.units"),
        ),
    ]
    for call, expected in cases:
        assert await refused(call) == expected
    await seed(service, {"DC-1": 3})
    assert await service.availability(["TEE"], "web") == [("TEE", 3)]


async def test_sourcing_options_name_shipping_locations_with_units_and_unknown_skus() -> None:
    service = bootstrap(memory_uow())
    await seed(service, {"HUB-1": 1, "DC-2": 3, "DC-1": 4, "HUB-EMPTY": 0})
    await seed(service, {"DC-1": 2}, sku="CAP")
    await seed(service, {"DC-NOSHIP": 9}, ships=False)
    await service.reserve("o-1", [ReservationLine("TEE", "HUB-1", 1)], "order")

    options, unknown, made_from = await service.sourcing_options(["TEE", "OTHER", "CAP"])
    assert [(location.code, units) for location, units in options] == [
        ("DC-1", {"CAP": 2, "TEE": 4}),
        ("DC-2", {"TEE": 3}),
    ]
    assert options[0][0] == (await service.locations(["DC-1"]))[0]
    assert unknown == ["OTHER"]
    assert made_from == {}
    assert await service.sourcing_options([]) == ([], [], {})


async def test_movements_come_newest_first_in_bounded_pages() -> None:
    service = bootstrap(memory_uow(), InventorySettings(max_movements_page=3))
    await seed(service, {"DC-1": 1, "DC-2": 1})
    for units in (2, 3, 4, 5):
        await service.adjust_stock("TEE", "DC-1", units, f"count {units}")
    reasons = [entry.movement.reason for entry in await service.movements("TEE", "DC-1")]
    assert reasons == ["count 5", "count 4", "count 3"]
    assert [e.id for e in await service.movements("TEE", "DC-1", limit=2)] == [6, 5]
    assert [e.id for e in await service.movements("TEE", "DC-1", limit=0)] == [6]
    assert [e.id for e in await service.movements("TEE", "DC-2")] == [2]
    assert await service.movements("TEE", "NOPE") == []
    assert InventorySettings.from_env({"OMS_INVENTORY_GRPC_LISTEN": "x"}) == InventorySettings()
    assert InventorySettings().max_movements_page == 1000


async def test_the_ledger_replays_to_the_levels_unless_a_level_is_changed_behind_its_back() -> None:
    uow = memory_uow()
    service = bootstrap(uow)
    await seed(service, {"DC-1": 5, "HUB-1": 2})
    await service.reserve("o-1", [ReservationLine("TEE", "DC-1", 2)], "order")
    await service.commit("o-1")
    assert await service.ledger_discrepancies() == []

    corrupted = replace(uow.data.levels[("TEE", "HUB-1")], on_hand=9)
    uow.data.levels[("TEE", "HUB-1")] = corrupted
    assert await service.ledger_discrepancies() == [
        (corrupted, StockLevel("TEE", "HUB-1", on_hand=2))
    ]
    # A level with no ledger entry at all replays to zero.
    uow.data.levels[("TEE", "DC-9")] = StockLevel("TEE", "DC-9", on_hand=1, reserved=1)
    assert [rebuilt.location_code for _, rebuilt in await service.ledger_discrepancies()] == [
        "DC-9",
        "HUB-1",
    ]
    # A level the ledger moved whose row is gone is reported too.
    del uow.data.levels[("TEE", "DC-1")]
    assert (None, StockLevel("TEE", "DC-1", on_hand=3)) in await service.ledger_discrepancies()


# Reservations


async def test_a_reservation_holds_every_line_or_none() -> None:
    uow = memory_uow()
    service = bootstrap(uow)
    await seed(service, {"DC-1": 2, "HUB-1": 1})
    published = len(uow.published(StockLevelChanged))
    big = service.reserve(
        "big", [ReservationLine("TEE", "DC-1", 2), ReservationLine("TEE", "HUB-1", 2)], "order"
    )
    assert await refused(big) == (ErrorCode.INSUFFICIENT_STOCK, "lines.1.quantity")
    assert [x.reserved for x in await service.stock_levels()] == [0, 0]
    assert len(uow.published(StockLevelChanged)) == published
    assert await refused(service.reservation("big")) == (ErrorCode.NOT_FOUND, "key")
    assert await service.ledger_discrepancies() == []


async def test_a_reservation_merges_its_lines_into_lock_order_and_publishes_each_hold() -> None:
    uow = memory_uow()
    service = bootstrap(uow)
    await seed(service, {"DC-1": 5, "HUB-1": 4})
    await seed(service, {"DC-1": 3}, sku="CAP")
    lines = [
        ReservationLine("TEE", "HUB-1", 1),
        ReservationLine("TEE", "DC-1", 1),
        ReservationLine("CAP", "DC-1", 2),
        ReservationLine("TEE", "HUB-1", 2),
    ]
    reservation = await service.reserve(" o-1 ", lines, "")
    held = (
        ReservationLine("CAP", "DC-1", 2),
        ReservationLine("TEE", "DC-1", 1),
        ReservationLine("TEE", "HUB-1", 3),
    )
    assert reservation == Reservation("o-1", ReservationStatus.HELD, held=held)
    assert await service.reservation("o-1") == reservation
    assert uow.data.holders["o-1"] == "order"
    assert changes(uow)[-3:] == [
        ("CAP", "DC-1", 3, 2, 1, "RESERVATION"),
        ("TEE", "DC-1", 5, 1, 4, "RESERVATION"),
        ("TEE", "HUB-1", 4, 3, 1, "RESERVATION"),
    ]
    [entry] = await service.movements("TEE", "HUB-1", limit=1)
    assert (entry.movement.reason, entry.movement.source_id) == ("reserved for o-1", "o-1")


async def test_reserving_again_under_a_key_answers_with_its_reservation() -> None:
    uow = memory_uow()
    service = bootstrap(uow)
    await seed(service, {"DC-1": 5, "HUB-1": 5})
    lines = [ReservationLine("TEE", "DC-1", 1), ReservationLine("TEE", "HUB-1", 1)]
    first = await service.reserve("o-1", lines, "order")
    published = len(uow.published(StockLevelChanged))
    again = await service.reserve("o-1", [ReservationLine("TEE", "DC-1", 4)], "order")
    assert again == first
    assert [x.reserved for x in await service.stock_levels()] == [1, 1]
    assert len(uow.published(StockLevelChanged)) == published

    await service.commit("o-1", "HUB-1")
    after_shipping = await service.reserve("o-1", lines, "order")
    assert after_shipping.status is ReservationStatus.PARTIALLY_COMMITTED
    assert after_shipping.committed == (ReservationLine("TEE", "HUB-1", 1),)


async def test_a_bad_reservation_is_refused_with_the_line_at_fault() -> None:
    service = bootstrap(memory_uow())
    await seed(service, {"DC-1": 3})
    await service.upsert_location(LocationChange("DC-EMPTY", "empty", DC, 1, 1))
    line = ReservationLine
    cases = [
        (service.reserve("a b", [line("TEE", "DC-1", 1)], ""), (ErrorCode.INVALID_INPUT, "key")),
        (service.reserve("o", [], ""), (ErrorCode.INVALID_QUANTITY, "lines")),
        (
            service.reserve("o", [line("TEE", "DC-1", 1), line("TEE", "DC-1", 0)], ""),
            (ErrorCode.INVALID_QUANTITY, "lines.1.quantity"),
        ),
        (service.reserve("o", [line("NOPE", "DC-1", 1)], ""), (ErrorCode.NOT_FOUND, "lines.0.sku")),
        (
            service.reserve("o", [line("TEE", "DC-1", 1), line("TEE", "NOPE", 1)], ""),
            (ErrorCode.NOT_FOUND, "lines.1.location_code"),
        ),
        # Known SKU and location, but no units there ever.
        (
            service.reserve("o", [line("TEE", "DC-EMPTY", 1)], ""),
            (ErrorCode.INSUFFICIENT_STOCK, "lines.0.quantity"),
        ),
        (
            service.reserve("o", [line("TEE", "DC-1", 4)], ""),
            (ErrorCode.INSUFFICIENT_STOCK, "lines.0.quantity"),
        ),
    ]
    for call, expected in cases:
        assert await refused(call) == expected
    assert await refused(service.reservation("o")) == (ErrorCode.NOT_FOUND, "key")
    assert await service.stock_levels() == [StockLevel("TEE", "DC-1", 3)]


async def test_commit_ships_held_units_and_release_gives_back_the_rest() -> None:
    uow = memory_uow()
    service = bootstrap(uow)
    await seed(service, {"DC-1": 2, "HUB-1": 1})
    lines = [ReservationLine("TEE", "DC-1", 1), ReservationLine("TEE", "HUB-1", 1)]
    await service.reserve("o-1", lines, "order")

    shipped = await service.commit("o-1", "HUB-1")
    assert shipped == Reservation(
        "o-1",
        ReservationStatus.PARTIALLY_COMMITTED,
        held=(ReservationLine("TEE", "DC-1", 1),),
        committed=(ReservationLine("TEE", "HUB-1", 1),),
    )
    assert changes(uow)[-1] == ("TEE", "HUB-1", 0, 0, 0, "SHIPMENT")
    assert await service.commit("o-1", "HUB-1") == shipped  # nothing more to ship there
    published = len(uow.published(StockLevelChanged))

    released = await service.release("o-1")
    assert released == Reservation(
        "o-1",
        ReservationStatus.COMMITTED,
        committed=(ReservationLine("TEE", "HUB-1", 1),),
        released=(ReservationLine("TEE", "DC-1", 1),),
    )
    assert changes(uow)[published:] == [("TEE", "DC-1", 2, 0, 2, "RESERVATION")]
    assert await service.release("o-1") == released  # nothing more to give back
    assert await service.commit("o-1") == released  # nor to ship
    assert len(uow.published(StockLevelChanged)) == published + 1
    assert await service.reservation("o-1") == released
    assert [(x.location_code, x.on_hand, x.reserved) for x in await service.stock_levels()] == [
        ("DC-1", 2, 0),
        ("HUB-1", 0, 0),
    ]
    sources = [e.movement.source_type for e in await service.movements("TEE", "HUB-1")]
    assert sources == [SourceType.SHIPMENT, SourceType.RESERVATION, SourceType.ADJUSTMENT]
    [give_back] = await service.movements("TEE", "DC-1", limit=1)
    assert (give_back.movement.delta, give_back.movement.reason) == (
        StockDelta(reserved=-1),
        "released by o-1",
    )
    assert await service.ledger_discrepancies() == []


async def test_commit_without_a_location_ships_every_held_line() -> None:
    uow = memory_uow()
    service = bootstrap(uow)
    await seed(service, {"DC-1": 2, "HUB-1": 1})
    lines = [ReservationLine("TEE", "HUB-1", 1), ReservationLine("TEE", "DC-1", 2)]
    await service.reserve("o-1", lines, "order")
    shipped = await service.commit("o-1")
    assert shipped == Reservation(
        "o-1",
        ReservationStatus.COMMITTED,
        committed=(ReservationLine("TEE", "DC-1", 2), ReservationLine("TEE", "HUB-1", 1)),
    )
    assert changes(uow)[-2:] == [
        ("TEE", "DC-1", 0, 0, 0, "SHIPMENT"),
        ("TEE", "HUB-1", 0, 0, 0, "SHIPMENT"),
    ]
    [entry] = await service.movements("TEE", "DC-1", limit=1)
    assert (entry.movement.delta, entry.movement.reason) == (
        StockDelta(on_hand=-2, reserved=-2),
        "shipped for o-1",
    )


async def test_a_released_key_is_a_tombstone_that_refuses_a_late_reservation() -> None:
    uow = memory_uow()
    service = bootstrap(uow)
    await seed(service, {"DC-1": 3})
    line = ReservationLine("TEE", "DC-1", 1)

    # The release overtakes its reservation: the key is recorded as released.
    assert await service.release("late") == Reservation("late", ReservationStatus.RELEASED)
    assert uow.data.holders["late"] == "unknown"
    assert await refused(service.reserve("late", [line], "order")) == (
        ErrorCode.INVALID_STATE,
        "key",
    )
    assert await refused(service.commit("late")) == (ErrorCode.INVALID_STATE, "key")
    assert await service.release("late") == Reservation("late", ReservationStatus.RELEASED)

    # A reservation released in full is refused the same way.
    await service.reserve("o-1", [line], "order")
    released = await service.release("o-1")
    assert released == Reservation("o-1", ReservationStatus.RELEASED, released=(line,))
    assert await refused(service.reserve("o-1", [line], "order")) == (
        ErrorCode.INVALID_STATE,
        "key",
    )
    assert await refused(service.commit("o-1")) == (ErrorCode.INVALID_STATE, "key")
    assert await service.stock_levels() == [StockLevel("TEE", "DC-1", 3)]


async def test_an_unknown_reservation_is_not_found() -> None:
    service = bootstrap(memory_uow())
    assert await refused(service.commit("ghost")) == (ErrorCode.NOT_FOUND, "key")
    assert await refused(service.reservation("ghost")) == (ErrorCode.NOT_FOUND, "key")


class RacedStore(MemoryInventoryStore):
    """A store where a concurrent call claims the key (and commits) between this unit of work
    finding the key free and claiming it, as on PostgreSQL."""

    winner = Reservation("o-1", ReservationStatus.HELD, held=(ReservationLine("TEE", "DC-1", 2),))

    async def claim_reservation(
        self, key: str, holder_type: str, status: ReservationStatus
    ) -> bool:
        if key not in self.data.reservations:
            self.data.reservations[key] = self.winner
            self.data.levels[("TEE", "DC-1")] = StockLevel("TEE", "DC-1", 5, 2)
        return await super().claim_reservation(key, holder_type, status)


async def raced() -> tuple[InventoryService, Uow]:
    uow: Uow = memory_uow()
    service = bootstrap(uow)
    await seed(service, {"DC-1": 5})
    uow = MemoryUnitOfWork(uow.data, RacedStore)
    return bootstrap(uow), uow


async def test_a_concurrent_reserve_under_the_same_key_answers_with_the_winners_reservation() -> (
    None
):
    service, uow = await raced()
    published = len(uow.published(StockLevelChanged))
    answer = await service.reserve("o-1", [ReservationLine("TEE", "DC-1", 1)], "order")
    assert answer == RacedStore.winner
    assert await service.stock_levels() == [StockLevel("TEE", "DC-1", 5, 2)]
    assert len(uow.published(StockLevelChanged)) == published


async def test_a_release_that_loses_the_claim_gives_back_what_the_winner_holds() -> None:
    service, uow = await raced()
    released = await service.release("o-1")
    assert released == Reservation(
        "o-1", ReservationStatus.RELEASED, released=(ReservationLine("TEE", "DC-1", 2),)
    )
    assert changes(uow)[-1] == ("TEE", "DC-1", 5, 0, 5, "RESERVATION")


# Events


def envelope(payload: Message, event_id: str = "") -> EventEnvelope:
    wrapped = EventEnvelope(
        event_id=event_id or str(uuid.uuid4()), event_type=payload.DESCRIPTOR.name
    )
    wrapped.payload.Pack(payload)
    return wrapped


def returned(*lines: tuple[str, int]) -> list[ReturnUnits]:
    return [ReturnUnits(sku=sku, quantity=units) for sku, units in lines]


def inspected(*lines: tuple[str, int, rpb.Disposition.ValueType]) -> list[InspectedUnits]:
    return [
        InspectedUnits(sku=sku, quantity=units, disposition=disposition)
        for sku, units, disposition in lines
    ]


def refurbishment(
    quantity: int = 2, kind: wpb.WorkOrderKind.ValueType = wpb.WORK_ORDER_KIND_REFURBISH
) -> WorkOrderOpened:
    """Work order W1 refurbishing returned PHONEs at the hub (its completion carries the same
    fields)."""
    return WorkOrderOpened(
        work_order_id="W1",
        kind=kind,
        sku="PHONE",
        quantity=quantity,
        location_code="HUB-BER",
        source_return_id="R1",
    )


def completed(opened: WorkOrderOpened) -> WorkOrderCompleted:
    return WorkOrderCompleted.FromString(opened.SerializeToString())


Subscriptions = Subscription[InventoryStore]


async def returns_hub() -> tuple[InventoryService, Uow, Subscriptions, Subscriptions]:
    uow = memory_uow()
    service = bootstrap(uow)
    await service.upsert_location(LocationChange("HUB-BER", "Berlin hub", HUB, 52.5, 13.4))
    for sku in ("PHONE", "TEE"):
        await service.upsert_sku(sku, sku, 900, 200, serialized=sku == "PHONE")
    returns, workorders, _procurement = subscriptions(service)
    return service, uow, returns, workorders


async def hub_levels(service: InventoryService) -> dict[str, tuple[int, ...]]:
    """(on hand, reserved, pending inspection, in repair) per SKU at the hub."""
    return {
        x.sku: (x.on_hand, x.reserved, x.pending_inspection, x.in_repair)
        for x in await service.stock_levels(location_codes=["HUB-BER"])
    }


async def test_the_subscriptions_keep_their_durable_names_and_subjects() -> None:
    _, _, returns, workorders = await returns_hub()
    assert (returns.durable, returns.subject) == ("inventory-returns", "oms.returns.>")
    assert set(returns.handlers) == {ReturnReceived, ReturnInspected, ReturnRejected}
    assert (workorders.durable, workorders.subject) == ("inventory-workorders", "oms.workorders.>")
    assert set(workorders.handlers) == {WorkOrderOpened, WorkOrderCompleted, WorkOrderCancelled}


async def test_returned_units_move_through_inspection_and_repair_into_stock() -> None:
    service, uow, returns, workorders = await returns_hub()
    received = ReturnReceived(
        return_id="R1", location_code="HUB-BER", lines=returned(("PHONE", 3), ("TEE", 2))
    )
    assert await apply_event(uow, returns, envelope(received))
    assert await hub_levels(service) == {"PHONE": (0, 0, 3, 0), "TEE": (0, 0, 2, 0)}

    inspection = ReturnInspected(
        return_id="R1",
        location_code="HUB-BER",
        lines=inspected(
            ("PHONE", 1, rpb.DISPOSITION_RESTOCK),
            ("PHONE", 2, rpb.DISPOSITION_REFURBISH),
            ("TEE", 1, rpb.DISPOSITION_RESTOCK),
            ("TEE", 1, rpb.DISPOSITION_LIQUIDATE),
        ),
    )
    assert await apply_event(uow, returns, envelope(inspection))
    # Restocked units are sellable at once; the others only leave the inspection pile.
    assert await hub_levels(service) == {"PHONE": (1, 0, 0, 0), "TEE": (1, 0, 0, 0)}

    assert await apply_event(uow, workorders, envelope(refurbishment()))
    assert await hub_levels(service) == {"PHONE": (1, 0, 0, 2), "TEE": (1, 0, 0, 0)}
    assert await apply_event(uow, workorders, envelope(completed(refurbishment())))
    assert await hub_levels(service) == {"PHONE": (3, 0, 0, 0), "TEE": (1, 0, 0, 0)}

    second = ReturnReceived(return_id="R2", location_code="HUB-BER", lines=returned(("TEE", 1)))
    assert await apply_event(uow, returns, envelope(second))
    assert await hub_levels(service) == {"PHONE": (3, 0, 0, 0), "TEE": (1, 0, 1, 0)}
    rejected = ReturnRejected(return_id="R2", location_code="HUB-BER", lines=returned(("TEE", 1)))
    assert await apply_event(uow, returns, envelope(rejected))
    assert await hub_levels(service) == {"PHONE": (3, 0, 0, 0), "TEE": (1, 0, 0, 0)}

    assert [
        (e.sku, e.reason, e.source_type, e.source_id)
        for e in uow.published(StockLevelChanged)
        if isinstance(e, StockLevelChanged)
    ] == [
        ("PHONE", "return R1 received", "RETURN", "R1"),
        ("TEE", "return R1 received", "RETURN", "R1"),
        ("PHONE", "return R1 inspected: RESTOCK", "RETURN", "R1"),
        ("PHONE", "return R1 inspected: REFURBISH", "RETURN", "R1"),
        ("TEE", "return R1 inspected: RESTOCK", "RETURN", "R1"),
        ("TEE", "return R1 inspected: LIQUIDATE", "RETURN", "R1"),
        ("PHONE", "work order W1 opened", "WORK_ORDER", "W1"),
        ("PHONE", "work order W1 completed", "WORK_ORDER", "W1"),
        ("TEE", "return R2 received", "RETURN", "R2"),
        ("TEE", "return R2 rejected", "RETURN", "R2"),
    ]
    last = uow.published(StockLevelChanged)[7]
    assert isinstance(last, StockLevelChanged)
    assert (last.on_hand, last.available, last.in_repair, last.movement_id) == (3, 3, 0, 8)
    entries = await service.movements("PHONE", "HUB-BER")
    assert [e.movement.delta for e in reversed(entries)] == [
        StockDelta(pending_inspection=3),
        StockDelta(pending_inspection=-1, on_hand=1),
        StockDelta(pending_inspection=-2),
        StockDelta(in_repair=2),
        StockDelta(in_repair=-2, on_hand=2),
    ]
    assert await service.ledger_discrepancies() == []


async def test_a_redelivered_event_moves_stock_once() -> None:
    service, uow, returns, _ = await returns_hub()
    received = envelope(
        ReturnReceived(return_id="R1", location_code="HUB-BER", lines=returned(("PHONE", 2)))
    )
    assert await apply_event(uow, returns, received)
    assert not await apply_event(uow, returns, received)
    assert await hub_levels(service) == {"PHONE": (0, 0, 2, 0)}
    assert len(uow.published(StockLevelChanged)) == 1
    assert len(await service.movements("PHONE", "HUB-BER")) == 1


async def test_bad_data_in_an_event_is_logged_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service, uow, returns, workorders = await returns_hub()
    bad_data = ReturnReceived(
        return_id="R2",
        location_code="HUB-BER",
        lines=returned(("NO-SUCH-SKU", 1), ("TEE", 0), ("TEE", -2), ("TEE", 1)),
    )
    nowhere = ReturnReceived(return_id="R3", location_code="NOWHERE", lines=returned(("TEE", 5)))
    with caplog.at_level(logging.WARNING):
        assert await apply_event(uow, returns, envelope(bad_data))
        assert await apply_event(uow, returns, envelope(nowhere))
        zero = refurbishment(quantity=0)
        assert await apply_event(uow, workorders, envelope(zero))
    # The known line of the same event still counts.
    assert await hub_levels(service) == {"TEE": (0, 0, 1, 0)}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "ReturnReceived: TEE has quantity 0; skipped",
        "ReturnReceived: TEE has quantity -2; skipped",
        "ReturnReceived: unknown SKU 'NO-SUCH-SKU'; skipped",
        "ReturnReceived: unknown location 'NOWHERE'; skipped",
        "WorkOrderOpened: PHONE has quantity 0; skipped",
    ]

    # Kits move stock through reservations; a refund is not inventory's business.
    kit = refurbishment(kind=wpb.WORK_ORDER_KIND_KIT_ASSEMBLY)
    assert await apply_event(uow, workorders, envelope(kit))
    refund = RefundIssued(return_id="R1", refund_id="F1", amount_cents=100, provider="test")
    assert not await apply_event(uow, returns, envelope(refund))
    assert await hub_levels(service) == {"TEE": (0, 0, 1, 0)}
    assert len(uow.published(StockLevelChanged)) == 1


async def test_an_event_that_would_break_a_level_raises_and_is_applied_on_retry() -> None:
    service, uow, returns, _ = await returns_hub()
    inspection = envelope(
        ReturnInspected(
            return_id="R1",
            location_code="HUB-BER",
            lines=inspected(
                ("TEE", 1, rpb.DISPOSITION_RESTOCK), ("PHONE", 1, rpb.DISPOSITION_RESTOCK)
            ),
        )
    )
    # TEE has a level after this; PHONE has none, so the inspection cannot apply in full.
    early = ReturnReceived(return_id="R0", location_code="HUB-BER", lines=returned(("TEE", 1)))
    assert await apply_event(uow, returns, envelope(early))
    with pytest.raises(DomainError) as raised:
        await apply_event(uow, returns, inspection)
    assert raised.value.code is ErrorCode.INSUFFICIENT_STOCK
    # Nothing of it stayed, not even the TEE line that fitted, nor the processed-event note.
    assert await hub_levels(service) == {"TEE": (0, 0, 1, 0)}
    assert len(uow.published(StockLevelChanged)) == 1

    received = ReturnReceived(return_id="R1", location_code="HUB-BER", lines=returned(("PHONE", 1)))
    assert await apply_event(uow, returns, envelope(received))
    assert await apply_event(uow, returns, inspection)
    assert await hub_levels(service) == {"PHONE": (1, 0, 0, 0), "TEE": (1, 0, 0, 0)}
    assert await service.ledger_discrepancies() == []


# Properties

SKUS = ("A", "B")
LOCATIONS = ("DC-1", "HUB-1")
KEYS = ("k1", "k2", "k3")
lines = st.lists(
    st.builds(
        ReservationLine, st.sampled_from(SKUS), st.sampled_from(LOCATIONS), st.integers(1, 4)
    ),
    min_size=1,
    max_size=3,
)
operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("adjust"),
            st.sampled_from(SKUS),
            st.sampled_from(LOCATIONS),
            st.one_of(st.integers(-6, -1), st.integers(1, 8)),
        ),
        st.tuples(st.just("reserve"), st.sampled_from(KEYS), lines),
        st.tuples(st.just("release"), st.sampled_from(KEYS)),
        st.tuples(st.just("commit"), st.sampled_from(KEYS), st.sampled_from(("", *LOCATIONS))),
    ),
    max_size=25,
)
# Units each level starts with, so that most operations meet a level.
opening_stock = st.lists(st.integers(0, 6), min_size=4, max_size=4)
Operation = tuple[Any, ...]


async def run(service: InventoryService, operation: Operation) -> None:
    match operation:
        case ("adjust", sku, location_code, delta):
            await service.adjust_stock(sku, location_code, delta, "count")
        case ("reserve", key, wanted):
            await service.reserve(key, wanted, "order")
        case ("release", key):
            await service.release(key)
        case ("commit", key, location_code):
            await service.commit(key, location_code)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(opening_stock, operations)
async def test_no_sequence_of_use_cases_oversells_or_unbalances_the_ledger(
    opening: list[int], sequence: list[Operation]
) -> None:
    uow = memory_uow()
    service = bootstrap(uow)
    for code in LOCATIONS:
        await service.upsert_location(LocationChange(code, code, DC, 1, 1))
    for sku in SKUS:
        await service.upsert_sku(sku, sku, 100, 10, serialized=False)
    places = [(sku, code) for sku in SKUS for code in LOCATIONS]
    for (sku, code), units in zip(places, opening, strict=True):
        if units:
            await service.adjust_stock(sku, code, units, "opening count")
    for operation in sequence:
        try:
            await run(service, operation)
        except DomainError as error:
            assert error.code in (
                ErrorCode.INSUFFICIENT_STOCK,
                ErrorCode.INVALID_STATE,
                ErrorCode.NOT_FOUND,
            ), error
        levels = await service.stock_levels()
        for x in levels:
            states = (x.on_hand, x.reserved, x.in_transit, x.pending_inspection, x.in_repair)
            assert min(states) >= 0 and x.reserved <= x.on_hand, x
        assert await service.ledger_discrepancies() == []
        # What each level holds back is exactly what the reservations still hold there.
        held: dict[tuple[str, str], int] = {}
        for reservation in uow.data.reservations.values():
            for line in reservation.held:
                key = (line.sku, line.location_code)
                held[key] = held.get(key, 0) + line.quantity
        assert {(x.sku, x.location_code): x.reserved for x in levels if x.reserved} == held


async def test_a_location_declares_daily_capacities_and_no_limit_when_left_out() -> None:
    service = bootstrap(memory_uow())
    hub = LocationChange("HUB-1", "Hub", HUB, 52.5, 13.4, daily_inspection_capacity=40)
    assert (await service.upsert_location(hub)).daily_inspection_capacity == 40
    again = await service.upsert_location(LocationChange("HUB-1", "Hub", HUB, 52.5, 13.4))
    assert (again.daily_ship_capacity, again.daily_inspection_capacity) == (None, None)
    negative = LocationChange("HUB-1", "Hub", HUB, 52.5, 13.4, daily_ship_capacity=-1)
    assert await refused(service.upsert_location(negative)) == (
        ErrorCode.INVALID_INPUT,
        "daily_ship_capacity",
    )
    no_kind = LocationChange("HUB-2", "Hub", None, 52.5, 13.4)
    assert await refused(service.upsert_location(no_kind)) == (ErrorCode.INVALID_INPUT, "kind")


async def test_a_scanner_reads_stock_at_its_own_location_only() -> None:
    service = bootstrap(memory_uow())
    await seed(service, {"DC-1": 5, "HUB-BER": 2})
    scanner = Caller("hub-1", Role.SCANNER, "HUB-BER")
    assert [x.location_code for x in await service.stock_levels(["TEE"], (), scanner)] == [
        "HUB-BER"
    ]
    assert await service.stock_levels(["TEE"], ["DC-1"], scanner) == []
    ops = Caller("ops", Role.BACKOFFICE)
    assert len(await service.stock_levels(["TEE"], (), ops)) == 2


async def test_an_adjustment_under_an_idempotency_key_happens_once() -> None:
    uow = memory_uow()
    service = bootstrap(uow)
    await seed(service, {"DC-1": 3})
    first = await service.adjust_stock("TEE", "DC-1", 5, "delivery", "count-7")
    assert first.on_hand == 8
    # Retried: nothing changes, and the level is what it is now.
    await service.adjust_stock("TEE", "DC-1", -1, "damaged")
    again = await service.adjust_stock("TEE", "DC-1", 5, "delivery", "count-7")
    assert again == StockLevel("TEE", "DC-1", on_hand=7)
    assert [c[2] for c in changes(uow)] == [3, 8, 7]
    # The key names that adjustment: another one under it is a mistake, refused.
    other = service.adjust_stock("TEE", "DC-1", 6, "delivery", "count-7")
    assert await refused(other) == (ErrorCode.INVALID_INPUT, "idempotency_key")
    # A refused adjustment leaves its key unused.
    short = service.adjust_stock("TEE", "DC-1", -50, "loss", "count-8")
    assert await refused(short) == (ErrorCode.INSUFFICIENT_STOCK, "delta")
    assert (await service.adjust_stock("TEE", "DC-1", -2, "loss", "count-8")).on_hand == 5
    too_long = service.adjust_stock("TEE", "DC-1", 1, "x", "k" * 129)
    assert await refused(too_long) == (ErrorCode.INVALID_INPUT, "idempotency_key")


async def test_a_level_holds_a_bounded_number_of_units() -> None:
    service = bootstrap(memory_uow())
    await seed(service, {"DC-1": 999_999_999})
    huge = service.adjust_stock("TEE", "DC-1", 1_000_000_001, "count")
    assert await refused(huge) == (ErrorCode.INVALID_QUANTITY, "delta")
    past = service.adjust_stock("TEE", "DC-1", 2, "count")
    assert await refused(past) == (ErrorCode.INVALID_QUANTITY, "delta")
    assert (await service.adjust_stock("TEE", "DC-1", 1, "count")).on_hand == 1_000_000_000


async def test_queries_name_a_bounded_number_of_codes() -> None:
    service = bootstrap(memory_uow())
    await seed(service, {"DC-1": 1})
    many = [f"SKU-{i}" for i in range(501)]
    assert await refused(service.availability(many, "web")) == (ErrorCode.INVALID_INPUT, "skus")
    assert await refused(service.stock_levels(many)) == (ErrorCode.INVALID_INPUT, "skus")
    assert await refused(service.skus(many)) == (ErrorCode.INVALID_INPUT, "codes")
    assert await refused(service.locations(many)) == (ErrorCode.INVALID_INPUT, "codes")
    assert await refused(service.sourcing_options(many)) == (ErrorCode.INVALID_INPUT, "skus")
    nul = service.availability(["TEE", "T\x00"], "web")
    assert await refused(nul) == (ErrorCode.INVALID_INPUT, "skus.1")
    assert await refused(service.availability(["TEE"], "w" * 65)) == (
        ErrorCode.INVALID_INPUT,
        "channel",
    )
    assert await service.availability(many[:500], "web") == [(sku, 0) for sku in many[:500]]
