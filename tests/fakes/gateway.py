"""Fakes of the services' gRPC stubs for the gateway's schema tests, answering each RPC with
a fixed, plausible reply, and a context built over them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
from strawberry.types import ExecutionResult

from gateway.context import Context
from gateway.feed import InventoryFeed, StockChange
from gateway.services import ServiceStubs
from oms.channels.v1 import channels_pb2 as cpb
from oms.channels.v1.channels_pb2_grpc import ChannelsServiceStub
from oms.events.v1.inventory_pb2 import StockLevelChanged
from oms.inventory.v1 import inventory_pb2 as pb
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from oms.orders.v1 import orders_pb2 as opb
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from oms.procurement.v1 import procurement_pb2 as ppb
from oms.procurement.v1.procurement_pb2_grpc import ProcurementServiceStub
from oms.returns.v1 import returns_pb2 as rpb
from oms.returns.v1.returns_pb2_grpc import ReturnsServiceStub
from oms.workorders.v1 import workorders_pb2 as wpb
from oms.workorders.v1.workorders_pb2_grpc import WorkOrdersServiceStub
from services.kernel.caller import Caller, Role
from tests.support.inputs import LocationInput

DC = pb.Location(id="1", code="DC-1", name="Main DC", kind=pb.LOCATION_KIND_DISTRIBUTION_CENTER)
HUB = pb.Location(id="2", code="HUB-1", name="Hub", kind=pb.LOCATION_KIND_RETURN_HUB)


Metadata = tuple[tuple[str, str], ...]
COUNTED_AT = "2026-01-01T00:00:00+00:00"


class FakeService:
    """Records the RPCs called and answers each with its reply, or fails them all."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.fail_with = fail_with
        self.calls: list[str] = []
        self.requests: list[Any] = []
        # Whom each call said it was for.
        self.callers: list[Caller] = []

    async def _answer(
        self, name: str, reply: Any, request: Any = None, metadata: Metadata = ()
    ) -> Any:
        self.calls.append(name)
        self.requests.append(request)
        self.callers.append(Caller.from_metadata(metadata))
        if self.fail_with is not None:
            raise self.fail_with
        return reply


class FakeInventory(FakeService):
    """Answers every inventory RPC the schema calls with a fixed, plausible reply."""

    def GetInventoryValue(self, request: pb.InventoryValueRequest, metadata: Metadata = ()) -> Any:
        value = pb.InventoryValue(sellable_cents=80_000, in_repair_cents=30_000)
        return self._answer("GetInventoryValue", value, request, metadata=metadata)

    def ListLocations(self, request: pb.ListLocationsRequest, metadata: Metadata = ()) -> Any:
        return self._answer(
            "ListLocations",
            pb.ListLocationsResponse(locations=[DC, HUB]),
            request,
            metadata=metadata,
        )

    def ListSkus(self, request: pb.ListSkusRequest, metadata: Metadata = ()) -> Any:
        skus = [pb.Sku(code=code, title=code) for code in request.codes]
        return self._answer("ListSkus", pb.ListSkusResponse(skus=skus), request, metadata=metadata)

    def GetStockLevels(self, request: pb.GetStockLevelsRequest, metadata: Metadata = ()) -> Any:
        levels = [pb.StockLevel(sku=sku, location_code="DC-1", on_hand=3) for sku in request.skus]
        return self._answer(
            "GetStockLevels", pb.GetStockLevelsResponse(levels=levels), request, metadata=metadata
        )

    def ListStockLevels(self, request: pb.ListStockLevelsRequest, metadata: Metadata = ()) -> Any:
        level = pb.StockLevel(sku="TEE", location_code=request.location_code, on_hand=3)
        page = pb.ListStockLevelsResponse(edges=[pb.StockLevelEdge(cursor="c-TEE", level=level)])
        return self._answer("ListStockLevels", page, request, metadata=metadata)

    def GetAvailability(self, request: pb.GetAvailabilityRequest, metadata: Metadata = ()) -> Any:
        found = [pb.SkuAvailability(sku=sku, available=1) for sku in request.skus]
        return self._answer(
            "GetAvailability",
            pb.GetAvailabilityResponse(availability=found),
            request,
            metadata=metadata,
        )

    def UpsertLocation(self, request: pb.UpsertLocationRequest, metadata: Metadata = ()) -> Any:
        return self._answer("UpsertLocation", DC, request, metadata=metadata)

    def UpsertSku(self, request: pb.UpsertSkuRequest, metadata: Metadata = ()) -> Any:
        return self._answer(
            "UpsertSku", pb.Sku(code=request.code, title=request.title), request, metadata=metadata
        )

    def AdjustStock(self, request: pb.AdjustStockRequest, metadata: Metadata = ()) -> Any:
        level = pb.StockLevel(sku=request.sku, location_code="DC-1", on_hand=request.delta)
        return self._answer("AdjustStock", level, request, metadata=metadata)

    def UpsertChannel(self, request: pb.UpsertChannelRequest, metadata: Metadata = ()) -> Any:
        return self._answer(
            "UpsertChannel", pb.Channel(code=request.code), request, metadata=metadata
        )

    def ReconcileCount(self, request: pb.ReconcileCountRequest, metadata: Metadata = ()) -> Any:
        return self._answer("ReconcileCount", pb.CountReconciliation(), request, metadata=metadata)

    def ImportStock(self, request: pb.ImportStockRequest, metadata: Metadata = ()) -> Any:
        done = pb.ImportStockResponse(rows=len(request.rows), levels_changed=len(request.rows))
        return self._answer("ImportStock", done, request, metadata=metadata)

    def UpsertSkus(self, request: pb.UpsertSkusRequest, metadata: Metadata = ()) -> Any:
        done = pb.UpsertSkusResponse(created=len(request.skus))
        return self._answer("UpsertSkus", done, request, metadata=metadata)

    def ImportStockCount(self, request: pb.ImportStockCountRequest, metadata: Metadata = ()) -> Any:
        done = pb.CountReconciliation()
        return self._answer("ImportStockCount", done, request, metadata=metadata)

    def ListStockDiscrepancies(
        self, request: pb.ListStockDiscrepanciesRequest, metadata: Metadata = ()
    ) -> Any:
        found = pb.ListStockDiscrepanciesResponse()
        return self._answer("ListStockDiscrepancies", found, request, metadata=metadata)

    def ResolveStockDiscrepancy(
        self, request: pb.ResolveStockDiscrepancyRequest, metadata: Metadata = ()
    ) -> Any:
        found = pb.StockDiscrepancy(
            id=request.id, status=pb.DISCREPANCY_STATUS_DISMISSED, counted_at=COUNTED_AT
        )
        return self._answer("ResolveStockDiscrepancy", found, request, metadata=metadata)


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

    def GetPendingOrdersSummary(
        self, request: opb.PendingOrdersSummaryRequest, metadata: Metadata = ()
    ) -> Any:
        summary = opb.PendingOrdersSummary(pending_orders=3, oldest_pending_minutes=90)
        return self._answer("GetPendingOrdersSummary", summary, request, metadata=metadata)

    def GetShipBacklog(self, request: opb.ShipBacklogRequest, metadata: Metadata = ()) -> Any:
        backlogs = [
            opb.LocationShipBacklog(location_code=c, backlog=2) for c in request.location_codes
        ]
        answer = opb.ShipBacklogResponse(backlogs=backlogs)
        return self._answer("GetShipBacklog", answer, request, metadata=metadata)

    def PlaceOrder(self, request: opb.PlaceOrderRequest, metadata: Metadata = ()) -> Any:
        return self._answer("PlaceOrder", self.orders[0], request, metadata=metadata)

    def GetOrders(self, request: opb.GetOrdersRequest, metadata: Metadata = ()) -> Any:
        found = [o for o in self.orders if o.id in request.ids]
        return self._answer(
            "GetOrders", opb.GetOrdersResponse(orders=found), request, metadata=metadata
        )

    def ListOrders(self, request: opb.ListOrdersRequest, metadata: Metadata = ()) -> Any:
        edges = [opb.OrderEdge(cursor=f"c-{o.id}", order=o) for o in self.orders]
        page = opb.ListOrdersResponse(edges=edges, end_cursor=edges[-1].cursor if edges else "")
        return self._answer("ListOrders", page, request, metadata=metadata)

    def CancelOrder(self, request: opb.CancelOrderRequest, metadata: Metadata = ()) -> Any:
        cancelled = opb.Order()
        cancelled.CopyFrom(self.orders[0])
        cancelled.status = opb.ORDER_STATUS_CANCELLED
        return self._answer("CancelOrder", cancelled, request, metadata=metadata)

    def ShipShipment(self, request: opb.ShipShipmentRequest, metadata: Metadata = ()) -> Any:
        order = self.orders[0]
        reply = opb.ShipShipmentResponse(order=order, shipment=order.shipments[0])
        return self._answer("ShipShipment", reply, request, metadata=metadata)


class FakeWorkOrders(FakeService):
    """Answers every work orders RPC the schema calls with one open refurbishment at HUB-1."""

    work_order = wpb.WorkOrder(
        id="w-1",
        kind=wpb.WORK_ORDER_KIND_REFURBISH,
        status=wpb.WORK_ORDER_STATUS_OPEN,
        sku="TEE",
        quantity=1,
        location_code="HUB-1",
        created_at="2030-01-02T12:00:00+00:00",
        operations=[wpb.Operation(name="GRADE", status=wpb.OPERATION_STATUS_PENDING)],
    )

    def CreateWorkOrder(self, request: wpb.CreateWorkOrderRequest, metadata: Metadata = ()) -> Any:
        return self._answer("CreateWorkOrder", self.work_order, request, metadata=metadata)

    def CompleteOperation(
        self, request: wpb.CompleteOperationRequest, metadata: Metadata = ()
    ) -> Any:
        return self._answer("CompleteOperation", self.work_order, request, metadata=metadata)

    def CancelWorkOrder(self, request: wpb.CancelWorkOrderRequest, metadata: Metadata = ()) -> Any:
        return self._answer("CancelWorkOrder", self.work_order, request, metadata=metadata)

    def ListWorkOrders(self, request: wpb.ListWorkOrdersRequest, metadata: Metadata = ()) -> Any:
        response = wpb.ListWorkOrdersResponse(work_orders=[self.work_order])
        return self._answer("ListWorkOrders", response, request, metadata=metadata)

    def GetRepairReport(self, request: wpb.RepairReportRequest, metadata: Metadata = ()) -> Any:
        return self._answer("GetRepairReport", wpb.RepairReport(), request, metadata=metadata)

    def GetWorkOrdersSummary(
        self, request: wpb.WorkOrdersSummaryRequest, metadata: Metadata = ()
    ) -> Any:
        summary = wpb.WorkOrdersSummary(open_work_orders=2)
        return self._answer("GetWorkOrdersSummary", summary, request, metadata=metadata)


class FakeProcurement(FakeService):
    """Answers every procurement RPC the schema calls with one open purchase order to HUB-1."""

    supplier = ppb.Supplier(code="ACME", name="Acme", lead_time_days=7)
    purchase_order = ppb.PurchaseOrder(
        id="po-1",
        number="PO-000001",
        status=ppb.PURCHASE_ORDER_STATUS_OPEN,
        supplier=supplier,
        location_code="HUB-1",
        lines=[ppb.PurchaseOrderLine(sku="TEE", quantity_ordered=10, unit_cost_cents=500)],
        created_at="2030-01-02T12:00:00+00:00",
    )
    invoice = ppb.SupplierInvoice(
        id="i-1",
        invoice_number="INV-1",
        supplier_code="ACME",
        purchase_order_id="po-1",
        status=ppb.INVOICE_STATUS_ON_HOLD,
        recorded_at="2030-01-02T12:00:00+00:00",
    )

    def UpsertSupplier(self, request: ppb.UpsertSupplierRequest, metadata: Metadata = ()) -> Any:
        return self._answer("UpsertSupplier", self.supplier, request, metadata=metadata)

    def CreatePurchaseOrder(self, request: Any, metadata: Metadata = ()) -> Any:
        return self._answer("CreatePurchaseOrder", self.purchase_order, request, metadata=metadata)

    def ReceivePurchaseOrder(self, request: Any, metadata: Metadata = ()) -> Any:
        return self._answer("ReceivePurchaseOrder", self.purchase_order, request, metadata=metadata)

    def OpenPurchaseOrder(self, request: Any, metadata: Metadata = ()) -> Any:
        return self._answer("OpenPurchaseOrder", self.purchase_order, request, metadata=metadata)

    def CancelPurchaseOrder(self, request: Any, metadata: Metadata = ()) -> Any:
        return self._answer("CancelPurchaseOrder", self.purchase_order, request, metadata=metadata)

    def GetPurchaseOrder(self, request: Any, metadata: Metadata = ()) -> Any:
        return self._answer("GetPurchaseOrder", self.purchase_order, request, metadata=metadata)

    def ListPurchaseOrders(self, request: Any, metadata: Metadata = ()) -> Any:
        reply = ppb.ListPurchaseOrdersResponse(purchase_orders=[self.purchase_order])
        return self._answer("ListPurchaseOrders", reply, request, metadata=metadata)

    def RecordSupplierInvoice(self, request: Any, metadata: Metadata = ()) -> Any:
        return self._answer("RecordSupplierInvoice", self.invoice, request, metadata=metadata)

    def ApproveSupplierInvoice(self, request: Any, metadata: Metadata = ()) -> Any:
        return self._answer("ApproveSupplierInvoice", self.invoice, request, metadata=metadata)

    def GetReplenishmentPlan(self, request: Any, metadata: Metadata = ()) -> Any:
        line = ppb.PlanLine(sku="TEE", location_code="HUB-1", suggested_quantity=5)
        plan = ppb.ReplenishmentPlan(lines=[line])
        return self._answer("GetReplenishmentPlan", plan, request, metadata=metadata)

    def DraftPurchaseOrders(self, request: Any, metadata: Metadata = ()) -> Any:
        reply = ppb.DraftPurchaseOrdersResponse(purchase_orders=[self.purchase_order])
        return self._answer("DraftPurchaseOrders", reply, request, metadata=metadata)


class FakeChannels(FakeService):
    """Answers every channels RPC the schema calls with one Shopify store and one parked order."""

    channel = cpb.Channel(
        code="shopify-us",
        platform=cpb.CHANNEL_PLATFORM_SHOPIFY,
        account="brand.myshopify.com",
        has_webhook_secret=True,
        connected_at="2030-01-02T12:00:00+00:00",
    )
    parked = cpb.ChannelOrder(
        id="co-1",
        channel_code="shopify-us",
        external_id="450789469",
        status=cpb.CHANNEL_ORDER_STATUS_EXCEPTION,
        problem_code="NOT_FOUND",
        attempts=1,
        received_at="2030-01-02T12:00:00+00:00",
        updated_at="2030-01-02T12:00:00+00:00",
    )

    def ConnectChannel(self, request: cpb.ConnectChannelRequest, metadata: Metadata = ()) -> Any:
        return self._answer("ConnectChannel", self.channel, request, metadata=metadata)

    def ListChannelExceptions(self, request: Any, metadata: Metadata = ()) -> Any:
        reply = cpb.ChannelOrders(orders=[self.parked])
        return self._answer("ListChannelExceptions", reply, request, metadata=metadata)

    def RetryChannelOrder(self, request: Any, metadata: Metadata = ()) -> Any:
        return self._answer("RetryChannelOrder", self.parked, request, metadata=metadata)

    def GetChannelStatus(self, request: Any, metadata: Metadata = ()) -> Any:
        status = cpb.ChannelStatus(channel=self.channel, orders_received=1, exceptions_waiting=1)
        return self._answer("GetChannelStatus", status, request, metadata=metadata)

    def ResyncChannel(self, request: cpb.ResyncChannelRequest, metadata: Metadata = ()) -> Any:
        reply = cpb.ChannelResync(code=request.code, skus_owed=3)
        return self._answer("ResyncChannel", reply, request, metadata=metadata)

    def RetryChannelFulfillment(
        self, request: cpb.RetryChannelFulfillmentRequest, metadata: Metadata = ()
    ) -> Any:
        reply = cpb.ChannelFulfillment(
            shipment_id=request.shipment_id,
            channel_code="shopify-us",
            status=cpb.CHANNEL_FULFILLMENT_STATUS_PENDING,
        )
        return self._answer("RetryChannelFulfillment", reply, request, metadata=metadata)


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

    def GetReturnsSummary(self, request: rpb.ReturnsSummaryRequest, metadata: Metadata = ()) -> Any:
        summary = rpb.ReturnsSummary(awaiting_inspection=1)
        return self._answer("GetReturnsSummary", summary, request, metadata=metadata)

    def GetInspectionBacklog(
        self, request: rpb.InspectionBacklogRequest, metadata: Metadata = ()
    ) -> Any:
        backlogs = [
            rpb.LocationInspectionBacklog(location_code=c, backlog=3)
            for c in request.location_codes
        ]
        answer = rpb.InspectionBacklogResponse(backlogs=backlogs)
        return self._answer("GetInspectionBacklog", answer, request, metadata=metadata)

    def __init__(
        self, fail_with: Exception | None = None, returns: list[rpb.Return] | None = None
    ) -> None:
        super().__init__(fail_with)
        self.returns = returns if returns is not None else [a_return()]

    def RequestReturn(self, request: rpb.RequestReturnRequest, metadata: Metadata = ()) -> Any:
        return self._answer("RequestReturn", self.returns[0], request, metadata=metadata)

    def ReceiveReturn(self, request: rpb.ReceiveReturnRequest, metadata: Metadata = ()) -> Any:
        return self._answer("ReceiveReturn", self.returns[0], request, metadata=metadata)

    def InspectReturn(self, request: rpb.InspectReturnRequest, metadata: Metadata = ()) -> Any:
        return self._answer("InspectReturn", self.returns[0], request, metadata=metadata)

    def GetReturns(self, request: rpb.GetReturnsRequest, metadata: Metadata = ()) -> Any:
        found = [r for r in self.returns if r.id in request.ids]
        return self._answer(
            "GetReturns", rpb.GetReturnsResponse(returns=found), request, metadata=metadata
        )

    def ListReturns(self, request: rpb.ListReturnsRequest, metadata: Metadata = ()) -> Any:
        edges = [rpb.ReturnEdge(cursor=f"c-{r.id}", node=r) for r in self.returns]
        page = rpb.ListReturnsResponse(edges=edges, end_cursor=edges[-1].cursor if edges else "")
        return self._answer("ListReturns", page, request, metadata=metadata)

    def HubQueue(self, request: rpb.HubQueueRequest, metadata: Metadata = ()) -> Any:
        return self._answer(
            "HubQueue", rpb.HubQueueResponse(returns=self.returns), request, metadata=metadata
        )

    def GetReturnsReport(self, request: rpb.ReturnsReportRequest, metadata: Metadata = ()) -> Any:
        return self._answer(
            "GetReturnsReport", rpb.ReturnsReport(returns=1), request, metadata=metadata
        )

    def ConnectReturnsPlatform(
        self, request: rpb.ConnectReturnsPlatformRequest, metadata: Metadata = ()
    ) -> Any:
        connection = rpb.ReturnsPlatformConnection(
            code=request.code, platform=request.platform, connected_at="2026-01-01T00:00:00+00:00"
        )
        return self._answer("ConnectReturnsPlatform", connection, request, metadata=metadata)

    def ListReturnsPlatforms(
        self, request: rpb.ListReturnsPlatformsRequest, metadata: Metadata = ()
    ) -> Any:
        listed = rpb.ListReturnsPlatformsResponse()
        return self._answer("ListReturnsPlatforms", listed, request, metadata=metadata)


def principal(role: Role) -> Caller:
    return Caller(
        subject=f"{role}-1",
        role=role,
        location_code="HUB-1" if role is Role.SCANNER else None,
        channels=("web",) if role is Role.STOREFRONT else (),
    )


def context_for(
    role: Role | None,
    inventory: FakeInventory | None = None,
    feed: InventoryFeed | None = None,
    orders: FakeOrders | None = None,
    returns: FakeReturns | None = None,
    workorders: FakeWorkOrders | None = None,
    procurement: FakeProcurement | None = None,
    channels: FakeChannels | None = None,
) -> Context:
    services = ServiceStubs(
        {
            InventoryServiceStub: inventory or FakeInventory(),
            OrdersServiceStub: orders or FakeOrders(),
            ReturnsServiceStub: returns or FakeReturns(),
            WorkOrdersServiceStub: workorders or FakeWorkOrders(),
            ProcurementServiceStub: procurement or FakeProcurement(),
            ChannelsServiceStub: channels or FakeChannels(),
        }
    )
    return Context.create(services, feed or InventoryFeed(), principal_for(role))


def principal_for(role: Role | None) -> Caller | None:
    return None if role is None else principal(role)


def error_codes(result: ExecutionResult) -> list[str | None]:
    return [(error.extensions or {}).get("code") for error in result.errors or []]


@dataclass(frozen=True)
class Operation:
    name: str
    document: str
    roles: frozenset[Role]
    variables: dict[str, Any] | None = None


UPSERT_LOCATION_VARIABLES: dict[str, LocationInput] = {
    "input": {
        "code": "DC-1",
        "name": "DC",
        "kind": "DISTRIBUTION_CENTER",
        "latitude": 1.0,
        "longitude": 2.0,
    }
}
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

CREATE_WORK_ORDER_VARIABLES = {
    "input": {
        "kind": "KIT_ASSEMBLY",
        "sku": "KIT",
        "quantity": 1,
        "locationCode": "HUB-1",
        "components": [{"sku": "TEE", "quantity": 2}],
    }
}
COMPLETE_OPERATION_VARIABLES = {
    "input": {"workOrderId": "w-1", "operation": "GRADE", "laborMinutes": 5, "result": "GOOD"}
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
        UPSERT_LOCATION_VARIABLES,
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
        "importStock",
        "mutation($input: ImportStockInput!) { importStock(input: $input) "
        "{ stockImport { rows } } }",
        WRITERS,
        {"input": {"rows": [{"sku": "TEE", "locationCode": "DC-1", "delta": 5}]}},
    ),
    Operation(
        "upsertSkus",
        "mutation($input: UpsertSkusInput!) { upsertSkus(input: $input) "
        "{ skuImport { created } } }",
        WRITERS,
        {"input": {"skus": [{"code": "TEE", "title": "Tee"}]}},
    ),
    Operation(
        "submitStockCount",
        "mutation($input: StockCountInput!) { submitStockCount(input: $input) "
        "{ reconciliation { compared } } }",
        WRITERS,
        {"input": {"locationCode": "DC-1", "lines": [{"sku": "TEE", "counted": 3}]}},
    ),
    Operation(
        "importStockCount",
        'mutation { importStockCount(locationCode: "DC-1", csv: "sku,counted\\nTEE,3\\n") '
        "{ reconciliation { compared } } }",
        WRITERS,
    ),
    Operation(
        "stockDiscrepancies",
        '{ stockDiscrepancies(locationCode: "DC-1", status: OPEN, first: 10) { items { id } } }',
        WRITERS,
    ),
    Operation(
        "resolveStockDiscrepancy",
        'mutation { resolveStockDiscrepancy(id: "1", decision: DISMISS) '
        "{ discrepancy { status } } }",
        WRITERS,
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
    Operation(
        "stockLevelsAt",
        '{ stockLevelsAt(locationCode: "DC-1", first: 10) { edges { node { sku } } } }',
        READERS,
    ),
    Operation(
        "returns",
        '{ returns(status: REQUESTED, destinationCode: "HUB-1") { edges { node { id } } } }',
        frozenset(Role),
    ),
    Operation("hubQueue", '{ hubQueue(locationCode: "HUB-1") { id } }', READERS),
    Operation("returnsReport", "{ returnsReport { returns savingCents } }", WRITERS),
    Operation(
        "opsSummary",
        "{ opsSummary { pendingOrders openWorkOrders inventoryValueCents { inRepair } } }",
        WRITERS,
    ),
    Operation(
        "createWorkOrder",
        "mutation($input: CreateWorkOrderInput!) { createWorkOrder(input: $input) { workOrder { id } userErrors { code } } }",
        WRITERS,
        CREATE_WORK_ORDER_VARIABLES,
    ),
    Operation(
        "completeWorkOrderOperation",
        "mutation($input: CompleteWorkOrderOperationInput!) { completeWorkOrderOperation(input: $input) { workOrder { id } userErrors { code } } }",
        READERS,
        COMPLETE_OPERATION_VARIABLES,
    ),
    Operation(
        "cancelWorkOrder",
        'mutation { cancelWorkOrder(id: "w-1") { workOrder { status } userErrors { code } } }',
        WRITERS,
    ),
    Operation("workOrders", "{ workOrders { id location { code } } }", READERS),
    Operation("repairReport", "{ repairReport { openWorkOrders } }", WRITERS),
    Operation(
        "upsertSupplier",
        'mutation { upsertSupplier(input: {code: "ACME", name: "Acme", leadTimeDays: 7}) '
        "{ supplier { code } userErrors { code } } }",
        WRITERS,
    ),
    Operation(
        "createPurchaseOrder",
        'mutation { createPurchaseOrder(input: {supplierCode: "ACME", locationCode: "HUB-1", '
        'lines: [{sku: "TEE", quantity: 1, unitCostCents: 5}]}) { purchaseOrder { number } } }',
        WRITERS,
    ),
    Operation(
        "receivePurchaseOrder",
        'mutation { receivePurchaseOrder(input: {purchaseOrderId: "po-1", '
        'lines: [{sku: "TEE", quantity: 1}]}) { purchaseOrder { status location { code } } } }',
        READERS,
    ),
    Operation(
        "openPurchaseOrder",
        'mutation { openPurchaseOrder(id: "po-1") { purchaseOrder { status } } }',
        WRITERS,
    ),
    Operation(
        "cancelPurchaseOrder",
        'mutation { cancelPurchaseOrder(id: "po-1") { purchaseOrder { status } } }',
        WRITERS,
    ),
    Operation("purchaseOrders", "{ purchaseOrders(openOnly: true) { number } }", READERS),
    Operation("purchaseOrder", '{ purchaseOrder(id: "po-1") { number } }', READERS),
    Operation(
        "recordSupplierInvoice",
        'mutation { recordSupplierInvoice(input: {purchaseOrderId: "po-1", invoiceNumber: "I", '
        'lines: [{sku: "TEE", quantity: 1, unitCostCents: 5}]}) { invoice { status } } }',
        WRITERS,
    ),
    Operation(
        "approveSupplierInvoice",
        'mutation { approveSupplierInvoice(id: "i-1") { invoice { status } } }',
        WRITERS,
    ),
    Operation("replenishmentPlan", "{ replenishmentPlan { sku suggestedQuantity } }", WRITERS),
    Operation(
        "draftPurchaseOrders",
        'mutation { draftPurchaseOrders(input: {lines: [{sku: "TEE", locationCode: "HUB-1"}]}) '
        "{ purchaseOrders { status } } }",
        WRITERS,
    ),
    Operation(
        "connectChannel",
        'mutation { connectChannel(input: {code: "shopify-us", platform: SHOPIFY, '
        'account: "brand.myshopify.com", webhookSecret: "s"}) '
        "{ channel { code platform } userErrors { code } } }",
        WRITERS,
    ),
    Operation(
        "connectReturnsPlatform",
        'mutation { connectReturnsPlatform(input: {code: "loop-us", platform: LOOP, '
        'channel: "shopify-us", webhookSecret: "s", apiBaseUrl: "https://x", '
        'accessToken: "t"}) { connection { code } userErrors { code } } }',
        WRITERS,
    ),
    Operation("returnsPlatforms", "{ returnsPlatforms { code platform } }", WRITERS),
    Operation(
        "channelExceptions",
        '{ channelExceptions(channelCode: "shopify-us") { id status problemCode } }',
        WRITERS,
    ),
    Operation(
        "retryChannelOrder",
        'mutation { retryChannelOrder(id: "co-1") { channelOrder { status } userErrors { code } } }',
        WRITERS,
    ),
    Operation(
        "channelStatus",
        '{ channelStatus(code: "shopify-us") { ordersReceived channel { hasWebhookSecret } } }',
        WRITERS,
    ),
    Operation(
        "resyncChannel",
        'mutation { resyncChannel(code: "shopify-us") { skusOwed userErrors { code } } }',
        WRITERS,
    ),
    Operation(
        "retryChannelFulfillment",
        'mutation { retryChannelFulfillment(shipmentId: "sh-1") { fulfillment { status } '
        "userErrors { code } } }",
        WRITERS,
    ),
]

SUBSCRIPTION = (
    'subscription { inventoryChanged(skus: ["TEE"]) { sku available location { code } } }'
)


def rpc_error(status: grpc.Status) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(
        status.code,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(*status.trailing_metadata),
        status.details,
    )


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


def change(sku: str, available: int) -> StockChange:
    level = StockLevelChanged(sku=sku, location_code="DC-1", on_hand=available, available=available)
    return StockChange(level, datetime.now(UTC))
