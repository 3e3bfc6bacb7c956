"""The work orders' gRPC edge: protobuf in, use case, protobuf out (errors map in the kernel)."""

from __future__ import annotations

from oms.workorders.v1 import workorders_pb2 as pb
from oms.workorders.v1.workorders_pb2_grpc import WorkOrdersServiceServicer
from services.kernel.grpc_server import ServicerContext, caller_of
from services.kernel.messages import from_message, to_message
from services.kernel.proto_enums import enum_name
from services.workorders.domain import rules
from services.workorders.domain.model import NewWorkOrder, OperationDone, WorkOrder
from services.workorders.service import WorkOrdersService


def work_order_to_proto(work_order: WorkOrder) -> pb.WorkOrder:
    return to_message(pb.WorkOrder, work_order)


class WorkOrdersGrpc(WorkOrdersServiceServicer):
    def __init__(self, service: WorkOrdersService) -> None:
        self._service = service

    async def CreateWorkOrder(
        self, request: pb.CreateWorkOrderRequest, context: ServicerContext
    ) -> pb.WorkOrder:
        # Unit costs a client sends are ignored: the use case takes them from the catalogue.
        new = from_message(NewWorkOrder, request)
        return work_order_to_proto(await self._service.create(new))

    async def CompleteOperation(
        self, request: pb.CompleteOperationRequest, context: ServicerContext
    ) -> pb.WorkOrder:
        done = from_message(OperationDone, request)
        work_order = await self._service.complete_operation(done, caller_of(context))
        return work_order_to_proto(work_order)

    async def CancelWorkOrder(
        self, request: pb.CancelWorkOrderRequest, context: ServicerContext
    ) -> pb.WorkOrder:
        work_order = await self._service.cancel(
            request.work_order_id, request.reason, caller_of(context)
        )
        return work_order_to_proto(work_order)

    async def ListWorkOrders(
        self, request: pb.ListWorkOrdersRequest, context: ServicerContext
    ) -> pb.ListWorkOrdersResponse:
        work_orders = await self._service.work_orders(
            rules.status_filter(
                enum_name(pb.WorkOrderStatus, request.status) if request.status else ""
            ),
            request.location_code,
            request.source_return_id,
            caller_of(context),
        )
        return pb.ListWorkOrdersResponse(work_orders=[work_order_to_proto(w) for w in work_orders])

    async def GetRepairReport(
        self, request: pb.RepairReportRequest, context: ServicerContext
    ) -> pb.RepairReport:
        found = await self._service.repair_report(request.location_code, request.period_hours)
        return to_message(pb.RepairReport, found)

    async def GetWorkOrdersSummary(
        self, request: pb.WorkOrdersSummaryRequest, context: ServicerContext
    ) -> pb.WorkOrdersSummary:
        count = await self._service.open_count(caller_of(context))
        return pb.WorkOrdersSummary(open_work_orders=count)
