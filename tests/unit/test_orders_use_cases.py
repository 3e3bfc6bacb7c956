"""The orders' use cases over the in-memory store and inventory, built by the service's own
bootstrap: placement and its refusals, recovery of interrupted placements, cancel, ship, pages
and the pending summary, with the events each one records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from oms.events.v1.orders_pb2 import (
    OrderCancelled,
    OrderLineFact,
    OrderPlaced,
    ShipmentFact,
    ShipmentShipped,
)
from services.kernel.caller import Caller, Role
from services.kernel.db import utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.orders.bootstrap import bootstrap
from services.orders.domain.model import (
    Address,
    NewOrder,
    Order,
    OrderLine,
    OrderStatus,
    ShipmentStatus,
)
from services.orders.domain.routing import CostModel, SplitPolicy
from services.orders.domain.rules import encode_cursor
from services.orders.service import OrdersService
from services.orders.settings import OrdersSettings
from services.orders.store import OrdersStore
from tests.fakes.kernel import MemoryUnitOfWork
from tests.fakes.orders import (
    Location,
    MemoryInventory,
    MemoryOrdersStore,
    OrdersData,
    Unreachable,
    memory_uow,
)
from tests.support.refusals import refused

BERLIN = Address(latitude=52.52, longitude=13.40, name="Ada", city="Berlin")
LOCATIONS = {
    "DC-LIS": Location("DISTRIBUTION_CENTER", 38.72, -9.14),
    "HUB-BER": Location("RETURN_HUB", 52.50, 13.45),
    "STORE-BER": Location("STORE", 52.51, 13.39),
}
# What a parcel from each costs a Berlin customer: shipping by distance plus handling.
HUB_PARCEL, STORE_PARCEL, LISBON_PARCEL = 450 + 200, 450 + 350, 1900 + 150
EXTRA_PARCEL = CostModel().extra_parcel_cents


WEB = ("web",)


def new_order(
    external_id: str,
    lines: dict[str, int],
    policy: SplitPolicy = SplitPolicy.ALLOW_SPLIT,
    placed_by: str = "",
) -> NewOrder:
    return NewOrder(
        channel="web",
        external_id=external_id,
        email="ada@example.com",
        ship_to=BERLIN,
        lines=tuple(OrderLine(sku, units, 2500) for sku, units in lines.items()),
        split_policy=policy,
        placed_by=placed_by,
    )


def system(
    on_hand: dict[tuple[str, str], int],
) -> tuple[OrdersService, MemoryUnitOfWork[OrdersStore, OrdersData], MemoryInventory]:
    """The service over an empty store and an inventory with `on_hand` units."""
    uow = memory_uow()
    inventory = MemoryInventory(LOCATIONS, on_hand)
    return bootstrap(uow, inventory), uow, inventory


def shipped_from(order: Order) -> list[tuple[str, tuple[tuple[str, int], ...]]]:
    return [(s.location_code, s.lines) for s in order.shipments]


# Placing


async def test_an_order_ships_from_the_cheapest_location_and_says_so() -> None:
    service, uow, inventory = system({("TEE", "DC-LIS"): 50, ("TEE", "HUB-BER"): 1})
    order = await service.place(new_order("w-1", {"TEE": 1}))

    assert (order.status, order.number) == (OrderStatus.ALLOCATED, "1")
    assert shipped_from(order) == [("HUB-BER", (("TEE", 1),))]
    assert [s.status for s in order.shipments] == [ShipmentStatus.ALLOCATED]
    assert order.routing is not None and order.routing.total_cents == HUB_PARCEL
    assert "HUB-BER" in order.routing.explanation
    assert inventory.levels() == {("TEE", "DC-LIS"): (50, 0), ("TEE", "HUB-BER"): (1, 1)}
    assert uow.published(OrderPlaced) == [
        OrderPlaced(
            order_id=order.id,
            number="1",
            channel="web",
            lines=[OrderLineFact(sku="TEE", quantity=1, unit_price_cents=2500)],
            shipments=[
                ShipmentFact(
                    shipment_id=order.shipments[0].id,
                    location_code="HUB-BER",
                    lines=[OrderLineFact(sku="TEE", quantity=1)],
                )
            ],
            routing_cost_cents=HUB_PARCEL,
        )
    ]
    assert await service.order(order.id) == order

    # The hub's unit is promised: the next order ships from across the continent.
    second = await service.place(new_order("w-2", {"TEE": 1}))
    assert shipped_from(second) == [("DC-LIS", (("TEE", 1),))]
    assert second.routing is not None and second.routing.total_cents == LISBON_PARCEL


async def test_an_order_splits_only_when_allowed() -> None:
    stock = {("TEE", "HUB-BER"): 1, ("CAP", "STORE-BER"): 1, ("TEE", "DC-LIS"): 5}
    service, uow, inventory = system({**stock, ("CAP", "DC-LIS"): 5})

    split = await service.place(new_order("split", {"TEE": 1, "CAP": 1}))
    assert shipped_from(split) == [("HUB-BER", (("TEE", 1),)), ("STORE-BER", (("CAP", 1),))]
    assert split.routing is not None
    assert split.routing.total_cents == HUB_PARCEL + STORE_PARCEL + EXTRA_PARCEL

    whole = await service.place(new_order("whole", {"TEE": 1, "CAP": 1}, SplitPolicy.SHIP_COMPLETE))
    assert shipped_from(whole) == [("DC-LIS", (("CAP", 1), ("TEE", 1)))]
    assert [len(e.shipments) for e in uow.published(OrderPlaced)] == [2, 1]
    assert inventory.reserved("TEE", "DC-LIS") == inventory.reserved("CAP", "DC-LIS") == 1


async def test_ship_complete_is_refused_when_no_location_has_everything() -> None:
    service, uow, inventory = system({("TEE", "HUB-BER"): 1, ("CAP", "STORE-BER"): 1})
    with pytest.raises(DomainError) as refusal:
        await service.place(new_order("whole", {"TEE": 1, "CAP": 1}, SplitPolicy.SHIP_COMPLETE))
    assert (refusal.value.code, refusal.value.field, refusal.value.message) == (
        ErrorCode.INSUFFICIENT_STOCK,
        "lines",
        "not enough stock to fill the order from one location",
    )
    assert inventory.holds_asked == 0
    assert uow.data.orders == {} and uow.published(OrderPlaced) == []


async def test_short_stock_is_refused_holding_nothing_and_leaving_no_order() -> None:
    service, uow, inventory = system({("TEE", "HUB-BER"): 1})
    with pytest.raises(DomainError) as refusal:
        await service.place(new_order("short", {"TEE": 2}))
    assert (refusal.value.code, refusal.value.field, refusal.value.message) == (
        ErrorCode.INSUFFICIENT_STOCK,
        "lines",
        "not enough stock to fill the order",
    )
    assert inventory.levels() == {("TEE", "HUB-BER"): (1, 0)}
    assert uow.data.orders == {} and uow.published(OrderPlaced) == []
    assert await service.page(10, "", None) == ([], False)
    # The abandoned key is released, so a hold arriving late under it can never take stock.
    [abandoned] = inventory.reservations
    assert inventory.reservations[abandoned].released
    assert await refused(inventory.reserve(abandoned, [("TEE", "HUB-BER", 1)])) == (
        ErrorCode.INVALID_STATE,
        "key",
    )

    # A refused order is not an order: placing it again once stock is there succeeds.
    inventory.on_hand[("TEE", "HUB-BER")] = 2
    placed = await service.place(new_order("short", {"TEE": 2}))
    assert placed.status is OrderStatus.ALLOCATED and placed.id != abandoned


async def test_an_unknown_sku_is_refused_on_its_line() -> None:
    service, uow, inventory = system({("TEE", "HUB-BER"): 5})
    assert await refused(service.place(new_order("nosku", {"TEE": 1, "NOPE": 1}))) == (
        ErrorCode.NOT_FOUND,
        "lines.1.sku",
    )
    assert inventory.levels() == {("TEE", "HUB-BER"): (5, 0)}
    assert uow.data.orders == {} and uow.published(OrderPlaced) == []


async def test_invalid_orders_are_refused_before_anything_is_claimed() -> None:
    service, uow, inventory = system({("TEE", "HUB-BER"): 5})
    assert await refused(service.place(new_order("zero", {"TEE": 0}))) == (
        ErrorCode.INVALID_QUANTITY,
        "lines.0.quantity",
    )
    far = replace(new_order("far", {"TEE": 1}), ship_to=replace(BERLIN, latitude=123))
    assert await refused(service.place(far)) == (ErrorCode.INVALID_INPUT, "ship_to.latitude")
    assert uow.data.last_number == 0 and inventory.holds_asked == 0


async def test_placing_the_same_order_again_returns_the_first_and_holds_nothing_more() -> None:
    service, uow, inventory = system({("TEE", "DC-LIS"): 10, ("CAP", "DC-LIS"): 10})
    first = await service.place(new_order("dup", {"TEE": 2, "CAP": 1}))
    # The same request, its lines in another order, is a retry.
    again = await service.place(new_order("dup", {"CAP": 1, "TEE": 2}))
    assert again == first
    assert inventory.levels() == {("TEE", "DC-LIS"): (10, 2), ("CAP", "DC-LIS"): (10, 1)}
    assert inventory.holds_asked == 1
    assert len(uow.published(OrderPlaced)) == 1
    # The same external id from another channel is another order.
    other = await service.place(replace(new_order("dup", {"TEE": 1}), channel="app"))
    assert other.id != first.id and other.number == "2"


@pytest.mark.parametrize(
    "change",
    [
        {"lines": (OrderLine("TEE", 5, 2500),)},
        {"lines": (OrderLine("TEE", 2, 1999),)},
        {"lines": (OrderLine("TEE", 2, 2500), OrderLine("CAP", 1, 2500))},
        {"email": "bob@example.com"},
        {"ship_to": replace(BERLIN, city="Potsdam")},
        {"split_policy": SplitPolicy.SHIP_COMPLETE},
    ],
)
async def test_an_external_id_used_for_another_order_is_refused(change: dict[str, Any]) -> None:
    service, uow, inventory = system({("TEE", "DC-LIS"): 10, ("CAP", "DC-LIS"): 10})
    first = await service.place(new_order("dup", {"TEE": 2}))
    with pytest.raises(DomainError) as raised:
        await service.place(replace(new_order("dup", {"TEE": 2}), **change))
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_INPUT, "external_id")
    assert raised.value.message == "externalId 'dup' was already used for a different order"
    assert list(uow.data.orders) == [first.id]
    assert inventory.holds_asked == 1


async def test_placement_plans_again_when_stock_moved_before_the_hold() -> None:
    service, uow, inventory = system({("TEE", "DC-LIS"): 5, ("TEE", "HUB-BER"): 1})
    # Another order takes the hub's unit between this order's plan and its hold.
    inventory.moves_before_hold.append(("TEE", "HUB-BER", -1))
    order = await service.place(new_order("moved", {"TEE": 1}))
    assert inventory.holds_asked == 2
    assert shipped_from(order) == [("DC-LIS", (("TEE", 1),))]
    assert order.routing is not None and order.routing.total_cents == LISBON_PARCEL
    [placed] = uow.published(OrderPlaced)
    assert placed.routing_cost_cents == LISBON_PARCEL
    assert inventory.levels() == {("TEE", "DC-LIS"): (5, 1), ("TEE", "HUB-BER"): (0, 0)}


async def test_placement_gives_up_when_stock_keeps_moving() -> None:
    """Replanning is bounded: after three refused holds the order is refused, even though
    a fourth location still has the unit."""
    munich = Location("DISTRIBUTION_CENTER", 48.14, 11.58)
    inventory = MemoryInventory(
        {**LOCATIONS, "DC-MUC": munich},
        {("TEE", code): 1 for code in ("HUB-BER", "STORE-BER", "DC-MUC", "DC-LIS")},
    )
    uow = memory_uow()
    service = bootstrap(uow, inventory)
    # Each plan's location, cheapest first, loses its unit just before the hold.
    inventory.moves_before_hold += [
        ("TEE", "HUB-BER", -1),
        ("TEE", "STORE-BER", -1),
        ("TEE", "DC-MUC", -1),
    ]
    assert await refused(service.place(new_order("race", {"TEE": 1}))) == (
        ErrorCode.INSUFFICIENT_STOCK,
        "lines",
    )
    assert inventory.holds_asked == 3
    assert inventory.levels()[("TEE", "DC-LIS")] == (1, 0)
    assert uow.data.orders == {}


# Recovering interrupted placements


async def test_interrupted_placements_are_completed_or_released() -> None:
    """Two placements a crash interrupted: one after inventory held its stock, one before."""
    service, uow, inventory = system({("TEE", "HUB-BER"): 3})
    inventory.unreachable_after_hold = True
    with pytest.raises(Unreachable):
        await service.place(new_order("held-before-crash", {"TEE": 1}))
    inventory.unreachable_before_hold = True
    with pytest.raises(Unreachable):
        await service.place(new_order("crashed-before-hold", {"TEE": 1}))
    held_key, lost_key = list(uow.data.orders)
    # Claims are not orders: nobody sees them, and they wait for recovery.
    assert await refused(service.order(held_key)) == (ErrorCode.NOT_FOUND, "id")
    assert await service.page(10, "", None) == ([], False)
    assert await service.recover_stale(timedelta(seconds=30)) == 0  # maybe still in flight

    for key in (held_key, lost_key):
        uow.data.updated_at[key] -= timedelta(minutes=5)
    assert await service.recover_stale(timedelta(seconds=30)) == 2

    completed = await service.order(held_key)
    assert completed.status is OrderStatus.ALLOCATED and completed.routing is None
    assert shipped_from(completed) == [("HUB-BER", (("TEE", 1),))]
    [placed] = uow.published(OrderPlaced)
    assert (placed.order_id, placed.routing_cost_cents) == (held_key, 0)
    assert await refused(service.order(lost_key)) == (ErrorCode.NOT_FOUND, "id")
    assert list(uow.data.orders) == [held_key]
    assert await refused(inventory.reserve(lost_key, [("TEE", "HUB-BER", 1)])) == (
        ErrorCode.INVALID_STATE,
        "key",
    )
    assert inventory.levels() == {("TEE", "HUB-BER"): (3, 1)}
    assert await service.recover_stale(timedelta(seconds=30)) == 0


async def test_a_duplicate_of_an_interrupted_placement_gets_the_recovered_order() -> None:
    service, uow, inventory = system({("TEE", "HUB-BER"): 3})
    inventory.unreachable_after_hold = True
    with pytest.raises(Unreachable):
        await service.place(new_order("retry", {"TEE": 1}))
    [key] = uow.data.orders
    uow.data.updated_at[key] -= timedelta(minutes=5)
    await service.recover_stale(timedelta(seconds=30))
    again = await service.place(new_order("retry", {"TEE": 1}))
    assert (again.id, again.status) == (key, OrderStatus.ALLOCATED)
    assert inventory.levels() == {("TEE", "HUB-BER"): (3, 1)}


class RecoveredWhileWaiting(MemoryUnitOfWork[OrdersStore, OrdersData]):
    """Once a duplicate has read the claim it will wait on, another replica's recovery
    releases that claim (a crash interrupted the placement before inventory held it)."""

    def __init__(self) -> None:
        super().__init__(OrdersData(), MemoryOrdersStore)
        self.rival: OrdersService | None = None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[OrdersStore]:
        async with super().read() as store:
            yield store
        rival, self.rival = self.rival, None
        if rival is not None:
            assert await rival.recover_stale(timedelta(seconds=30)) == 1


async def test_a_duplicate_whose_first_placement_is_released_places_the_order_itself() -> None:
    uow = RecoveredWhileWaiting()
    inventory = MemoryInventory(LOCATIONS, {("TEE", "HUB-BER"): 3})
    service = bootstrap(uow, inventory)
    inventory.unreachable_before_hold = True
    with pytest.raises(Unreachable):
        await service.place(new_order("retry", {"TEE": 1}))
    [abandoned] = uow.data.orders
    uow.data.updated_at[abandoned] -= timedelta(minutes=5)
    uow.rival = bootstrap(uow, inventory)

    again = await service.place(new_order("retry", {"TEE": 1}))

    assert uow.rival is None, "recovery ran while the duplicate waited"
    assert again.status is OrderStatus.ALLOCATED and again.id != abandoned
    assert list(uow.data.orders) == [again.id]
    assert inventory.levels() == {("TEE", "HUB-BER"): (3, 1)}
    assert [p.order_id for p in uow.published(OrderPlaced)] == [again.id]


class RacedInventory(MemoryInventory):
    """While recovery asks what a key holds, another replica's recovery completes its claim."""

    rival: OrdersService | None = None

    async def held_lines(self, key: str) -> list[tuple[str, str, int]] | None:
        rival, self.rival = self.rival, None
        if rival is not None:
            assert await rival.recover_stale(timedelta(seconds=30)) == 1
        return await super().held_lines(key)


async def test_two_replicas_recovering_one_claim_allocate_it_once() -> None:
    uow = memory_uow()
    inventory = RacedInventory(LOCATIONS, {("TEE", "HUB-BER"): 3})
    service = bootstrap(uow, inventory)
    inventory.unreachable_after_hold = True
    with pytest.raises(Unreachable):
        await service.place(new_order("held", {"TEE": 1}))
    [key] = uow.data.orders
    uow.data.updated_at[key] -= timedelta(minutes=5)
    inventory.rival = bootstrap(uow, inventory)
    assert await service.recover_stale(timedelta(seconds=30)) == 1

    [placed] = uow.published(OrderPlaced)
    order = await service.order(key)
    assert placed.shipments[0].shipment_id == order.shipments[0].id
    assert shipped_from(order) == [("HUB-BER", (("TEE", 1),))]
    assert inventory.levels() == {("TEE", "HUB-BER"): (3, 1)}


# Cancelling


async def test_cancelling_gives_the_stock_back_once() -> None:
    service, uow, inventory = system({("TEE", "DC-LIS"): 5})
    order = await service.place(new_order("cancel-1", {"TEE": 2}))
    assert inventory.levels() == {("TEE", "DC-LIS"): (5, 2)}

    cancelled = await service.cancel(order.id)
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.cancelled_at is not None
    assert [s.status for s in cancelled.shipments] == [ShipmentStatus.CANCELLED]
    assert inventory.levels() == {("TEE", "DC-LIS"): (5, 0)}
    assert uow.published(OrderCancelled) == [OrderCancelled(order_id=order.id)]

    assert await service.cancel(order.id) == cancelled
    assert len(uow.published(OrderCancelled)) == 1
    assert await service.order(order.id) == cancelled


async def test_cancelling_is_refused_once_a_shipment_has_started_to_ship() -> None:
    service, uow, inventory = system({("TEE", "HUB-BER"): 1, ("CAP", "STORE-BER"): 1})
    order = await service.place(new_order("ship-1", {"TEE": 1, "CAP": 1}))
    hub, store = order.shipments

    # The commit of the hub's parcel never answers: the shipment stays SHIPPING.
    inventory.unreachable_on_commit = True
    with pytest.raises(Unreachable):
        await service.ship(hub.id)
    assert await refused(service.cancel(order.id)) == (ErrorCode.INVALID_STATE, "id")
    assert inventory.levels() == {("TEE", "HUB-BER"): (1, 1), ("CAP", "STORE-BER"): (1, 1)}

    # Shipped again, it ships; and then the order still cannot be cancelled.
    _, shipped = await service.ship(hub.id)
    assert shipped.status is ShipmentStatus.SHIPPED
    assert await refused(service.cancel(order.id)) == (ErrorCode.INVALID_STATE, "id")
    assert uow.published(OrderCancelled) == []
    assert inventory.levels() == {("TEE", "HUB-BER"): (0, 0), ("CAP", "STORE-BER"): (1, 1)}
    assert (await service.order(order.id)).shipments[1] == store


async def test_cancelling_an_unknown_order_or_a_claim_is_not_found() -> None:
    service, uow, inventory = system({("TEE", "HUB-BER"): 1})
    assert await refused(service.cancel("nope")) == (ErrorCode.NOT_FOUND, "id")
    inventory.unreachable_before_hold = True
    with pytest.raises(Unreachable):
        await service.place(new_order("claim", {"TEE": 1}))
    [claim] = uow.data.orders
    assert await refused(service.cancel(claim)) == (ErrorCode.NOT_FOUND, "id")
    assert uow.data.orders[claim].status is OrderStatus.PLACING


# Shipping


async def test_shipping_each_shipment_moves_the_order_on_once() -> None:
    service, uow, inventory = system({("TEE", "HUB-BER"): 1, ("CAP", "STORE-BER"): 1})
    order = await service.place(new_order("ship-1", {"TEE": 1, "CAP": 1}))
    hub, store = order.shipments

    partly, shipped = await service.ship(hub.id, "1Z999")
    assert partly.status is OrderStatus.PARTIALLY_SHIPPED and partly.shipped_at is None
    assert (shipped.status, shipped.tracking_number) == (ShipmentStatus.SHIPPED, "1Z999")
    assert shipped.shipped_at is not None
    assert inventory.levels() == {("TEE", "HUB-BER"): (0, 0), ("CAP", "STORE-BER"): (1, 1)}

    again, shipped_again = await service.ship(hub.id, "OTHER")
    assert (again, shipped_again) == (partly, shipped)
    assert inventory.commits_asked == [(order.id, "HUB-BER")]

    done, _ = await service.ship(store.id)
    assert done.status is OrderStatus.SHIPPED and done.shipped_at is not None
    assert inventory.levels() == {("TEE", "HUB-BER"): (0, 0), ("CAP", "STORE-BER"): (0, 0)}
    assert uow.published(ShipmentShipped) == [
        ShipmentShipped(
            order_id=order.id,
            shipment=ShipmentFact(
                shipment_id=hub.id,
                location_code="HUB-BER",
                lines=[OrderLineFact(sku="TEE", quantity=1)],
            ),
            tracking_number="1Z999",
        ),
        ShipmentShipped(
            order_id=order.id,
            shipment=ShipmentFact(
                shipment_id=store.id,
                location_code="STORE-BER",
                lines=[OrderLineFact(sku="CAP", quantity=1)],
            ),
        ),
    ]


async def test_serial_numbers_ship_with_their_units_and_are_bounded_per_sku() -> None:
    service, uow, inventory = system({("PHONE", "HUB-BER"): 5, ("TEE", "HUB-BER"): 5})
    order = await service.place(new_order("serials", {"PHONE": 2, "TEE": 1}))
    [parcel] = order.shipments

    assert await refused(service.ship(parcel.id, serials=[("PHONE", ["A", "B", "C"])])) == (
        ErrorCode.INVALID_QUANTITY,
        "serials.0.serial_numbers",
    )
    assert await refused(service.ship(parcel.id, serials=[("CAP", ["A"])])) == (
        ErrorCode.INVALID_INPUT,
        "serials.0.sku",
    )
    assert await refused(service.ship(parcel.id, "x" * 129)) == (
        ErrorCode.INVALID_INPUT,
        "tracking_number",
    )
    # Refusals change nothing: the parcel has not started to ship.
    assert (await service.order(order.id)).shipments == (parcel,)
    assert inventory.levels()[("PHONE", "HUB-BER")] == (5, 2)

    _, shipped = await service.ship(parcel.id, serials=[("PHONE", ["A"]), ("PHONE", [" B "])])
    assert shipped.serial_numbers == {"PHONE": ("A", "B")}
    _, again = await service.ship(parcel.id, serials=[("PHONE", ["X", "Y"])])
    assert again.serial_numbers == {"PHONE": ("A", "B")}
    assert len(uow.published(ShipmentShipped)) == 1
    assert inventory.levels() == {("PHONE", "HUB-BER"): (3, 0), ("TEE", "HUB-BER"): (4, 0)}


async def test_cancelled_and_unknown_shipments_do_not_ship() -> None:
    service, uow, inventory = system({("TEE", "DC-LIS"): 5})
    order = await service.place(new_order("cancel-1", {"TEE": 2}))
    await service.cancel(order.id)
    assert await refused(service.ship(order.shipments[0].id)) == (
        ErrorCode.INVALID_STATE,
        "shipment_id",
    )
    assert await refused(service.ship("nope")) == (ErrorCode.NOT_FOUND, "shipment_id")
    assert uow.published(ShipmentShipped) == []
    assert inventory.levels() == {("TEE", "DC-LIS"): (5, 0)}


# Reading


async def test_orders_are_read_in_the_order_asked() -> None:
    service, _, _ = system({("TEE", "DC-LIS"): 10})
    a = await service.place(new_order("a", {"TEE": 1}))
    b = await service.place(new_order("b", {"TEE": 1}))
    assert await service.orders([b.id, "nope", a.id]) == [b, a]
    assert await service.orders([]) == []
    assert await refused(service.order("nope")) == (ErrorCode.NOT_FOUND, "id")


async def test_orders_page_most_recent_first() -> None:
    service, _, _ = system({("TEE", "DC-LIS"): 10})
    placed = [
        await service.place(new_order(f"p-{i}", {"TEE": 1}, placed_by="shop-eu" if i % 2 else ""))
        for i in range(5)
    ]
    await service.cancel(placed[1].id)
    numbers = [int(o.number) for o in placed]
    assert numbers == [1, 2, 3, 4, 5]

    edges, has_next = await service.page(2, "", None)
    assert [(c, o.id) for c, o in edges] == [
        (encode_cursor(5), placed[4].id),
        (encode_cursor(4), placed[3].id),
    ]
    assert has_next
    rest, more = await service.page(10, edges[-1][0], None)
    assert [o.id for _, o in rest] == [placed[2].id, placed[1].id, placed[0].id] and not more
    exactly, more = await service.page(3, edges[-1][0], None)
    assert len(exactly) == 3 and not more

    cancelled, _ = await service.page(10, "", OrderStatus.CANCELLED)
    assert [o.id for _, o in cancelled] == [placed[1].id]
    mine, _ = await service.page(10, "", None, Caller("shop-eu", Role.STOREFRONT, channels=WEB))
    assert [o.id for _, o in mine] == [placed[3].id, placed[1].id]
    elsewhere = Caller("shop-eu", Role.STOREFRONT, channels=("amazon-de",))
    assert await service.page(10, "", None, elsewhere) == ([], False)

    assert await refused(service.page(0, "", None)) == (ErrorCode.INVALID_INPUT, "first")
    assert await refused(service.page(101, "", None)) == (ErrorCode.INVALID_INPUT, "first")
    assert await refused(service.page(1, "garbage", None)) == (ErrorCode.INVALID_INPUT, "after")


async def test_the_pending_summary_counts_orders_waiting_to_ship() -> None:
    service, uow, inventory = system({("TEE", "DC-LIS"): 10})
    assert await service.pending_summary() == (0, 0)
    waiting = await service.place(new_order("waiting", {"TEE": 1}))
    shipped = await service.place(new_order("shipped", {"TEE": 1}))
    cancelled = await service.place(new_order("cancelled", {"TEE": 1}))
    await service.place(new_order("recent", {"TEE": 1}))
    await service.ship(shipped.shipments[0].id)
    await service.cancel(cancelled.id)
    # Claims never count: one left behind by a crash.
    inventory.unreachable_before_hold = True
    with pytest.raises(Unreachable):
        await service.place(new_order("claim", {"TEE": 1}))

    assert await service.pending_summary() == (2, 0)
    long_ago = utcnow() - timedelta(minutes=90, seconds=30)
    uow.data.orders[waiting.id] = replace(uow.data.orders[waiting.id], placed_at=long_ago)
    assert await service.pending_summary() == (2, 90)


# Settings


def test_the_routing_and_recovery_knobs_come_from_the_environment() -> None:
    defaults = OrdersSettings.from_env({})
    assert defaults == OrdersSettings()
    assert (defaults.cost_model.extra_parcel_cents, defaults.cost_model.max_locations) == (400, 5)
    assert defaults.recovery_after == timedelta(seconds=30)
    configured = OrdersSettings.from_env(
        {
            "OMS_ROUTING_EXTRA_PARCEL_CENTS": "250",
            "OMS_ROUTING_MAX_LOCATIONS": "2",
            "OMS_ORDERS_RECOVERY_AFTER_SECONDS": "45.5",
        }
    )
    assert (configured.cost_model.extra_parcel_cents, configured.cost_model.max_locations) == (
        250,
        2,
    )
    assert configured.recovery_after == timedelta(seconds=45.5)


async def test_one_location_at_most_means_no_split() -> None:
    uow = memory_uow()
    inventory = MemoryInventory(LOCATIONS, {("TEE", "HUB-BER"): 1, ("CAP", "STORE-BER"): 1})
    service = bootstrap(uow, inventory, OrdersSettings.from_env({"OMS_ROUTING_MAX_LOCATIONS": "1"}))
    assert await refused(service.place(new_order("split", {"TEE": 1, "CAP": 1}))) == (
        ErrorCode.INSUFFICIENT_STOCK,
        "lines",
    )


async def test_a_storefront_sees_places_and_cancels_only_its_own_orders() -> None:
    service, _, inventory = system({("TEE", "DC-LIS"): 10})
    shop_eu = Caller("shop-eu", Role.STOREFRONT, channels=WEB)
    shop_us = Caller("shop-us", Role.STOREFRONT, channels=WEB)
    ops = Caller("ops", Role.BACKOFFICE)
    mine = await service.place(new_order("w-1", {"TEE": 1}, placed_by="shop-eu"), shop_eu)
    assert await service.orders([mine.id], shop_eu) == [mine]
    assert await service.orders([mine.id], shop_us) == []
    assert [o.id for o in await service.orders([mine.id], ops)] == [mine.id]
    # Answered exactly as an unknown order would be.
    assert await refused(service.order(mine.id, shop_us)) == (ErrorCode.NOT_FOUND, "id")
    assert await refused(service.cancel(mine.id, shop_us)) == (ErrorCode.NOT_FOUND, "id")
    # Another storefront's external id is taken, and nothing of that order is told.
    taken = service.place(new_order("w-1", {"TEE": 5}, placed_by="shop-us"), shop_us)
    assert await refused(taken) == (ErrorCode.INVALID_INPUT, "external_id")
    # The back office placing the same id gets the first order, holding nothing more.
    assert (await service.place(new_order("w-1", {"TEE": 1}, placed_by="ops"), ops)).id == mine.id
    assert inventory.available("TEE", "DC-LIS") == 9
    assert (await service.cancel(mine.id, shop_eu)).status is OrderStatus.CANCELLED


async def test_a_storefront_places_and_sees_orders_of_its_own_channels_only() -> None:
    service, _, inventory = system({("TEE", "DC-LIS"): 10})
    web_shop = Caller("shop", Role.STOREFRONT, channels=("web", "web-eu"))
    marketplace = Caller("shop", Role.STOREFRONT, channels=("amazon-de",))
    # Placing on a channel the token does not name is refused, and holds nothing.
    claimed = new_order("w-1", {"TEE": 1}, placed_by="shop")
    assert await refused(service.place(claimed, marketplace)) == (ErrorCode.FORBIDDEN, "channel")
    assert inventory.available("TEE", "DC-LIS") == 10
    mine = await service.place(claimed, web_shop)
    # The same subject under a token for other channels sees nothing of it.
    assert await service.orders([mine.id], marketplace) == []
    assert await refused(service.order(mine.id, marketplace)) == (ErrorCode.NOT_FOUND, "id")
    assert await refused(service.cancel(mine.id, marketplace)) == (ErrorCode.NOT_FOUND, "id")
    assert [o.id for o in await service.orders([mine.id], web_shop)] == [mine.id]


async def test_a_storefront_sees_its_orders_without_the_cost_model() -> None:
    service, _, _ = system({("TEE", "DC-LIS"): 10})
    shop = Caller("shop", Role.STOREFRONT, channels=WEB)
    ops = Caller("ops", Role.BACKOFFICE)
    placed = await service.place(new_order("w-1", {"TEE": 1}, placed_by="shop"), shop)
    assert placed.routing is None
    [seen] = await service.orders([placed.id], shop)
    assert seen.routing is None
    (_, listed), *_ = (await service.page(10, "", None, shop))[0]
    assert listed.routing is None
    assert (await service.cancel(placed.id, shop)).routing is None
    [complete] = await service.orders([placed.id], ops)
    assert complete.routing is not None and complete.routing.total_cents > 0
