"""The work orders' gRPC edge: protobuf in, use case, protobuf out (errors map in the kernel)."""

from __future__ import annotations

from oms.workorders.v1 import workorders_pb2 as pb
from oms.workorders.v1.workorders_pb2_grpc import WorkOrdersServiceServicer
from services.kernel.grpc_server import ServicerContext
from services.kernel.messages import to_message
from services.kernel.proto_enums import enum_name
from services.workorders.domain import rules
from services.workorders.domain.model import WorkOrder
from services.workorders.service import WorkOrdersService


def work_order_to_proto(work_order: WorkOrder) -> pb.WorkOrder:
    return to_message(pb.WorkOrder, work_order)


class WorkOrdersGrpc(WorkOrdersServiceServicer):
    def __init__(self, service: WorkOrdersService) -> None:
        self._service = service

    async def ListWorkOrders(
        self, request: pb.ListWorkOrdersRequest, context: ServicerContext
    ) -> pb.ListWorkOrdersResponse:
        work_orders = await self._service.work_orders(
            rules.status_filter(
                enum_name(pb.WorkOrderStatus, request.status) if request.status else ""
            ),
            request.location_code,
            request.source_return_id,
        )
        return pb.ListWorkOrdersResponse(work_orders=[work_order_to_proto(w) for w in work_orders])
