"""The gateway's schema over fake stubs: arguments out of bounds are refused before any service
is called, totals past 32 bits are answered, a service away answers its code, and a
storefront's stock feed carries nothing but what it sells."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from strawberry.types import ExecutionResult

from gateway.feed import InventoryFeed, StockChange
from gateway.schema import build_schema
from oms.events.v1.inventory_pb2 import StockLevelChanged
from oms.inventory.v1 import inventory_pb2 as pb
from services.kernel.caller import Role
from tests.fakes.gateway import (
    PLACE_ORDER_VARIABLES,
    FakeInventory,
    FakeOrders,
    context_for,
    error_codes,
    first_change,
)

PLACE_ORDER = (
    "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) "
    "{ order { id } userErrors { field message code } } }"
)
AVAILABILITY = (
    'query($skus: [String!]!) { availability(skus: $skus, channel: "web") { sku available } }'
)


def order_with(**changes: Any) -> dict[str, Any]:
    given: dict[str, Any] = dict(PLACE_ORDER_VARIABLES["input"])
    for name, value in changes.items():
        if name in ("line1", "city"):
            given["shipTo"] = {**given["shipTo"], name: value}
        else:
            given[name] = value
    return {"input": given}


async def place(role: Role, variables: dict[str, Any], orders: FakeOrders) -> ExecutionResult:
    return await build_schema().execute(
        PLACE_ORDER, variables, context_value=context_for(role, orders=orders)
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": "w" * 1_100_000}, "input.channel"),
        ({"line1": "x" * 4_500_000}, "input.shipTo.line1"),
        ({"externalId": "w-1\x00"}, "input.externalId"),
        ({"city": "Berlin\ud800"}, "input.shipTo.city"),
        ({"lines": [{"sku": "TEE", "quantity": 1, "unitPriceCents": 1}] * 1001}, "input.lines"),
    ],
    ids=["huge-channel", "huge-address", "nul", "lone-surrogate", "too-many-lines"],
)
async def test_a_mutation_out_of_bounds_is_refused_before_any_service_is_called(
    changes: dict[str, Any], field: str
) -> None:
    orders = FakeOrders()
    result = await place(Role.STOREFRONT, order_with(**changes), orders)
    assert result.errors is None
    payload = (result.data or {})["placeOrder"]
    assert payload["order"] is None
    [refusal] = payload["userErrors"]
    assert (refusal["code"], refusal["field"]) == ("INVALID_INPUT", field)
    assert orders.calls == []


async def test_the_longest_text_and_the_most_items_are_within_bounds() -> None:
    orders = FakeOrders()
    lines = [{"sku": "TEE", "quantity": 1, "unitPriceCents": 1}] * 1000
    within = order_with(line1="x" * 200, email="a@" + "b" * 318, lines=lines)
    result = await place(Role.STOREFRONT, within, orders)
    assert result.errors is None and orders.calls == ["PlaceOrder"]


async def test_a_query_out_of_bounds_answers_a_coded_error() -> None:
    inventory = FakeInventory()
    result = await build_schema().execute(
        AVAILABILITY,
        {"skus": [f"SKU-{i}" for i in range(40_000)]},
        context_value=context_for(Role.STOREFRONT, inventory),
    )
    assert result.data is None
    assert error_codes(result) == ["INVALID_INPUT"]
    assert "skus" in (result.errors or [])[0].message
    assert inventory.calls == []


async def test_a_caller_the_field_is_not_open_to_is_told_so_whatever_it_sent() -> None:
    result = await build_schema().execute(
        'mutation { adjustStock(input: {sku: "TEE", locationCode: "DC-1", delta: 1, '
        f'reason: "{"x" * 500}"}}) {{ userErrors {{ code }} }} }}',
        context_value=context_for(Role.STOREFRONT),
    )
    assert error_codes(result) == ["FORBIDDEN"]


class BigInventory(FakeInventory):
    def GetAvailability(self, request: pb.GetAvailabilityRequest, metadata: Any = ()) -> Any:
        found = [pb.SkuAvailability(sku=sku, available=3_000_000_000) for sku in request.skus]
        return self._answer("GetAvailability", pb.GetAvailabilityResponse(availability=found))


async def test_availability_past_32_bits_is_answered() -> None:
    result = await build_schema().execute(
        AVAILABILITY, {"skus": ["TEE"]}, context_value=context_for(Role.STOREFRONT, BigInventory())
    )
    assert result.errors is None
    assert result.data == {"availability": [{"sku": "TEE", "available": 3_000_000_000}]}


def away(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), "details")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (grpc.StatusCode.UNAVAILABLE, "UNAVAILABLE"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "TIMEOUT"),
        (grpc.StatusCode.INTERNAL, "INTERNAL_SERVER_ERROR"),
    ],
)
async def test_a_service_away_answers_its_code_and_any_other_fault_stays_masked(
    status: grpc.StatusCode, code: str
) -> None:
    schema = build_schema()
    failing = FakeInventory(fail_with=away(status))
    query = await schema.execute(
        AVAILABILITY, {"skus": ["TEE"]}, context_value=context_for(Role.ADMIN, failing)
    )
    mutation = await place(Role.ADMIN, order_with(), FakeOrders(fail_with=away(status)))
    # A location read through the request's loader, below an order that was answered.
    nested = await schema.execute(
        '{ order(id: "o-1") { id shipments { location { code } } } }',
        context_value=context_for(Role.ADMIN, failing),
    )
    for result in (query, mutation, nested):
        assert error_codes(result) == [code]
        if code == "INTERNAL_SERVER_ERROR":
            assert [e.message for e in result.errors or []] == ["Unexpected error."]


async def test_a_storefronts_stock_feed_says_what_it_may_sell_and_nothing_else() -> None:
    document = (
        "subscription { inventoryChanged { sku available location { code } onHand reserved "
        "inTransit pendingInspection inRepair reason } }"
    )
    level = StockLevelChanged(
        sku="TEE",
        location_code="DC-1",
        on_hand=5,
        reserved=2,
        available=3,
        in_transit=4,
        reason="reserved for 7f1c-another-storefronts-order",
    )
    seen = {}
    for role in (Role.STOREFRONT, Role.BACKOFFICE):
        feed = InventoryFeed()
        subscription = await build_schema().subscribe(
            document, context_value=context_for(role, feed=feed)
        )
        try:
            result = await first_change(subscription, feed, StockChange(level, datetime.now(UTC)))
        finally:
            await subscription.aclose()
        assert result.errors is None
        seen[role] = (result.data or {})["inventoryChanged"]
    assert seen[Role.STOREFRONT] == {
        "sku": "TEE",
        "available": 3,
        "location": {"code": "DC-1"},
        "onHand": None,
        "reserved": None,
        "inTransit": None,
        "pendingInspection": None,
        "inRepair": None,
        "reason": None,
    }
    assert seen[Role.BACKOFFICE]["reason"] == "reserved for 7f1c-another-storefronts-order"
    assert (seen[Role.BACKOFFICE]["onHand"], seen[Role.BACKOFFICE]["inTransit"]) == (5, 4)
