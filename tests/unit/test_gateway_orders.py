"""Orders through the gateway's schema over fake services: what a storefront may see, place
and cancel, and how refusals name their arguments."""

from __future__ import annotations

import pytest

from gateway.auth import Role
from gateway.schema import build_schema
from oms.orders.v1 import orders_pb2 as opb
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


async def test_a_storefront_sees_and_cancels_only_the_orders_it_placed() -> None:
    orders = FakeOrders(orders=[an_order(placed_by="storefront-2")])
    schema = build_schema()
    storefront = context_for(Role.STOREFRONT, orders=orders)
    assert (await schema.execute(ORDER, context_value=storefront)).data == {"order": None}
    cancelled = await schema.execute(CANCEL, context_value=storefront)
    # Word for word the answer for an order that does not exist.
    assert cancelled.data == {
        "cancelOrder": {
            "order": None,
            "userErrors": [{"field": "id", "message": "no order o-1", "code": "NOT_FOUND"}],
        }
    }
    assert orders.calls == ["GetOrders", "GetOrders"]

    orders.calls.clear()
    backoffice = context_for(Role.BACKOFFICE, orders=orders)
    seen = await schema.execute(ORDER, context_value=backoffice)
    assert seen.data == {"order": {"id": "o-1", "routing": {"totalCents": 600}}}
    cancelled = await schema.execute(CANCEL, context_value=backoffice)
    assert cancelled.data == {"cancelOrder": {"order": {"status": "CANCELLED"}, "userErrors": []}}
    assert orders.calls == ["GetOrders", "CancelOrder"]


@pytest.mark.parametrize(
    ("role", "placed_by"), [(Role.STOREFRONT, "storefront-1"), (Role.BACKOFFICE, "")], ids=str
)
async def test_orders_lists_a_storefronts_own_orders_only(role: Role, placed_by: str) -> None:
    orders = FakeOrders()
    result = await build_schema().execute(
        '{ orders(first: 5, after: "c-9", status: SHIPPED) { pageInfo { hasNextPage endCursor } } }',
        context_value=context_for(role, orders=orders),
    )
    assert result.data == {"orders": {"pageInfo": {"hasNextPage": False, "endCursor": "c-o-1"}}}
    assert orders.requests == [
        opb.ListOrdersRequest(
            first=5, after="c-9", status=opb.ORDER_STATUS_SHIPPED, placed_by=placed_by
        )
    ]


PLACE = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } userErrors { field message code } } }"


async def test_placing_another_callers_external_id_does_not_reveal_its_order() -> None:
    orders = FakeOrders(orders=[an_order(placed_by="storefront-2")])
    result = await build_schema().execute(
        PLACE, PLACE_ORDER_VARIABLES, context_value=context_for(Role.STOREFRONT, orders=orders)
    )
    assert result.data is not None
    payload = result.data["placeOrder"]
    assert payload["order"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("input.externalId", "INVALID_INPUT")
    ]
    # The order is placed as the caller, whose token subject it records.
    assert orders.requests[0].placed_by == "storefront-1"


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
            'mutation { shipShipment(id: "s-1") { shipment { id } userErrors { field message code } } }',
            DomainError(ErrorCode.NOT_FOUND, "no shipment s-1", "shipment_id"),
            "id",
        ),
    ],
    ids=["place-sku", "place-latitude", "cancel", "ship"],
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
