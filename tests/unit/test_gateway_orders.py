"""Orders through the gateway's schema over fake services: what a storefront may see, place
and cancel, and how refusals name their arguments."""

from __future__ import annotations

import pytest

from gateway.schema import build_schema
from oms.orders.v1 import orders_pb2 as opb
from services.kernel.caller import Caller, Role
from services.kernel.errors import DomainError, ErrorCode, to_grpc_status
from tests.fakes.gateway import (
    PLACE_ORDER_VARIABLES,
    FakeInventory,
    FakeOrders,
    an_order,
    context_for,
    rpc_error,
)

ORDER = '{ order(id: "o-1") { id routing { totalCents } } }'
CANCEL = (
    'mutation { cancelOrder(id: "o-1") { order { status } userErrors { field message code } } }'
)


async def test_every_orders_call_says_whom_it_is_for() -> None:
    """The orders service decides what a storefront may see (tests/unit/test_orders_use_cases.py);
    the gateway tells it who is calling, on every call."""
    orders = FakeOrders()
    schema = build_schema()
    for document, variables in (
        (ORDER, None),
        ('{ orders(first: 5, after: "c-9", status: SHIPPED) { pageInfo { hasNextPage } } }', None),
        (PLACE, PLACE_ORDER_VARIABLES),
        (CANCEL, None),
    ):
        result = await schema.execute(
            document, variables, context_value=context_for(Role.STOREFRONT, orders=orders)
        )
        assert result.errors is None, result.errors
    assert orders.calls == ["GetOrders", "ListOrders", "PlaceOrder", "CancelOrder"]
    assert set(orders.callers) == {Caller("storefront-1", Role.STOREFRONT, channels=("web",))}
    assert orders.requests[1] == opb.ListOrdersRequest(
        first=5, after="c-9", status=opb.ORDER_STATUS_SHIPPED
    )


async def test_an_order_the_service_does_not_answer_with_is_null() -> None:
    orders = FakeOrders(orders=[])
    result = await build_schema().execute(
        ORDER, context_value=context_for(Role.STOREFRONT, orders=orders)
    )
    assert result.data == {"order": None}


PLACE = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } userErrors { field message code } } }"


@pytest.mark.parametrize(
    ("document", "refusal", "field"),
    [
        (
            PLACE,
            DomainError(ErrorCode.NOT_FOUND, "unknown SKU 'X'", "lines.0.sku"),
            "input.lines.0.sku",
        ),
        (
            PLACE,
            DomainError(ErrorCode.INVALID_INPUT, "latitude", "ship_to.latitude"),
            "input.shipTo.latitude",
        ),
        (CANCEL, DomainError(ErrorCode.INVALID_STATE, "shipped", "id"), "id"),
        (
            PLACE,
            DomainError(ErrorCode.INVALID_INPUT, "taken", "external_id"),
            "input.externalId",
        ),
        (
            'mutation { shipShipment(id: "s-1") { shipment { id } userErrors { field message code } } }',
            DomainError(ErrorCode.NOT_FOUND, "no shipment s-1", "shipment_id"),
            "id",
        ),
    ],
    ids=["place-sku", "place-latitude", "cancel", "place-taken", "ship"],
)
async def test_order_refusals_name_the_graphql_argument(
    document: str, refusal: DomainError, field: str
) -> None:
    orders = FakeOrders(fail_with=rpc_error(to_grpc_status(refusal)))
    result = await build_schema().execute(
        document, PLACE_ORDER_VARIABLES, context_value=context_for(Role.ADMIN, orders=orders)
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    (payload,) = result.data.values()
    assert payload["userErrors"] == [
        {"field": field, "message": refusal.message, "code": refusal.code.value}
    ]


async def test_a_page_of_orders_asks_inventory_once_for_its_locations() -> None:
    inventory = FakeInventory()
    orders = FakeOrders(orders=[an_order(f"o-{n}") for n in range(50)])
    result = await build_schema().execute(
        "{ orders(first: 50) { edges { node { shipments { location { code } }"
        " routing { parcels { location { kind } } } } } } }",
        context_value=context_for(Role.ADMIN, inventory, orders=orders),
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    assert len(result.data["orders"]["edges"]) == 50
    assert inventory.calls == ["ListLocations"]


async def test_an_order_recovered_without_its_plan_has_no_routing() -> None:
    order = an_order()
    order.ClearField("routing")
    result = await build_schema().execute(
        ORDER, context_value=context_for(Role.ADMIN, orders=FakeOrders(orders=[order]))
    )
    assert result.data == {"order": {"id": "o-1", "routing": None}}
