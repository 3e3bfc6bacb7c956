"""Made to order, in each service's own terms over its in-memory store: orders route and hold
the blank and ship only what inventory holds as made; workorders opens a VALUE_ADD per SKU made
to order (once) and cancels it with its order; inventory declares blanks and makes the units
from the order's blanks, held for the order."""

from __future__ import annotations

import uuid
from typing import Any

from google.protobuf.message import Message

from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.orders_pb2 import MadeToOrderFact, OrderCancelled, OrderPlaced
from oms.events.v1.workorders_pb2 import WorkOrderCancelled, WorkOrderCompleted
from oms.workorders.v1 import workorders_pb2 as wpb
from services.inventory.bootstrap import bootstrap as inventory_bootstrap
from services.inventory.domain.model import (
    InventoryValue,
    LocationChange,
    LocationKind,
    ReservationLine,
)
from services.inventory.events import subscriptions as inventory_subscriptions
from services.inventory.service import InventoryService
from services.kernel.caller import Caller, Role
from services.kernel.errors import ErrorCode
from services.kernel.events import apply_event
from services.orders.domain import rules
from services.orders.domain.model import OrderLine
from services.workorders.bootstrap import bootstrap as workorders_bootstrap
from services.workorders.domain.model import OperationDone, WorkOrderKind, WorkOrderStatus
from services.workorders.events import subscriptions as workorders_subscriptions
from services.workorders.service import WorkOrdersService
from tests.fakes.inventory import memory_uow as inventory_uow
from tests.fakes.kernel import MemoryUnitOfWork
from tests.fakes.workorders import InventoryOverService
from tests.fakes.workorders import memory_uow as workorders_uow
from tests.support.refusals import refused
from tests.unit.test_orders_use_cases import new_order, system


def envelope(payload: Message) -> EventEnvelope:
    wrapped = EventEnvelope(event_id=str(uuid.uuid4()), event_type=payload.DESCRIPTOR.name)
    wrapped.payload.Pack(payload)
    return wrapped


# Orders: the rules


def test_a_made_sku_is_routed_as_its_blank_added_to_the_blanks_own_units() -> None:
    made_from = {"HOODIE-EMB": "HOODIE"}
    assert rules.units_by_source({"HOODIE-EMB": 2, "HOODIE": 1, "CAP": 1}, made_from) == {
        "HOODIE": 3,
        "CAP": 1,
    }


def test_held_blanks_ship_as_the_ordered_skus_made_ones_first_each_unit_once() -> None:
    lines = [OrderLine("HOODIE-EMB", 2, 0), OrderLine("HOODIE", 2, 0), OrderLine("CAP", 1, 0)]
    parcels = [("DC-1", (("CAP", 1), ("HOODIE", 1))), ("HUB-1", (("HOODIE", 3),))]
    assert rules.as_ordered(parcels, lines, {"HOODIE-EMB": "HOODIE"}) == [
        ("DC-1", (("CAP", 1), ("HOODIE-EMB", 1))),
        ("HUB-1", (("HOODIE-EMB", 1), ("HOODIE", 2))),
    ]
    assert rules.as_ordered(parcels, lines, {}) == parcels


# Orders: placing and shipping


async def test_an_order_holds_the_blank_and_ships_only_once_the_unit_is_made() -> None:
    service, uow, inventory = system({("HOODIE", "HUB-BER"): 1, ("HOODIE", "DC-LIS"): 5})
    inventory.made_from["HOODIE-EMB"] = "HOODIE"
    inventory.skus.add("HOODIE-EMB")

    order = await service.place(new_order("mto-1", {"HOODIE-EMB": 1}))
    [shipment] = order.shipments
    assert (shipment.location_code, shipment.lines) == ("HUB-BER", (("HOODIE-EMB", 1),))
    assert inventory.levels()[("HOODIE", "HUB-BER")] == (1, 1)
    [placed] = uow.published(OrderPlaced)
    assert list(placed.made_to_order) == [
        MadeToOrderFact(
            shipment_id=shipment.id,
            location_code="HUB-BER",
            sku="HOODIE-EMB",
            blank_sku="HOODIE",
            quantity=1,
        )
    ]

    assert await refused(service.ship(shipment.id)) == (ErrorCode.INVALID_STATE, "shipment_id")
    assert inventory.commits_asked == []

    # Inventory made it from the blank and holds it for the order.
    inventory.on_hand[("HOODIE", "HUB-BER")] -= 1
    inventory.on_hand[("HOODIE-EMB", "HUB-BER")] = 1
    inventory.reservations[order.id].held = [("HOODIE-EMB", "HUB-BER", 1)]
    _, shipped = await service.ship(shipment.id)
    assert shipped.tracking_number == "" and inventory.levels()[("HOODIE-EMB", "HUB-BER")] == (
        0,
        0,
    )


# Work orders


async def test_a_placed_order_opens_one_value_add_per_made_sku_and_its_cancel_cancels_it() -> None:
    uow = workorders_uow()
    inventory = InventoryOverService()
    service = workorders_bootstrap(uow, inventory)
    _returns, orders = workorders_subscriptions(service)
    fact = MadeToOrderFact(
        shipment_id="s-1", location_code="HUB-1", sku="HOODIE-EMB", blank_sku="HOODIE", quantity=2
    )
    placed = envelope(OrderPlaced(order_id="o-1", made_to_order=[fact]))
    # An order that makes nothing to order is passed over, no unit of work opened for it.
    assert not await apply_event(uow, orders, envelope(OrderPlaced(order_id="o-0")))
    assert await apply_event(uow, orders, placed)
    assert await apply_event(
        uow, orders, envelope(OrderPlaced(order_id="o-1", made_to_order=[fact]))
    )

    [work_order] = await service.work_orders(None)
    assert (work_order.kind, work_order.status, work_order.order_id) == (
        WorkOrderKind.VALUE_ADD,
        WorkOrderStatus.OPEN,
        "o-1",
    )
    assert (work_order.sku, work_order.quantity, work_order.location_code) == (
        "HOODIE-EMB",
        2,
        "HUB-1",
    )
    assert [(c.sku, c.quantity) for c in work_order.components] == [("HOODIE", 1)]
    # The order's reservation holds the blanks: the work order holds nothing of its own.
    assert inventory.uow.data.reservations == {}

    assert await apply_event(uow, orders, envelope(OrderCancelled(order_id="o-1")))
    [cancelled] = await service.work_orders(None)
    assert cancelled.status is WorkOrderStatus.CANCELLED
    [event] = uow.published(WorkOrderCancelled)
    assert event.order_id == "o-1"
    assert await apply_event(uow, orders, envelope(OrderCancelled(order_id="o-1")))
    assert len(uow.published(WorkOrderCancelled)) == 1


async def bench_with_an_order(
    units: int,
) -> tuple[MemoryUnitOfWork[Any, Any], InventoryOverService, WorkOrdersService, str]:
    """Work orders over inventory in memory: an order "o-1" holds `units` blanks (1,500 cents
    each) at HUB-1 and its placement opened the VALUE_ADD work order (its id returned)."""
    inventory = InventoryOverService()
    await inventory.service.upsert_location(
        LocationChange("HUB-1", "Hub", LocationKind.RETURN_HUB, 52.5, 13.4)
    )
    await inventory.service.upsert_sku("HOODIE", "Plain hoodie", 1500, 600, False)
    await inventory.service.upsert_sku("HOODIE-EMB", "Embroidered", 2500, 600, False, "HOODIE")
    await inventory.service.adjust_stock("HOODIE", "HUB-1", units, "count")
    await inventory.service.reserve("o-1", [ReservationLine("HOODIE", "HUB-1", units)], "order")
    uow = workorders_uow()
    service = workorders_bootstrap(uow, inventory)
    _returns, orders = workorders_subscriptions(service)
    fact = MadeToOrderFact(
        shipment_id="s-1",
        location_code="HUB-1",
        sku="HOODIE-EMB",
        blank_sku="HOODIE",
        quantity=units,
    )
    assert await apply_event(
        uow, orders, envelope(OrderPlaced(order_id="o-1", made_to_order=[fact]))
    )
    [work_order] = await service.work_orders(None)
    return uow, inventory, service, work_order.id


async def test_a_made_to_order_work_order_costs_its_blanks_once_it_takes_them() -> None:
    _uow, _inventory, service, work_order_id = await bench_with_an_order(2)
    embroidered = await service.complete_operation(OperationDone(work_order_id, "EMBROIDER", 30))
    # 30 minutes at the default 3,000 cents an hour; the blanks are still the order's.
    assert embroidered.cost_cents == 1500
    done = await service.complete_operation(OperationDone(work_order_id, "QC", 6))
    assert done.status is WorkOrderStatus.COMPLETED
    assert [(c.sku, c.unit_cost_cents) for c in done.components] == [("HOODIE", 1500)]
    assert done.cost_cents == 2 * 1500 + 1800
    [listed] = await service.work_orders(WorkOrderStatus.COMPLETED)
    assert listed.cost_cents == done.cost_cents


async def test_completing_after_the_order_was_cancelled_is_refused_and_the_cancel_follows() -> None:
    uow, inventory, service, work_order_id = await bench_with_an_order(1)
    await service.complete_operation(OperationDone(work_order_id, "EMBROIDER", 30))
    # The order was cancelled (orders released its reservation), and workorders has not yet
    # consumed its OrderCancelled: completing now would make nothing.
    await inventory.service.release("o-1")
    refusal = await refused(service.complete_operation(OperationDone(work_order_id, "QC", 5)))
    assert refusal == (ErrorCode.INVALID_STATE, "work_order_id")
    [work_order] = await service.work_orders(None)
    assert work_order.status is WorkOrderStatus.IN_PROGRESS
    assert uow.published(WorkOrderCompleted) == []

    _returns, orders = workorders_subscriptions(service)
    assert await apply_event(uow, orders, envelope(OrderCancelled(order_id="o-1")))
    [cancelled] = await service.work_orders(None)
    assert cancelled.status is WorkOrderStatus.CANCELLED


# Inventory


async def setup_inventory() -> tuple[Any, InventoryService]:
    uow = inventory_uow()
    service = inventory_bootstrap(uow)
    await service.upsert_location(
        LocationChange("HUB-1", "Hub", LocationKind.RETURN_HUB, 52.5, 13.4)
    )
    await service.upsert_sku("HOODIE", "Plain hoodie", 1500, 600, False)
    await service.adjust_stock("HOODIE", "HUB-1", 3, "count")
    return uow, service


async def test_a_sku_declares_its_blank_kept_when_left_out_and_never_a_chain() -> None:
    _uow, service = await setup_inventory()
    made = await service.upsert_sku("HOODIE-EMB", "Embroidered", 2500, 600, False, "HOODIE")
    assert made.made_from_sku == "HOODIE"
    kept = await service.upsert_sku("HOODIE-EMB", "Embroidered hoodie", 2500, 600, False)
    assert kept.made_from_sku == "HOODIE"
    for blank, code in [
        ("NOPE", ErrorCode.NOT_FOUND),
        ("HOODIE-EMB", ErrorCode.INVALID_INPUT),
    ]:
        call = service.upsert_sku("HOODIE-EMB", "E", 1, 1, False, blank)
        assert await refused(call) == (code, "made_from_sku")
    # The blank cannot become made to order itself, from anything.
    await service.upsert_sku("FLEECE", "Fleece", 900, 600, False)
    for blank in ("HOODIE-EMB", "FLEECE"):
        call = service.upsert_sku("HOODIE", "Plain", 1500, 600, False, blank)
        assert await refused(call) == (ErrorCode.INVALID_INPUT, "made_from_sku")

    options, unknown, made_from = await service.sourcing_options(["HOODIE-EMB"])
    assert [(loc.code, units) for loc, units in options] == [("HUB-1", {"HOODIE": 3})]
    assert (unknown, made_from) == ([], {"HOODIE-EMB": "HOODIE"})
    stocked = await service.upsert_sku("HOODIE-EMB", "Embroidered", 2500, 600, False, "")
    assert stocked.made_from_sku == ""


async def test_completion_makes_the_unit_from_the_orders_blank_held_for_the_order_once() -> None:
    uow, service = await setup_inventory()
    await service.upsert_sku("HOODIE-EMB", "Embroidered", 2500, 600, False, "HOODIE")
    await service.reserve("o-1", [ReservationLine("HOODIE", "HUB-1", 1)], "order")
    completed = WorkOrderCompleted(
        work_order_id="w-1",
        kind=wpb.WORK_ORDER_KIND_VALUE_ADD,
        sku="HOODIE-EMB",
        quantity=1,
        location_code="HUB-1",
        order_id="o-1",
        components=[wpb.Component(sku="HOODIE", quantity=1)],
    )
    _returns, workorders, _procurement = inventory_subscriptions(service)
    assert await apply_event(uow, workorders, envelope(completed))
    assert await apply_event(uow, workorders, envelope(completed))  # another id: nothing more

    levels = {(x.sku, x.on_hand, x.reserved) for x in await service.stock_levels()}
    assert levels == {("HOODIE", 2, 0), ("HOODIE-EMB", 1, 1)}
    assert (await service.reservation("o-1")).held == (ReservationLine("HOODIE-EMB", "HUB-1", 1),)
    assert await service.inventory_value() == InventoryValue(sellable=2 * 1500, reserved=2500)
    scanner = Caller("s", Role.SCANNER, "HUB-1")
    assert (await refused(service.inventory_value(scanner)))[0] is ErrorCode.FORBIDDEN

    # The order cancelled: its made unit goes back, nothing stays held.
    await service.release("o-1")
    levels = {(x.sku, x.on_hand, x.reserved) for x in await service.stock_levels()}
    assert levels == {("HOODIE", 2, 0), ("HOODIE-EMB", 1, 0)}
