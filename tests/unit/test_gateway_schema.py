"""The gateway's schema executed directly, without HTTP or services: who may call what, how
refusals and faults surface, and the limits on documents."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from strawberry.types import ExecutionResult

from gateway.auth import Principal, Role
from gateway.context import Context
from gateway.errors import graphql_field_path, user_error_from_rpc
from gateway.feed import InventoryFeed, StockChange
from gateway.schema import build_schema
from gateway.settings import QueryLimits
from oms.events.v1.inventory_pb2 import StockLevelChanged
from oms.inventory.v1 import inventory_pb2 as pb
from oms.orders.v1 import orders_pb2 as opb
from services.kernel.errors import DomainError, ErrorCode, to_grpc_status

DC = pb.Location(id="1", code="DC-1", name="Main DC", kind=pb.LOCATION_KIND_DISTRIBUTION_CENTER)


class FakeService:
    """Records the RPCs called and answers each with its reply, or fails them all."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.fail_with = fail_with
        self.calls: list[str] = []
        self.requests: list[Any] = []

    async def _answer(self, name: str, reply: Any, request: Any = None) -> Any:
        self.calls.append(name)
        self.requests.append(request)
        if self.fail_with is not None:
            raise self.fail_with
        return reply


class FakeInventory(FakeService):
    """Answers every inventory RPC the schema calls with a fixed, plausible reply."""

    def ListLocations(self, request: pb.ListLocationsRequest) -> Any:
        return self._answer("ListLocations", pb.ListLocationsResponse(locations=[DC]))

    def ListSkus(self, request: pb.ListSkusRequest) -> Any:
        skus = [pb.Sku(code=code, title=code) for code in request.codes]
        return self._answer("ListSkus", pb.ListSkusResponse(skus=skus))

    def GetStockLevels(self, request: pb.GetStockLevelsRequest) -> Any:
        levels = [pb.StockLevel(sku=sku, location_code="DC-1", on_hand=3) for sku in request.skus]
        return self._answer("GetStockLevels", pb.GetStockLevelsResponse(levels=levels))

    def GetAvailability(self, request: pb.GetAvailabilityRequest) -> Any:
        found = [pb.SkuAvailability(sku=sku, available=1) for sku in request.skus]
        return self._answer("GetAvailability", pb.GetAvailabilityResponse(availability=found))

    def UpsertLocation(self, request: pb.UpsertLocationRequest) -> Any:
        return self._answer("UpsertLocation", DC)

    def UpsertSku(self, request: pb.UpsertSkuRequest) -> Any:
        return self._answer("UpsertSku", pb.Sku(code=request.code, title=request.title))

    def AdjustStock(self, request: pb.AdjustStockRequest) -> Any:
        level = pb.StockLevel(sku=request.sku, location_code="DC-1", on_hand=request.delta)
        return self._answer("AdjustStock", level)

    def UpsertChannel(self, request: pb.UpsertChannelRequest) -> Any:
        return self._answer("UpsertChannel", pb.Channel(code=request.code))


def an_order(order_id: str = "o-1", placed_by: str = "storefront-1") -> opb.Order:
    """An allocated order shipping one unit from DC-1, placed by the storefront `principal`."""
    order = opb.Order(
        id=order_id,
        number="1001",
        status=opb.ORDER_STATUS_ALLOCATED,
        channel="web",
        external_id=f"w-{order_id}",
        email="ada@example.com",
        ship_to=opb.Address(city="Berlin", latitude=52.5, longitude=13.4),
        lines=[opb.OrderLine(sku="TEE", quantity=1, unit_price_cents=2500)],
        shipments=[
            opb.Shipment(
                id=f"s-{order_id}",
                location_code="DC-1",
                status=opb.SHIPMENT_STATUS_ALLOCATED,
                lines=[opb.ShipmentLine(sku="TEE", quantity=1)],
            )
        ],
        placed_by=placed_by,
        placed_at="2030-01-01T12:00:00+00:00",
    )
    parcel = opb.ParcelCost(location_code="DC-1", units=1, total_cents=600)
    order.routing.CopyFrom(opb.Routing(parcels=[parcel], total_cents=600, algorithm="exact"))
    return order


class FakeOrders(FakeService):
    """Answers every orders RPC the schema calls with `orders` (one order by default)."""

    def __init__(
        self, fail_with: Exception | None = None, orders: list[opb.Order] | None = None
    ) -> None:
        super().__init__(fail_with)
        self.orders = orders if orders is not None else [an_order()]

    def PlaceOrder(self, request: opb.PlaceOrderRequest) -> Any:
        return self._answer("PlaceOrder", self.orders[0], request)

    def GetOrders(self, request: opb.GetOrdersRequest) -> Any:
        found = [o for o in self.orders if o.id in request.ids]
        return self._answer("GetOrders", opb.GetOrdersResponse(orders=found), request)

    def ListOrders(self, request: opb.ListOrdersRequest) -> Any:
        edges = [opb.OrderEdge(cursor=f"c-{o.id}", order=o) for o in self.orders]
        page = opb.ListOrdersResponse(edges=edges, end_cursor=edges[-1].cursor if edges else "")
        return self._answer("ListOrders", page, request)

    def CancelOrder(self, request: opb.CancelOrderRequest) -> Any:
        cancelled = opb.Order()
        cancelled.CopyFrom(self.orders[0])
        cancelled.status = opb.ORDER_STATUS_CANCELLED
        return self._answer("CancelOrder", cancelled, request)

    def ShipShipment(self, request: opb.ShipShipmentRequest) -> Any:
        order = self.orders[0]
        reply = opb.ShipShipmentResponse(order=order, shipment=order.shipments[0])
        return self._answer("ShipShipment", reply, request)


@dataclass(frozen=True)
class Operation:
    name: str
    document: str
    roles: frozenset[Role]
    variables: dict[str, Any] | None = None


PLACE_ORDER_VARIABLES = {
    "input": {
        "channel": "web",
        "externalId": "w-1",
        "email": "ada@example.com",
        "shipTo": {"latitude": 52.5, "longitude": 13.4},
        "lines": [{"sku": "TEE", "quantity": 1, "unitPriceCents": 2500}],
    }
}

READERS = frozenset({Role.SCANNER, Role.BACKOFFICE, Role.ADMIN})
WRITERS = frozenset({Role.BACKOFFICE, Role.ADMIN})
SELLERS = frozenset({Role.STOREFRONT, Role.BACKOFFICE, Role.ADMIN})

OPERATIONS = [
    Operation("locations", "{ locations { code kind } }", READERS),
    Operation("skus", '{ skus(codes: ["TEE"]) { code } }', READERS),
    Operation("stockLevels", '{ stockLevels(sku: "TEE") { onHand location { code } } }', READERS),
    Operation(
        "availability", '{ availability(skus: ["TEE"], channel: "web") { available } }', SELLERS
    ),
    Operation(
        "upsertLocation",
        "mutation($input: LocationInput!) { upsertLocation(input: $input) { location { code } } }",
        WRITERS,
        {
            "input": {
                "code": "DC-1",
                "name": "DC",
                "kind": "DISTRIBUTION_CENTER",
                "latitude": 1.0,
                "longitude": 2.0,
            }
        },
    ),
    Operation(
        "upsertSku",
        "mutation($input: SkuInput!) { upsertSku(input: $input) { sku { code } } }",
        WRITERS,
        {"input": {"code": "TEE", "title": "Tee", "unitCostCents": 800, "weightGrams": 200}},
    ),
    Operation(
        "adjustStock",
        "mutation($input: StockAdjustmentInput!) { adjustStock(input: $input) { stockLevel { onHand } } }",
        WRITERS,
        {"input": {"sku": "TEE", "locationCode": "DC-1", "delta": 5, "reason": "count"}},
    ),
    Operation(
        "upsertChannel",
        "mutation($input: ChannelInput!) { upsertChannel(input: $input) { channel { code } } }",
        WRITERS,
        {"input": {"code": "web", "defaultSafetyStock": 2}},
    ),
    Operation(
        "placeOrder",
        "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } userErrors { code } } }",
        SELLERS,
        PLACE_ORDER_VARIABLES,
    ),
    Operation(
        "order",
        '{ order(id: "o-1") { id status shipments { location { code } } routing { totalCents } } }',
        SELLERS,
    ),
    Operation("orders", "{ orders(first: 10) { edges { node { id } } } }", SELLERS),
    Operation("cancelOrder", 'mutation { cancelOrder(id: "o-1") { order { status } } }', SELLERS),
    Operation(
        "shipShipment", 'mutation { shipShipment(id: "s-o-1") { shipment { id } } }', WRITERS
    ),
]

SUBSCRIPTION = (
    'subscription { inventoryChanged(skus: ["TEE"]) { sku available location { code } } }'
)


def principal(role: Role) -> Principal:
    return Principal(
        subject=f"{role}-1", role=role, location_code="HUB-1" if role is Role.SCANNER else None
    )


def context_for(
    role: Role | None,
    inventory: FakeInventory | None = None,
    feed: InventoryFeed | None = None,
    orders: FakeOrders | None = None,
) -> Context:
    return Context.create(
        inventory or FakeInventory(),  # type: ignore[arg-type]
        orders or FakeOrders(),  # type: ignore[arg-type]
        feed or InventoryFeed(),
        None if role is None else principal(role),
    )


def error_codes(result: ExecutionResult) -> list[str | None]:
    return [(error.extensions or {}).get("code") for error in result.errors or []]


def test_schema_builds_with_every_domain_type() -> None:
    sdl = build_schema().as_str()
    for name in (
        "type Query",
        "type Mutation",
        "type Subscription",
        "input PlaceOrderInput",
        "enum WorkOrderStatus",
    ):
        assert name in sdl


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
@pytest.mark.parametrize("role", list(Role), ids=str)
async def test_each_role_reaches_only_its_operations(operation: Operation, role: Role) -> None:
    inventory, orders = FakeInventory(), FakeOrders()
    result = await build_schema().execute(
        operation.document,
        operation.variables,
        context_value=context_for(role, inventory, orders=orders),
    )
    if role in operation.roles:
        assert result.errors is None, result.errors
        assert inventory.calls or orders.calls
    else:
        assert error_codes(result) == ["FORBIDDEN"]
        assert "open to the roles" in result.errors[0].message  # type: ignore[index]
        assert inventory.calls == orders.calls == []


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
async def test_no_principal_is_unauthenticated(operation: Operation) -> None:
    result = await build_schema().execute(
        operation.document, operation.variables, context_value=context_for(None)
    )
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def next_result(subscription: Any) -> ExecutionResult:
    return await asyncio.wait_for(anext(subscription), timeout=5)


async def first_change(
    subscription: Any, feed: InventoryFeed, delivered: StockChange
) -> ExecutionResult:
    """The subscription's first result, delivering it until the resolver, which subscribes to the
    feed only once first awaited, has received it."""
    pending = asyncio.ensure_future(next_result(subscription))
    while not pending.done():
        feed.deliver(delivered)
        await asyncio.sleep(0.01)
    return pending.result()


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


def change(sku: str, available: int) -> StockChange:
    level = StockLevelChanged(sku=sku, location_code="DC-1", on_hand=available, available=available)
    return StockChange(level, datetime.now(UTC))


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


def test_service_field_paths_become_graphql_input_paths() -> None:
    assert graphql_field_path("input", "lines.0.unit_price_cents") == "input.lines.0.unitPriceCents"
    assert graphql_field_path("input", "location_code") == "input.locationCode"
    assert graphql_field_path("input", "ship_to.latitude") == "input.shipTo.latitude"
    assert graphql_field_path("input", None) is None


def test_service_fields_of_root_arguments_become_those_arguments() -> None:
    renamed = {"shipment_id": "id"}
    assert graphql_field_path(None, "shipment_id", renamed) == "id"
    assert graphql_field_path(None, "tracking_number", renamed) == "trackingNumber"
    assert graphql_field_path(None, "id") == "id"


def rpc_error(status: grpc.Status) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(
        status.code,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(*status.trailing_metadata),
        status.details,
    )


def test_a_refusal_becomes_a_user_error_and_a_fault_is_re_raised() -> None:
    refused = rpc_error(to_grpc_status(DomainError(ErrorCode.NOT_FOUND, "unknown SKU 'X'", "sku")))
    error = user_error_from_rpc(refused, "input")
    assert (error.field, error.code, error.message) == (
        "input.sku",
        ErrorCode.NOT_FOUND,
        "unknown SKU 'X'",
    )
    unavailable = grpc.aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), "connection refused"
    )
    with pytest.raises(grpc.aio.AioRpcError):
        user_error_from_rpc(unavailable, "input")


async def test_a_refused_mutation_answers_user_errors() -> None:
    refusal = to_grpc_status(
        DomainError(ErrorCode.INVALID_QUANTITY, "delta must not be zero", "delta")
    )
    inventory = FakeInventory(fail_with=rpc_error(refusal))
    adjust = OPERATIONS[6]
    result = await build_schema().execute(
        "mutation($input: StockAdjustmentInput!) { adjustStock(input: $input) { stockLevel { onHand } userErrors { field message code } } }",
        adjust.variables,
        context_value=context_for(Role.ADMIN, inventory),
    )
    assert result.errors is None
    assert result.data == {
        "adjustStock": {
            "stockLevel": None,
            "userErrors": [
                {
                    "field": "input.delta",
                    "message": "delta must not be zero",
                    "code": "INVALID_QUANTITY",
                }
            ],
        }
    }


async def test_an_internal_fault_is_masked() -> None:
    inventory = FakeInventory(fail_with=RuntimeError("password=hunter2 at db.internal:5432"))
    result = await build_schema().execute(
        "{ locations { code } }", context_value=context_for(Role.ADMIN, inventory)
    )
    assert result.errors is not None
    assert [error.message for error in result.errors] == ["Unexpected error."]
    assert "hunter2" not in str(result.errors[0].formatted)


async def test_an_internal_fault_in_a_subscription_is_masked() -> None:
    feed = InventoryFeed()
    inventory = FakeInventory(fail_with=RuntimeError("password=hunter2"))
    subscription = await build_schema().subscribe(
        SUBSCRIPTION, context_value=context_for(Role.ADMIN, inventory, feed)
    )
    try:
        result = await first_change(subscription, feed, change("TEE", available=4))
    finally:
        await subscription.aclose()
    assert result.errors is not None
    assert [error.message for error in result.errors] == ["Unexpected error."]
    assert "hunter2" not in str(result.errors[0].formatted)


async def test_malformed_documents_keep_their_message() -> None:
    result = await build_schema().execute(
        "{ locations { nope } }", context_value=context_for(Role.ADMIN)
    )
    assert result.errors is not None
    assert "Cannot query field 'nope'" in result.errors[0].message


async def test_limits_refuse_too_deep_too_many_aliases_and_too_many_tokens() -> None:
    schema = build_schema(QueryLimits(max_depth=2, max_aliases=3, max_tokens=60))
    context = context_for(Role.ADMIN)
    too_deep = await schema.execute(
        'mutation { upsertChannel(input: {code: "web", defaultSafetyStock: 1}) { channel { safetyStock { sku } } } }',
        context_value=context,
    )
    assert too_deep.errors is not None
    assert "exceeds maximum operation depth" in too_deep.errors[0].message
    aliases = " ".join(f"a{i}: locations {{ code }}" for i in range(4))
    too_many_aliases = await schema.execute(f"{{ {aliases} }}", context_value=context)
    assert too_many_aliases.errors is not None
    assert "aliases" in too_many_aliases.errors[0].message
    fields = " ".join("code" for _ in range(60))
    too_many_tokens = await schema.execute(f"{{ locations {{ {fields} }} }}", context_value=context)
    assert too_many_tokens.errors is not None
    assert "token" in too_many_tokens.errors[0].message.lower()
    within = await schema.execute(
        '{ stockLevels(sku: "TEE") { location { code } } }', context_value=context
    )
    assert within.errors is None


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
