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
from gateway.services import ServiceStubs
from gateway.settings import QueryLimits
from oms.events.v1.inventory_pb2 import StockLevelChanged
from oms.inventory.v1 import inventory_pb2 as pb
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from oms.orders.v1 import orders_pb2 as opb
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from oms.returns.v1 import returns_pb2 as rpb
from oms.returns.v1.returns_pb2_grpc import ReturnsServiceStub
from services.kernel.errors import DomainError, ErrorCode, to_grpc_status

DC = pb.Location(id="1", code="DC-1", name="Main DC", kind=pb.LOCATION_KIND_DISTRIBUTION_CENTER)
HUB = pb.Location(id="2", code="HUB-1", name="Hub", kind=pb.LOCATION_KIND_RETURN_HUB)


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
        return self._answer("ListLocations", pb.ListLocationsResponse(locations=[DC, HUB]))

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


def a_return(
    return_id: str = "r-1", order_id: str = "o-1", destination: str = "HUB-1"
) -> rpb.Return:
    """A return of one TEE of `order_id` bound for `destination`, requested and not inspected."""
    return rpb.Return(
        id=return_id,
        order_id=order_id,
        status=rpb.RETURN_STATUS_REQUESTED,
        destination_code=destination,
        destination_kind="RETURN_HUB",
        estimated_cost_cents=500,
        centralized_cost_cents=3500,
        lines=[rpb.ReturnLine(sku="TEE", quantity=1, reason=rpb.RETURN_REASON_SIZE_TOO_SMALL)],
        requested_at="2030-01-02T12:00:00+00:00",
        placed_by="storefront-1",
    )


class FakeReturns(FakeService):
    """Answers every returns RPC the schema calls with `returns` (one return by default)."""

    def __init__(
        self, fail_with: Exception | None = None, returns: list[rpb.Return] | None = None
    ) -> None:
        super().__init__(fail_with)
        self.returns = returns if returns is not None else [a_return()]

    def RequestReturn(self, request: rpb.RequestReturnRequest) -> Any:
        return self._answer("RequestReturn", self.returns[0], request)

    def ReceiveReturn(self, request: rpb.ReceiveReturnRequest) -> Any:
        return self._answer("ReceiveReturn", self.returns[0], request)

    def InspectReturn(self, request: rpb.InspectReturnRequest) -> Any:
        return self._answer("InspectReturn", self.returns[0], request)

    def GetReturns(self, request: rpb.GetReturnsRequest) -> Any:
        found = [r for r in self.returns if r.id in request.ids]
        return self._answer("GetReturns", rpb.GetReturnsResponse(returns=found), request)

    def HubQueue(self, request: rpb.HubQueueRequest) -> Any:
        return self._answer("HubQueue", rpb.HubQueueResponse(returns=self.returns), request)

    def GetReturnsReport(self, request: rpb.ReturnsReportRequest) -> Any:
        return self._answer("GetReturnsReport", rpb.ReturnsReport(returns=1), request)


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

REQUEST_RETURN_VARIABLES = {
    "input": {
        "orderId": "o-1",
        "lines": [{"sku": "TEE", "quantity": 1, "reason": "SIZE_TOO_SMALL"}],
    }
}
INSPECT_RETURN_VARIABLES = {"input": {"returnId": "r-1", "lines": [{"sku": "TEE", "grade": "NEW"}]}}

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
    Operation(
        "requestReturn",
        "mutation($input: RequestReturnInput!) { requestReturn(input: $input) { return { id } userErrors { code } } }",
        SELLERS,
        REQUEST_RETURN_VARIABLES,
    ),
    Operation(
        "receiveReturn",
        'mutation { receiveReturn(id: "r-1", locationCode: "HUB-1") { return { id } userErrors { code } } }',
        READERS,
    ),
    Operation(
        "inspectReturn",
        "mutation($input: InspectReturnInput!) { inspectReturn(input: $input) { return { id } userErrors { code } } }",
        READERS,
        INSPECT_RETURN_VARIABLES,
    ),
    Operation("return", '{ return(id: "r-1") { id destination { code } } }', frozenset(Role)),
    Operation("hubQueue", '{ hubQueue(locationCode: "HUB-1") { id } }', READERS),
    Operation("returnsReport", "{ returnsReport { returns savingCents } }", WRITERS),
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
    returns: FakeReturns | None = None,
) -> Context:
    services = ServiceStubs(
        {
            InventoryServiceStub: inventory or FakeInventory(),
            OrdersServiceStub: orders or FakeOrders(),
            ReturnsServiceStub: returns or FakeReturns(),
        }
    )
    return Context.create(services, feed or InventoryFeed(), principal_for(role))


def principal_for(role: Role | None) -> Principal | None:
    return None if role is None else principal(role)


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
    inventory, orders, returns = FakeInventory(), FakeOrders(), FakeReturns()
    result = await build_schema().execute(
        operation.document,
        operation.variables,
        context_value=context_for(role, inventory, orders=orders, returns=returns),
    )
    if role in operation.roles:
        assert result.errors is None, result.errors
        assert inventory.calls or orders.calls or returns.calls
    else:
        assert error_codes(result) == ["FORBIDDEN"]
        assert "open to the roles" in result.errors[0].message  # type: ignore[index]
        assert inventory.calls == orders.calls == returns.calls == []


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
    paths = {"shipment_id": "id", "serials": "serialNumbers"}
    assert graphql_field_path(None, "shipment_id", paths) == "id"
    assert graphql_field_path(None, "tracking_number", paths) == "trackingNumber"
    assert graphql_field_path(None, "id") == "id"
    assert graphql_field_path(None, "serials.1.serial_numbers", paths) == (
        "serialNumbers.1.serialNumbers"
    )


def test_a_renamed_prefix_moves_the_rest_of_the_path_with_it() -> None:
    paths = {"customer": "input.customerAddress", "customer.id": "input.customerId"}
    assert graphql_field_path("input", "customer", paths) == "input.customerAddress"
    assert graphql_field_path("input", "customer.latitude", paths) == (
        "input.customerAddress.latitude"
    )
    assert graphql_field_path("input", "customer.id", paths) == "input.customerId"
    assert graphql_field_path("input", "customers.0", paths) == "input.customers.0"


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


RETURN_DETAIL = """
  id status orderId destination { code kind } estimatedCostCents centralizedCostCents
  lines { sku quantity reason grade disposition settledQuantity }
  fraudFlags refund { status amountCents issuedAt } requestedAt receivedAt inspectedAt closedAt
"""
RETURN = f'{{ return(id: "r-1") {{ {RETURN_DETAIL} }} }}'
REQUEST_RETURN = (
    "mutation($input: RequestReturnInput!) { requestReturn(input: $input) "
    "{ return { id } userErrors { field message code } } }"
)
RECEIVE_RETURN = (
    "mutation($id: ID!, $at: String!) { receiveReturn(id: $id, locationCode: $at) "
    "{ return { id status } userErrors { field message code } } }"
)
INSPECT_RETURN = (
    "mutation($input: InspectReturnInput!) { inspectReturn(input: $input) "
    "{ return { id } userErrors { field message code } } }"
)


async def test_a_return_reads_as_the_contract_says_with_nulls_until_inspected() -> None:
    result = await build_schema().execute(RETURN, context_value=context_for(Role.BACKOFFICE))
    assert result.errors is None, result.errors
    assert result.data == {
        "return": {
            "id": "r-1",
            "status": "REQUESTED",
            "orderId": "o-1",
            "destination": {"code": "HUB-1", "kind": "RETURN_HUB"},
            "estimatedCostCents": 500,
            "centralizedCostCents": 3500,
            "lines": [
                {
                    "sku": "TEE",
                    "quantity": 1,
                    "reason": "SIZE_TOO_SMALL",
                    "grade": None,
                    "disposition": None,
                    "settledQuantity": 0,
                }
            ],
            "fraudFlags": [],
            "refund": None,
            "requestedAt": "2030-01-02T12:00:00+00:00",
            "receivedAt": None,
            "inspectedAt": None,
            "closedAt": None,
        }
    }


async def test_an_inspected_return_shows_grades_dispositions_and_its_refund() -> None:
    inspected = a_return()
    inspected.status = rpb.RETURN_STATUS_CLOSED
    inspected.lines[0].grade, inspected.lines[0].disposition = (
        rpb.GRADE_NEW,
        rpb.DISPOSITION_RESTOCK,
    )
    inspected.lines[0].settled_quantity = 1
    inspected.refund.CopyFrom(
        rpb.Refund(
            status=rpb.REFUND_STATUS_ISSUED,
            amount_cents=2500,
            issued_at="2030-01-03T09:00:00+00:00",
        )
    )
    result = await build_schema().execute(
        RETURN, context_value=context_for(Role.ADMIN, returns=FakeReturns(returns=[inspected]))
    )
    assert result.data is not None
    found = result.data["return"]
    assert found["status"] == "CLOSED"
    assert found["lines"][0] | {"sku": None} == {
        "sku": None,
        "quantity": 1,
        "reason": "SIZE_TOO_SMALL",
        "grade": "NEW",
        "disposition": "RESTOCK",
        "settledQuantity": 1,
    }
    assert found["refund"] == {
        "status": "ISSUED",
        "amountCents": 2500,
        "issuedAt": "2030-01-03T09:00:00+00:00",
    }


async def test_a_scanner_works_at_its_own_location_only() -> None:
    schema = build_schema()
    returns = FakeReturns(returns=[a_return(destination="HUB-2")])
    scanner = context_for(Role.SCANNER, returns=returns)

    elsewhere = await schema.execute(
        RECEIVE_RETURN, {"id": "r-1", "at": "HUB-2"}, context_value=scanner
    )
    assert elsewhere.data == {
        "receiveReturn": {
            "return": None,
            "userErrors": [
                {
                    "field": "locationCode",
                    "message": "this scanner works at HUB-1, not at HUB-2",
                    "code": "FORBIDDEN",
                }
            ],
        }
    }
    queue = await schema.execute(
        '{ hubQueue(locationCode: "HUB-2") { id } }', context_value=scanner
    )
    assert queue.data is None and error_codes(queue) == ["FORBIDDEN"]
    assert queue.errors is not None and "HUB-1" in queue.errors[0].message
    assert returns.calls == []

    # Another hub's return reads as if it did not exist.
    assert (await schema.execute(RETURN, context_value=scanner)).data == {"return": None}
    # The service decides whether the scanner's hub is the return's destination.
    await schema.execute(INSPECT_RETURN, INSPECT_RETURN_VARIABLES, context_value=scanner)
    assert returns.calls == ["GetReturns", "InspectReturn"]
    assert returns.requests[-1].acting_location_code == "HUB-1"


async def test_back_office_inspects_anywhere_and_reads_every_return() -> None:
    schema = build_schema()
    returns = FakeReturns(returns=[a_return(destination="HUB-2")])
    backoffice = context_for(Role.BACKOFFICE, returns=returns)
    await schema.execute(INSPECT_RETURN, INSPECT_RETURN_VARIABLES, context_value=backoffice)
    assert returns.requests[-1].acting_location_code == ""
    received = await schema.execute(
        RECEIVE_RETURN, {"id": "r-1", "at": "HUB-2"}, context_value=backoffice
    )
    assert received.data == {
        "receiveReturn": {"return": {"id": "r-1", "status": "REQUESTED"}, "userErrors": []}
    }
    assert returns.requests[-1] == rpb.ReceiveReturnRequest(return_id="r-1", location_code="HUB-2")


async def test_a_storefront_returns_and_reads_only_the_orders_it_placed() -> None:
    """The gateway names the storefront to the returns service, which refuses another's order
    as an unknown one (tested against the real service in the integration suite), and shows a
    storefront only the returns of its own orders."""
    schema = build_schema()
    returns = FakeReturns()
    mine = context_for(Role.STOREFRONT, returns=returns)  # subject storefront-1
    accepted = await schema.execute(REQUEST_RETURN, REQUEST_RETURN_VARIABLES, context_value=mine)
    assert accepted.data == {"requestReturn": {"return": {"id": "r-1"}, "userErrors": []}}
    assert returns.requests[-1] == rpb.RequestReturnRequest(
        order_id="o-1",
        lines=[rpb.RequestedLine(sku="TEE", quantity=1, reason=rpb.RETURN_REASON_SIZE_TOO_SMALL)],
        requested_by="storefront-1",
    )
    assert (await schema.execute(RETURN, context_value=mine)).data is not None

    someone_elses = FakeReturns(returns=[a_return()])
    someone_elses.returns[0].placed_by = "storefront-2"
    other = context_for(Role.STOREFRONT, returns=someone_elses)
    assert (await schema.execute(RETURN, context_value=other)).data == {"return": None}

    backoffice = context_for(Role.BACKOFFICE, returns=returns)
    await schema.execute(REQUEST_RETURN, REQUEST_RETURN_VARIABLES, context_value=backoffice)
    assert returns.requests[-1].requested_by == ""


async def test_the_customers_address_is_sent_only_when_given() -> None:
    returns = FakeReturns()
    variables = {
        "input": REQUEST_RETURN_VARIABLES["input"]
        | {"customerAddress": {"latitude": 38.7, "longitude": -9.1}}
    }
    await build_schema().execute(
        REQUEST_RETURN, variables, context_value=context_for(Role.ADMIN, returns=returns)
    )
    await build_schema().execute(
        REQUEST_RETURN,
        REQUEST_RETURN_VARIABLES,
        context_value=context_for(Role.ADMIN, returns=returns),
    )
    sent, left_out = returns.requests
    assert sent.HasField("customer") and (sent.customer.latitude, sent.customer.longitude) == (
        38.7,
        -9.1,
    )
    assert not left_out.HasField("customer")


@pytest.mark.parametrize(
    ("document", "variables", "refusal", "field"),
    [
        (
            REQUEST_RETURN,
            REQUEST_RETURN_VARIABLES,
            DomainError(ErrorCode.INVALID_QUANTITY, "only 0 left", "lines.0.quantity"),
            "input.lines.0.quantity",
        ),
        (
            REQUEST_RETURN,
            REQUEST_RETURN_VARIABLES,
            DomainError(ErrorCode.NOT_FOUND, "no order o-1", "order_id"),
            "input.orderId",
        ),
        (
            REQUEST_RETURN,
            REQUEST_RETURN_VARIABLES,
            DomainError(ErrorCode.INVALID_INPUT, "out of range", "customer.latitude"),
            "input.customerAddress.latitude",
        ),
        (
            RECEIVE_RETURN,
            {"id": "r-1", "at": "HUB-1"},
            DomainError(ErrorCode.WRONG_LOCATION, "goes to HUB-2", "location_code"),
            "locationCode",
        ),
        (
            RECEIVE_RETURN,
            {"id": "r-1", "at": "HUB-1"},
            DomainError(ErrorCode.NOT_FOUND, "no return r-1", "return_id"),
            "id",
        ),
        (
            INSPECT_RETURN,
            INSPECT_RETURN_VARIABLES,
            DomainError(ErrorCode.INVALID_STATE, "inspected", "return_id"),
            "input.returnId",
        ),
        (
            INSPECT_RETURN,
            INSPECT_RETURN_VARIABLES,
            DomainError(ErrorCode.INVALID_INPUT, "scan it", "lines.0.serial_number"),
            "input.lines.0.serialNumber",
        ),
        (
            INSPECT_RETURN,
            INSPECT_RETURN_VARIABLES,
            DomainError(ErrorCode.FORBIDDEN, "inspected at HUB-2", "acting_location_code"),
            "input.returnId",
        ),
    ],
    ids=[
        "request-quantity",
        "request-order",
        "request-customer",
        "receive-location",
        "receive-id",
        "inspect-state",
        "inspect-serial",
        "inspect-elsewhere",
    ],
)
async def test_return_refusals_name_the_graphql_argument(
    document: str, variables: dict[str, Any], refusal: DomainError, field: str
) -> None:
    returns = FakeReturns(fail_with=rpc_error(to_grpc_status(refusal)))
    result = await build_schema().execute(
        document,
        variables,
        context_value=context_for(
            Role.SCANNER if "receive" in document else Role.ADMIN, returns=returns
        ),
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    (payload,) = result.data.values()
    assert payload == {
        "return": None,
        "userErrors": [{"field": field, "message": refusal.message, "code": refusal.code.value}],
    }


async def test_a_hub_queue_asks_inventory_once_for_its_locations() -> None:
    inventory = FakeInventory()
    returns = FakeReturns(returns=[a_return(f"r-{n}") for n in range(20)])
    result = await build_schema().execute(
        '{ hubQueue(locationCode: "HUB-1") { id destination { code } } }',
        context_value=context_for(Role.SCANNER, inventory, returns=returns),
    )
    assert result.errors is None, result.errors
    assert result.data is not None and len(result.data["hubQueue"]) == 20
    assert inventory.calls == ["ListLocations"]
    assert returns.requests == [rpb.HubQueueRequest(location_code="HUB-1")]


async def test_the_returns_report_passes_its_period_and_names_kinds_and_hubs() -> None:
    report = rpb.ReturnsReport(
        returns=3,
        by_destination_kind=[
            rpb.DestinationKindFigures(
                kind="RETURN_HUB", returns=2, handling_cost_cents=1000, centralized_cost_cents=7000
            ),
            rpb.DestinationKindFigures(
                kind="DISTRIBUTION_CENTER",
                returns=1,
                handling_cost_cents=3500,
                centralized_cost_cents=3500,
            ),
        ],
        handling_cost_cents=4500,
        centralized_cost_cents=10500,
        saving_cents=6000,
        request_to_refund_hours_p50=1.5,
        request_to_refund_hours_p90=3.0,
        receipt_to_restock_hours_p50=0.25,
        receipt_to_restock_hours_p90=0.5,
        backlog=[rpb.HubBacklog(location_code="HUB-1", awaiting_inspection=2, oldest_minutes=42)],
        awaiting_inspection=2,
    )

    class ReportingReturns(FakeReturns):
        def GetReturnsReport(self, request: rpb.ReturnsReportRequest) -> Any:
            return self._answer("GetReturnsReport", report, request)

    returns = ReportingReturns()
    result = await build_schema().execute(
        """{ returnsReport(from: "2030-01-01T00:00:00+00:00", to: "2030-02-01T00:00:00+00:00") {
            returns byDestinationKind { kind returns handlingCostCents centralizedCostCents }
            handlingCostCents centralizedCostCents savingCents
            requestToRefundHoursP50 requestToRefundHoursP90
            receiptToRestockHoursP50 receiptToRestockHoursP90
            backlog { location { code kind } awaitingInspection oldestMinutes } awaitingInspection
        } }""",
        context_value=context_for(Role.BACKOFFICE, returns=returns),
    )
    assert result.errors is None, result.errors
    assert result.data == {
        "returnsReport": {
            "returns": 3,
            "byDestinationKind": [
                {
                    "kind": "RETURN_HUB",
                    "returns": 2,
                    "handlingCostCents": 1000,
                    "centralizedCostCents": 7000,
                },
                {
                    "kind": "DISTRIBUTION_CENTER",
                    "returns": 1,
                    "handlingCostCents": 3500,
                    "centralizedCostCents": 3500,
                },
            ],
            "handlingCostCents": 4500,
            "centralizedCostCents": 10500,
            "savingCents": 6000,
            "requestToRefundHoursP50": 1.5,
            "requestToRefundHoursP90": 3.0,
            "receiptToRestockHoursP50": 0.25,
            "receiptToRestockHoursP90": 0.5,
            "backlog": [
                {
                    "location": {"code": "HUB-1", "kind": "RETURN_HUB"},
                    "awaitingInspection": 2,
                    "oldestMinutes": 42,
                }
            ],
            "awaitingInspection": 2,
        }
    }
    assert returns.requests == [
        rpb.ReturnsReportRequest(
            **{"from": "2030-01-01T00:00:00+00:00", "to": "2030-02-01T00:00:00+00:00"}
        )
    ]
    await build_schema().execute(
        "{ returnsReport { returns } }", context_value=context_for(Role.ADMIN, returns=returns)
    )
    assert returns.requests[-1] == rpb.ReturnsReportRequest()


async def test_contract_fields_not_acted_on_yet_are_refused_not_ignored() -> None:
    inventory, returns = FakeInventory(), FakeReturns()
    location = OPERATIONS[4].variables["input"] | {"dailyShipCapacity": 10}  # type: ignore[index]
    upsert = await build_schema().execute(
        "mutation($input: LocationInput!) { upsertLocation(input: $input) "
        "{ location { code } userErrors { field code message } } }",
        {"input": location},
        context_value=context_for(Role.ADMIN, inventory, returns=returns),
    )
    assert upsert.data == {
        "upsertLocation": {
            "location": None,
            "userErrors": [
                {
                    "field": "input.dailyShipCapacity",
                    "code": "INVALID_INPUT",
                    "message": "dailyShipCapacity is not served yet",
                }
            ],
        }
    }
    keyed = REQUEST_RETURN_VARIABLES["input"] | {"idempotencyKey": "loop-1"}
    request = await build_schema().execute(
        "mutation($input: RequestReturnInput!) { requestReturn(input: $input) "
        "{ return { id } userErrors { field code } } }",
        {"input": keyed},
        context_value=context_for(Role.ADMIN, inventory, returns=returns),
    )
    assert request.data == {
        "requestReturn": {
            "return": None,
            "userErrors": [{"field": "input.idempotencyKey", "code": "INVALID_INPUT"}],
        }
    }
    assert inventory.calls == returns.calls == []
