"""Procurement's gRPC edge: protobuf in, use case, protobuf out (errors map in the kernel)."""

from __future__ import annotations

from oms.procurement.v1 import procurement_pb2 as pb
from oms.procurement.v1.procurement_pb2_grpc import ProcurementServiceServicer
from services.kernel.grpc_server import ServicerContext, caller_of
from services.kernel.messages import from_message, to_message
from services.kernel.proto_enums import enum_name
from services.procurement.domain.model import (
    ChosenLine,
    NewInvoice,
    NewPurchaseOrder,
    NewSupplier,
    PurchaseOrder,
    PurchaseOrderStatus,
    Receipt,
)
from services.procurement.service import ProcurementService


def purchase_order_to_proto(order: PurchaseOrder) -> pb.PurchaseOrder:
    return to_message(pb.PurchaseOrder, order)


class ProcurementGrpc(ProcurementServiceServicer):
    def __init__(self, service: ProcurementService) -> None:
        self._service = service

    async def UpsertSupplier(
        self, request: pb.UpsertSupplierRequest, context: ServicerContext
    ) -> pb.Supplier:
        supplier = await self._service.upsert_supplier(from_message(NewSupplier, request))
        return to_message(pb.Supplier, supplier)

    async def CreatePurchaseOrder(
        self, request: pb.CreatePurchaseOrderRequest, context: ServicerContext
    ) -> pb.PurchaseOrder:
        new = from_message(NewPurchaseOrder, request)
        return purchase_order_to_proto(await self._service.create_purchase_order(new))

    async def OpenPurchaseOrder(
        self, request: pb.PurchaseOrderRequest, context: ServicerContext
    ) -> pb.PurchaseOrder:
        order = await self._service.open_purchase_order(request.purchase_order_id)
        return purchase_order_to_proto(order)

    async def ReceivePurchaseOrder(
        self, request: pb.ReceivePurchaseOrderRequest, context: ServicerContext
    ) -> pb.PurchaseOrder:
        receipt = from_message(Receipt, request)
        return purchase_order_to_proto(await self._service.receive(receipt, caller_of(context)))

    async def CancelPurchaseOrder(
        self, request: pb.PurchaseOrderRequest, context: ServicerContext
    ) -> pb.PurchaseOrder:
        return purchase_order_to_proto(await self._service.cancel(request.purchase_order_id))

    async def GetPurchaseOrder(
        self, request: pb.PurchaseOrderRequest, context: ServicerContext
    ) -> pb.PurchaseOrder:
        order = await self._service.purchase_order(request.purchase_order_id, caller_of(context))
        return purchase_order_to_proto(order)

    async def ListPurchaseOrders(
        self, request: pb.ListPurchaseOrdersRequest, context: ServicerContext
    ) -> pb.ListPurchaseOrdersResponse:
        status = (
            PurchaseOrderStatus(enum_name(pb.PurchaseOrderStatus, request.status))
            if request.status
            else None
        )
        orders = await self._service.purchase_orders(
            status,
            list(request.location_codes),
            list(request.skus),
            request.open_only,
            caller_of(context),
        )
        return pb.ListPurchaseOrdersResponse(
            purchase_orders=[purchase_order_to_proto(x) for x in orders]
        )

    async def RecordSupplierInvoice(
        self, request: pb.RecordSupplierInvoiceRequest, context: ServicerContext
    ) -> pb.SupplierInvoice:
        invoice = await self._service.record_invoice(from_message(NewInvoice, request))
        return to_message(pb.SupplierInvoice, invoice)

    async def ApproveSupplierInvoice(
        self, request: pb.ApproveSupplierInvoiceRequest, context: ServicerContext
    ) -> pb.SupplierInvoice:
        invoice = await self._service.approve_invoice(request.invoice_id, caller_of(context))
        return to_message(pb.SupplierInvoice, invoice)

    async def GetReplenishmentPlan(
        self, request: pb.ReplenishmentPlanRequest, context: ServicerContext
    ) -> pb.ReplenishmentPlan:
        lines = await self._service.replenishment_plan(request.location_code)
        return pb.ReplenishmentPlan(lines=[to_message(pb.PlanLine, x) for x in lines])

    async def DraftPurchaseOrders(
        self, request: pb.DraftPurchaseOrdersRequest, context: ServicerContext
    ) -> pb.DraftPurchaseOrdersResponse:
        chosen = [from_message(ChosenLine, x) for x in request.lines]
        orders = await self._service.draft_purchase_orders(chosen)
        return pb.DraftPurchaseOrdersResponse(
            purchase_orders=[purchase_order_to_proto(x) for x in orders]
        )
