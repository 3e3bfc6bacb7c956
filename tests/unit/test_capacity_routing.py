"""Capacity in routing: the pure reading of "full", orders' routing around full locations, and
the placement use case counting a location's backlog and publishing its crossings."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from oms.events.v1 import orders_pb2 as events
from services.kernel.capacity import Crossing, crossing, expected_wait_hours, is_full, load_ratio
from services.orders.bootstrap import bootstrap
from services.orders.domain.routing import Candidate, SplitPolicy, plan_order
from tests.fakes.orders import Location, MemoryInventory, memory_uow
from tests.unit.test_orders_use_cases import new_order

BERLIN = (52.52, 13.40)
STORE = Candidate("STORE-BER", "STORE", 52.51, 13.39, {"TEE": 100}, daily_capacity=5)
DC = Candidate("DC-MUC", "DISTRIBUTION_CENTER", 48.14, 11.58, {"TEE": 100})


def test_full_means_a_days_work_already_waits() -> None:
    assert not is_full(4, 5) and is_full(5, 5) and is_full(0, 0) and not is_full(10**6, None)
    assert load_ratio(5, 10) == 0.5 and load_ratio(3, None) is None
    assert load_ratio(1, 0) is None and load_ratio(2, 3) == 0.67
    assert expected_wait_hours(0, 10) == 2.4 and expected_wait_hours(9, 10) == 24.0
    assert expected_wait_hours(3, None) is None and expected_wait_hours(3, 0) is None


@given(st.integers(0, 50), st.integers(0, 50), st.one_of(st.none(), st.integers(0, 20)))
def test_a_crossing_is_reported_only_across_the_capacity(
    before: int, after: int, capacity: int | None
) -> None:
    crossed = crossing(before, after, capacity)
    if crossed is Crossing.REACHED:
        assert capacity is not None and before < capacity <= after
    elif crossed is Crossing.BACK_UNDER:
        assert capacity is not None and after < capacity <= before
    else:
        assert capacity is None or (before < capacity) == (after < capacity)


def test_a_store_under_its_capacity_ships_as_before() -> None:
    plan = plan_order({"TEE": 1}, [DC, STORE], BERLIN, SplitPolicy.ALLOW_SPLIT)
    assert plan is not None and [p.location_code for p in plan.parcels] == ["STORE-BER"]
    assert "Capacity" not in plan.explanation and plan.parcels[0].backlog_cents == 0


def test_a_full_store_is_passed_over_while_a_dc_can_serve_at_any_cost() -> None:
    full = Candidate("STORE-BER", "STORE", 52.51, 13.39, {"TEE": 100}, 5, backlog=5)
    plan = plan_order({"TEE": 1}, [DC, full], BERLIN, SplitPolicy.ALLOW_SPLIT)
    assert plan is not None and [p.location_code for p in plan.parcels] == ["DC-MUC"]
    assert "Capacity changed the choice: STORE-BER" in plan.explanation


def test_a_full_store_with_no_alternative_still_ships_and_says_so() -> None:
    full = Candidate("STORE-BER", "STORE", 52.51, 13.39, {"TEE": 100}, 5, backlog=7)
    plan = plan_order({"TEE": 1}, [full], BERLIN, SplitPolicy.ALLOW_SPLIT)
    assert plan is not None and [p.location_code for p in plan.parcels] == ["STORE-BER"]
    assert "Capacity could not change the choice: STORE-BER" in plan.explanation
    # 7 waiting + this one, 5 a day: three orders past a day's work.
    assert plan.parcels[0].backlog_cents == 3 * 300
    assert plan.total_cents == sum(p.total_cents for p in plan.parcels)


def test_of_two_full_locations_the_less_overloaded_one_serves() -> None:
    near = Candidate("STORE-BER", "STORE", 52.51, 13.39, {"TEE": 9}, 5, backlog=50)
    far = Candidate("DC-MUC", "DISTRIBUTION_CENTER", 48.14, 11.58, {"TEE": 9}, 5, backlog=5)
    plan = plan_order({"TEE": 1}, [near, far], BERLIN, SplitPolicy.ALLOW_SPLIT)
    assert plan is not None and [p.location_code for p in plan.parcels] == ["DC-MUC"]


def _store_and_dc(dc_stock: int) -> MemoryInventory:
    locations = {
        "STORE-BER": Location("STORE", 52.51, 13.39, daily_ship_capacity=5),
        "DC-MUC": Location("DISTRIBUTION_CENTER", 48.14, 11.58),
    }
    on_hand = {("TEE", "STORE-BER"): 100}
    if dc_stock:
        on_hand[("TEE", "DC-MUC")] = dc_stock
    return MemoryInventory(locations, on_hand)


async def test_the_sixth_order_of_the_day_goes_to_the_dc_and_shipping_frees_the_store() -> None:
    uow = memory_uow()
    service = bootstrap(uow, _store_and_dc(100))
    orders = [await service.place(new_order(f"o-{i}", {"TEE": 1})) for i in range(6)]
    assert [o.shipments[0].location_code for o in orders] == ["STORE-BER"] * 5 + ["DC-MUC"]
    assert "Capacity changed the choice" in (
        orders[5].routing.explanation if orders[5].routing else ""
    )
    [reached] = uow.published(events.ShipCapacityReached)
    assert (reached.location_code, reached.backlog, reached.daily_capacity) == ("STORE-BER", 5, 5)
    await service.ship(orders[0].shipments[0].id, "TRACK-1")
    [back] = uow.published(events.ShipBacklogBackUnderCapacity)
    assert (back.location_code, back.backlog) == ("STORE-BER", 4)
    seventh = await service.place(new_order("o-7", {"TEE": 1}))
    assert seventh.shipments[0].location_code == "STORE-BER"
    assert await service.ship_backlog(["STORE-BER", "DC-MUC", "NOWHERE"]) == {
        "STORE-BER": 5,
        "DC-MUC": 1,
        "NOWHERE": 0,
    }


async def test_with_no_alternative_the_full_store_still_serves_and_cancelling_frees_it() -> None:
    uow = memory_uow()
    service = bootstrap(uow, _store_and_dc(0))
    orders = [await service.place(new_order(f"o-{i}", {"TEE": 1})) for i in range(6)]
    assert {o.shipments[0].location_code for o in orders} == {"STORE-BER"}
    assert "Capacity could not change the choice" in (
        orders[5].routing.explanation if orders[5].routing else ""
    )
    await service.cancel(orders[5].id)
    assert uow.published(events.ShipBacklogBackUnderCapacity) == []  # 6 -> 5: still full
    await service.cancel(orders[4].id)
    assert [e.backlog for e in uow.published(events.ShipBacklogBackUnderCapacity)] == [4]
