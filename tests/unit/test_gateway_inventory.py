"""The stock feed through the gateway's schema: who may watch it, and how it fans out to
subscribers, each with a bounded queue."""

from __future__ import annotations

import asyncio

import pytest

from gateway.feed import InventoryFeed
from gateway.schema import build_schema
from oms.inventory.v1 import inventory_pb2 as pb
from services.kernel.caller import Role
from tests.fakes.gateway import (
    DC,
    SELLERS,
    SUBSCRIPTION,
    UPSERT_LOCATION_VARIABLES,
    FakeInventory,
    FakeOrders,
    FakeReturns,
    change,
    context_for,
    error_codes,
    first_change,
    next_result,
)
from tests.support.inputs import LocationInput


@pytest.mark.parametrize("role", list(Role), ids=str)
async def test_inventory_changed_is_for_sellers(role: Role) -> None:
    feed = InventoryFeed()
    subscription = await build_schema().subscribe(
        SUBSCRIPTION, context_value=context_for(role, feed=feed)
    )
    try:
        if role not in SELLERS:
            assert error_codes(await next_result(subscription)) == ["FORBIDDEN"]
            return
        result = await first_change(subscription, feed, change("TEE", available=4))
        assert result.errors is None
        assert result.data == {
            "inventoryChanged": {"sku": "TEE", "available": 4, "location": {"code": "DC-1"}}
        }
    finally:
        await subscription.aclose()


async def test_feed_filters_by_sku_and_drops_the_oldest_for_a_slow_subscriber() -> None:
    feed = InventoryFeed(queue_size=2)
    tee_only = feed.changes(["TEE"])
    everything = feed.changes()
    first_tee = asyncio.ensure_future(anext(tee_only))
    first_any = asyncio.ensure_future(anext(everything))
    await asyncio.sleep(0)  # both generators now wait on their queues
    feed.deliver(change("MUG", 1))
    feed.deliver(change("TEE", 2))
    assert (await first_tee).level.sku == "TEE"
    assert (await first_any).level.sku == "MUG"
    for available in (3, 4, 5):  # `everything` holds TEE 2 and falls behind
        feed.deliver(change("TEE", available))
    assert [(await anext(everything)).level.available for _ in range(2)] == [4, 5]
    await tee_only.aclose()
    await everything.aclose()


async def test_a_location_passes_what_was_given_and_leaves_unset_what_was_not() -> None:
    inventory = FakeInventory()
    given: LocationInput = UPSERT_LOCATION_VARIABLES["input"] | {
        "dailyInspectionCapacity": 40,
        "shipsOrders": False,
    }
    result = await build_schema().execute(
        "mutation($input: LocationInput!) { upsertLocation(input: $input) "
        "{ location { code dailyShipCapacity } userErrors { code } } }",
        {"input": given},
        context_value=context_for(Role.ADMIN, inventory),
    )
    assert result.errors is None
    [sent] = inventory.requests
    assert (sent.code, sent.kind, sent.latitude) == (
        "DC-1",
        pb.LOCATION_KIND_DISTRIBUTION_CENTER,
        1.0,
    )
    assert (sent.daily_inspection_capacity, sent.ships_orders) == (40, False)
    assert not sent.HasField("daily_ship_capacity") and not sent.HasField("accepts_returns")


async def test_locations_show_their_backlogs_in_one_call_per_service_and_ratios_by_capacity() -> (
    None
):
    hub = pb.Location(
        id="2", code="HUB-1", name="Hub", kind=pb.LOCATION_KIND_RETURN_HUB, daily_ship_capacity=4
    )
    inventory, orders, returns = FakeInventory(), FakeOrders(), FakeReturns()
    inventory.ListLocations = lambda request, metadata=(): inventory._answer(  # type: ignore[method-assign]
        "ListLocations", pb.ListLocationsResponse(locations=[DC, hub]), request, metadata
    )
    result = await build_schema().execute(
        "{ locations { code shipBacklog shipBacklogRatio inspectionBacklog "
        "inspectionBacklogRatio } }",
        context_value=context_for(Role.ADMIN, inventory, orders=orders, returns=returns),
    )
    assert result.errors is None
    assert result.data == {
        "locations": [
            {
                "code": "DC-1",
                "shipBacklog": 2,
                "shipBacklogRatio": None,
                "inspectionBacklog": 3,
                "inspectionBacklogRatio": None,
            },
            {
                "code": "HUB-1",
                "shipBacklog": 2,
                "shipBacklogRatio": 0.5,
                "inspectionBacklog": 3,
                "inspectionBacklogRatio": None,
            },
        ]
    }
    assert orders.calls == ["GetShipBacklog"] and returns.calls == ["GetInspectionBacklog"]
    [asked] = orders.requests
    assert list(asked.location_codes) == ["DC-1", "HUB-1"]
