"""Capacity-aware routing through the gateway and the real inventory, orders, returns and work
orders services (SQLite and PostgreSQL): a full hub passes new returns to the next hub within
reach until its scanner clears its queue; a full store passes its sixth order of the day to the
DC, and with no alternative still ships it and says so. The backlogs show on locations."""

from __future__ import annotations

from typing import Any

from services.kernel.caller import Role
from tests.integration.test_gateway_returns import Gateway, gateway
from tests.support.contract import operation
from tests.support.stock import seed

__all__ = ["gateway"]

UPSERT = operation("UpsertLocation")
RETURN_DESTINATION = """
query Destination($id: ID!) {
  return(id: $id) {
    expectedInspectionHours
    destination { code inspectionBacklog inspectionBacklogRatio dailyInspectionCapacity }
  }
}"""
HUB_QUEUE = """
query Queue($code: String!) {
  hubQueue(locationCode: $code) { id destination { code inspectionBacklog inspectionBacklogRatio } }
}"""
REPORT = "{ returnsReport { backlog { awaitingInspection location { code inspectionBacklog } } } }"
STORE_LEVEL = """
query Levels($sku: String!) {
  stockLevels(sku: $sku) { location { code shipBacklog shipBacklogRatio dailyShipCapacity } }
}"""
PLACE = """
mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    order { id shipments { id location { code } } routing { explanation parcels { backlogCents } } }
    userErrors { code field message }
  }
}"""


async def _location(
    gateway: Gateway, code: str, kind: str, lat: float, lon: float, **extra: int
) -> None:
    location = {"code": code, "name": code, "kind": kind, "latitude": lat, "longitude": lon}
    answer = await gateway.data(UPSERT, {"input": location | extra})
    assert answer["upsertLocation"]["userErrors"] == []


async def _destination(gateway: Gateway, return_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gateway.data(RETURN_DESTINATION, {"id": return_id}))["return"]
    return found


async def test_hub_a_takes_returns_until_a_days_work_waits_then_hub_b_then_a_again(
    gateway: Gateway,
) -> None:
    # Hub A near the customers declares 10 a day; hub B about 30 km further, 30 a day.
    await _location(gateway, "HUB-BER", "RETURN_HUB", 52.50, 13.45, dailyInspectionCapacity=10)
    await _location(gateway, "HUB-B", "RETURN_HUB", 52.80, 13.40, dailyInspectionCapacity=30)
    order_id = await gateway.shipped_order("w-30", units=31)
    requested = [await gateway.request(order_id) for _ in range(30)]
    assert all(r["userErrors"] == [] for r in requested)
    where = [r["return"]["destination"]["code"] for r in requested]
    assert where == ["HUB-BER"] * 10 + ["HUB-B"] * 20
    first, eleventh = requested[0]["return"]["id"], requested[10]["return"]["id"]
    assert await _destination(gateway, first) == {
        "expectedInspectionHours": 2.4,  # nothing ahead of it, 10 a day
        "destination": {
            "code": "HUB-BER",
            "inspectionBacklog": 10,
            "inspectionBacklogRatio": 1.0,
            "dailyInspectionCapacity": 10,
        },
    }
    assert (await _destination(gateway, eleventh))["expectedInspectionHours"] == 0.8

    for r in requested[:10]:
        assert (await gateway.receive(r["return"]["id"]))["userErrors"] == []
    queue = (await gateway.data(HUB_QUEUE, {"code": "HUB-BER"}))["hubQueue"]
    assert len(queue) == 10 and queue[0]["destination"]["inspectionBacklogRatio"] == 1.0
    report = (await gateway.data(REPORT))["returnsReport"]["backlog"]
    assert report == [
        {"awaitingInspection": 10, "location": {"code": "HUB-BER", "inspectionBacklog": 10}}
    ]
    for r in requested[:10]:
        assert (await gateway.inspect(r["return"]["id"], "NEW", grams=200))["userErrors"] == []

    again = await gateway.request(order_id)
    assert again["return"]["destination"]["code"] == "HUB-BER"


async def test_a_full_store_passes_its_sixth_order_to_the_dc_and_with_no_alternative_says_so(
    gateway: Gateway,
) -> None:
    await _location(gateway, "STORE-BER", "STORE", 52.51, 13.39, dailyShipCapacity=5)
    await seed(gateway, {}, ["CAP"], {("TEE", "STORE-BER"): 20, ("CAP", "STORE-BER"): 5})

    async def place(external_id: str, sku: str) -> dict[str, Any]:
        variables = {
            "input": {
                "channel": "web",
                "externalId": external_id,
                "email": "ada@example.com",
                "shipTo": {"latitude": 52.52, "longitude": 13.40, "country": "DE"},
                "lines": [{"sku": sku, "quantity": 1, "unitPriceCents": 2500}],
            }
        }
        placed: dict[str, Any] = (await gateway.data(PLACE, variables, Role.ADMIN))["placeOrder"]
        assert placed["userErrors"] == [], placed
        order: dict[str, Any] = placed["order"]
        return order

    orders = [await place(f"o-{i}", "TEE") for i in range(6)]
    where = [o["shipments"][0]["location"]["code"] for o in orders]
    assert where == ["STORE-BER"] * 5 + ["DC-LIS"]
    assert "Capacity changed the choice: STORE-BER" in orders[5]["routing"]["explanation"]
    assert "Capacity" not in orders[4]["routing"]["explanation"]
    levels = (await gateway.data(STORE_LEVEL, {"sku": "TEE"}))["stockLevels"]
    assert {
        "code": "STORE-BER",
        "shipBacklog": 5,
        "shipBacklogRatio": 1.0,
        "dailyShipCapacity": 5,
    } in [level["location"] for level in levels]

    only_here = await place("o-cap", "CAP")
    assert only_here["shipments"][0]["location"]["code"] == "STORE-BER"
    assert "Capacity could not change the choice" in only_here["routing"]["explanation"]
    assert only_here["routing"]["parcels"][0]["backlogCents"] == 300

    shipped = await gateway.data(operation("ShipShipment"), {"id": orders[0]["shipments"][0]["id"]})
    assert shipped["shipShipment"]["userErrors"] == []
    shipped = await gateway.data(operation("ShipShipment"), {"id": orders[1]["shipments"][0]["id"]})
    assert (await place("o-next", "TEE"))["shipments"][0]["location"]["code"] == "STORE-BER"
