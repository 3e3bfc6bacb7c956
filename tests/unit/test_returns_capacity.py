"""Returns routed by capacity: a full hub sends new returns to the next hub within reach, else
the DC; a return says when it will be inspected; a hub's crossings are published."""

from __future__ import annotations

from oms.events.v1 import returns_pb2 as events
from services.returns.domain.model import ReturnSite
from services.returns.domain.rules import ReturnCostModel, route_return
from tests.unit.test_returns_use_cases import BERLIN, DC_LIS, returns_service

HUB_A = ReturnSite("HUB-A", "RETURN_HUB", 52.50, 13.45, daily_inspection_capacity=2)
# About 30 km further from the customers than A, still within reach.
HUB_B = ReturnSite("HUB-B", "RETURN_HUB", 52.78, 13.40, daily_inspection_capacity=10)


def _route(*sites: ReturnSite) -> str:
    return route_return(sites, BERLIN, 1, ReturnCostModel()).destination.code


def test_a_full_hub_sends_returns_to_the_next_hub_within_reach_else_the_dc() -> None:
    full_a = ReturnSite("HUB-A", "RETURN_HUB", 52.50, 13.45, 2, backlog=2)
    full_b = ReturnSite("HUB-B", "RETURN_HUB", 52.78, 13.40, 10, backlog=10)
    assert _route(HUB_A, HUB_B, DC_LIS) == "HUB-A"
    assert _route(full_a, HUB_B, DC_LIS) == "HUB-B"
    assert _route(full_a, full_b, DC_LIS) == "DC-LIS"
    assert _route(full_a, full_b) == "HUB-A"  # no DC: the nearest hub still takes it
    unlimited = ReturnSite("HUB-A", "RETURN_HUB", 52.50, 13.45, backlog=10**6)
    assert _route(unlimited, HUB_B, DC_LIS) == "HUB-A"  # no capacity declared: today's choice


def test_the_route_says_when_the_destination_will_inspect_it() -> None:
    busy = ReturnSite("HUB-A", "RETURN_HUB", 52.50, 13.45, 2, backlog=1)
    route = route_return([busy, DC_LIS], BERLIN, 1, ReturnCostModel())
    assert route.expected_inspection_hours == 24.0  # 1 waiting + this one, 2 a day
    assert route_return([DC_LIS], BERLIN, 1, ReturnCostModel()).expected_inspection_hours is None


async def test_a_hub_takes_returns_until_a_days_work_waits_and_again_once_inspected() -> None:
    returns = returns_service()
    returns.inventory.sites = [HUB_A, HUB_B, DC_LIS]
    first = [await returns.request(("TEE", 1), order_id="o-1") for _ in range(3)]
    assert [r.destination_code for r in first] == ["HUB-A", "HUB-A", "HUB-B"]
    assert [r.expected_inspection_hours for r in first] == [12.0, 24.0, 2.4]
    [reached] = returns.uow.published(events.InspectionCapacityReached)
    assert (reached.location_code, reached.backlog, reached.daily_capacity) == ("HUB-A", 2, 2)
    assert await returns.service.inspection_backlog(["HUB-A", "HUB-B", "DC-LIS"]) == {
        "HUB-A": 2,
        "HUB-B": 1,
        "DC-LIS": 0,
    }
    received = await returns.service.receive(first[0].id, "HUB-A")
    await returns.inspect(received.id, ("TEE", "NEW"), grams=200, at="HUB-A")
    [back] = returns.uow.published(events.InspectionBacklogBackUnderCapacity)
    assert (back.location_code, back.backlog) == ("HUB-A", 1)
    again = await returns.request(("TEE", 1), order_id="o-2")
    assert again.destination_code == "HUB-A"
