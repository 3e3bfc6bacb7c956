"""Idempotency keys, through the gateway over the real services, on SQLite and PostgreSQL:
`requestReturn` and `adjustStock` retried with a key act once, however often and however
concurrently they arrive — across two replicas of the returns service sharing one database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from oms.returns.v1 import returns_pb2 as rpb
from services.kernel.caller import Caller, Role
from services.returns.tables import ReturnRow
from tests.integration.conftest import ReturnsUnderTest
from tests.integration.test_gateway_orders import order_input
from tests.support.contract import operation
from tests.support.gateway import SIGNING_KEY
from tests.support.graphql import GraphQLClient
from tests.support.stock import ADJUST_STOCK, levels, seed

LOCATIONS = {
    "DC-LIS": ("DISTRIBUTION_CENTER", 38.72, -9.14),
    "HUB-BER": ("RETURN_HUB", 52.50, 13.45),
}
RACERS = 8


@pytest.fixture
async def gateway(loop_gateway: str) -> AsyncIterator[GraphQLClient]:
    async with GraphQLClient(loop_gateway, SIGNING_KEY, timeout=30) as gw:
        await seed(gw, LOCATIONS, ["TEE"], {("TEE", "DC-LIS"): 50})
        yield gw


async def shipped_order(gateway: GraphQLClient, units: int) -> str:
    placed = (
        await gateway.data(
            operation("PlaceOrder"), order_input("w-1", {"TEE": units}), Role.STOREFRONT
        )
    )["placeOrder"]
    for shipment in placed["order"]["shipments"]:
        await gateway.data(operation("ShipShipment"), {"id": shipment["id"]})
    return str(placed["order"]["id"])


def return_request(order_id: str, key: str | None, units: int = 1) -> dict[str, Any]:
    given: dict[str, Any] = {
        "orderId": order_id,
        "lines": [{"sku": "TEE", "quantity": units, "reason": "UNWANTED"}],
    }
    if key is not None:
        given["idempotencyKey"] = key
    return {"input": given}


async def returns_of(returns: ReturnsUnderTest, order_id: str) -> int:
    async with returns.running.db.snapshot() as session:
        statement = select(func.count()).where(ReturnRow.order_id == order_id)
        return int((await session.exec(statement)).one())


async def test_a_return_requested_again_with_its_key_is_the_first_one(
    gateway: GraphQLClient, returns: ReturnsUnderTest
) -> None:
    order_id = await shipped_order(gateway, units=3)
    document = operation("RequestReturn")
    first = (await gateway.data(document, return_request(order_id, "scan-1"), Role.STOREFRONT))[
        "requestReturn"
    ]
    assert first["userErrors"] == []
    for _retry in range(3):
        again = await gateway.data(document, return_request(order_id, "scan-1"), Role.STOREFRONT)
        assert again["requestReturn"] == first
    assert await returns_of(returns, order_id) == 1
    # Without a key, or with another, it is another return.
    for key in (None, "scan-2"):
        other = await gateway.data(document, return_request(order_id, key), Role.STOREFRONT)
        assert other["requestReturn"]["return"]["id"] != first["return"]["id"]
    assert await returns_of(returns, order_id) == 3


async def test_a_race_of_one_key_over_two_replicas_creates_one_return(
    gateway: GraphQLClient, returns: ReturnsUnderTest
) -> None:
    # Two units shipped, one per request: had every racer created a return, most would have
    # been refused for want of units, and more than one would have been created.
    order_id = await shipped_order(gateway, units=2)
    storefront = Caller("storefront-a", Role.STOREFRONT, channels=("web",)).metadata()
    request = rpb.RequestReturnRequest(
        order_id=order_id,
        lines=[rpb.RequestedLine(sku="TEE", quantity=1, reason=rpb.RETURN_REASON_UNWANTED)],
        idempotency_key="race-1",
    )
    async with returns.service.replica() as replica:

        async def through_the_gateway() -> str:
            answer = await gateway.data(
                operation("RequestReturn"), return_request(order_id, "race-1"), Role.STOREFRONT
            )
            assert answer["requestReturn"]["userErrors"] == [], answer
            return str(answer["requestReturn"]["return"]["id"])

        async def through_the_replica() -> str:
            found = await replica.stub.RequestReturn(request, metadata=storefront, timeout=30)
            return found.id

        racers = [through_the_gateway() for _ in range(RACERS // 2)]
        racers += [through_the_replica() for _ in range(RACERS // 2)]
        ids = await asyncio.gather(*racers)
    assert len(set(ids)) == 1
    assert await returns_of(returns, order_id) == 1


async def test_an_adjustment_under_a_key_changes_stock_once_however_often_it_races(
    gateway: GraphQLClient,
) -> None:
    def adjustment(key: str, delta: int = 5) -> dict[str, Any]:
        return {
            "input": {
                "sku": "TEE",
                "locationCode": "DC-LIS",
                "delta": delta,
                "reason": "delivery",
                "idempotencyKey": key,
            }
        }

    answers = await asyncio.gather(
        *(gateway.data(ADJUST_STOCK, adjustment("delivery-9")) for _ in range(RACERS))
    )
    assert all(a["adjustStock"]["userErrors"] == [] for a in answers), answers
    assert (await levels(gateway, "TEE"))["DC-LIS"]["onHand"] == 55
    # Retried later, it answers the level as it is now, and changes nothing.
    await gateway.data(ADJUST_STOCK, adjustment("count-10", delta=-2))
    again = (await gateway.data(ADJUST_STOCK, adjustment("delivery-9")))["adjustStock"]
    assert again == {
        "stockLevel": {"sku": "TEE", "location": {"code": "DC-LIS"}, "onHand": 53, "available": 53},
        "userErrors": [],
    }
    # The key names that adjustment: another one under it is refused.
    reused = (await gateway.data(ADJUST_STOCK, adjustment("delivery-9", delta=6)))["adjustStock"]
    assert [(e["code"], e["field"]) for e in reused["userErrors"]] == [
        ("INVALID_INPUT", "input.idempotencyKey")
    ]
    assert (await levels(gateway, "TEE"))["DC-LIS"]["onHand"] == 53
