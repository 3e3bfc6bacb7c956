"""The work orders' gRPC edge: protobuf in, use case, protobuf out (errors map in the kernel)."""

from __future__ import annotations

import grpc

from oms.workorders.v1 import workorders_pb2 as pb
from oms.workorders.v1.workorders_pb2_grpc import WorkOrdersServiceServicer
from services.kernel.proto_enums import enum_name, enum_value
from services.workorders.domain import rules
from services.workorders.domain.model import WorkOrder
from services.workorders.service import WorkOrdersService


def work_order_to_proto(work_order: WorkOrder) -> pb.WorkOrder:
    return pb.WorkOrder(
        id=work_order.id,
        kind=enum_value(pb.WorkOrderKind, work_order.kind.value),
        status=enum_value(pb.WorkOrderStatus, work_order.status.value),
        sku=work_order.sku,
        quantity=work_order.quantity,
        location_code=work_order.location_code,
        source_return_id=work_order.source_return_id,
        operations=[
            pb.Operation(
                name=x.name,
                status=enum_value(pb.OperationStatus, x.status.value),
                labor_minutes=x.labor_minutes,
            )
            for x in work_order.operations
        ],
        created_at=work_order.created_at.isoformat(),
    )


class WorkOrdersGrpc(WorkOrdersServiceServicer):
    def __init__(self, service: WorkOrdersService) -> None:
        self._service = service

    async def ListWorkOrders(
        self, request: pb.ListWorkOrdersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListWorkOrdersResponse:
        work_orders = await self._service.work_orders(
            rules.status_filter(
                enum_name(pb.WorkOrderStatus, request.status) if request.status else ""
            ),
            request.location_code,
            request.source_return_id,
        )
        return pb.ListWorkOrdersResponse(work_orders=[work_order_to_proto(w) for w in work_orders])
