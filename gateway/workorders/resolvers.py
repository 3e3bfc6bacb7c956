"""Work order queries and mutations, each calling the work orders service once; the locations
they mention are batched through the request's loader.

The service decides what the caller may do (each call carries whom it is for): a scanner — the
hub's technician — lists and completes the operations of its own location's work orders only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from gateway.context import Context
from gateway.errors import query_answer
from gateway.mutations import answer
from gateway.permissions import allow
from gateway.workorders.inputs import (
    CompleteWorkOrderOperationInput,
    CreateWorkOrderInput,
    WorkOrderStatus,
)
from gateway.workorders.types import RepairReport, WorkOrder, WorkOrderPayload
from oms.workorders.v1 import workorders_pb2 as pb
from oms.workorders.v1.workorders_pb2_grpc import WorkOrdersServiceStub
from services.kernel.caller import Role
from services.kernel.proto_enums import enum_value

if TYPE_CHECKING:  # the asyncio stub's type exists for the type checker only
    from oms.workorders.v1.workorders_pb2_grpc import WorkOrdersServiceAsyncStub

Info = strawberry.Info[Context, None]

STAFF = (Role.BACKOFFICE, Role.ADMIN)
BENCH = (Role.SCANNER, *STAFF)
CANCEL_ARGUMENTS = {"work_order_id": "id"}


def _workorders(info: Info) -> WorkOrdersServiceAsyncStub:
    return info.context.services[WorkOrdersServiceStub]


@strawberry.type
class WorkOrdersQuery:
    @strawberry.field(
        extensions=allow(*BENCH),
        description="Work orders by status and location, oldest first; a scanner sees its own "
        "location's only.",
    )
    async def work_orders(
        self, info: Info, status: WorkOrderStatus | None = None, location_code: str | None = None
    ) -> list[WorkOrder]:
        request = pb.ListWorkOrdersRequest(location_code=location_code or "")
        if status is not None:
            request.status = enum_value(pb.WorkOrderStatus, status.value)
        response = await query_answer(_workorders(info).ListWorkOrders(request))
        return [WorkOrder.from_proto(w) for w in response.work_orders]

    @strawberry.field(
        extensions=allow(*STAFF),
        description="The bench per location: open work orders by kind, units and value in "
        "repair, the oldest one's age, and p50/p90 hours from open to complete over the last "
        "`periodHours` (default a week).",
    )
    async def repair_report(
        self, info: Info, location_code: str | None = None, period_hours: int | None = None
    ) -> RepairReport:
        request = pb.RepairReportRequest(
            location_code=location_code or "", period_hours=period_hours or 0
        )
        return RepairReport.from_proto(
            await query_answer(_workorders(info).GetRepairReport(request))
        )


@strawberry.type
class WorkOrdersMutation:
    @strawberry.mutation(
        extensions=allow(*STAFF),
        description="Opens a KIT_ASSEMBLY or VALUE_ADD work order holding its components at the "
        "location (INSUFFICIENT_STOCK on the first short component, the message naming each "
        "short SKU). REFURBISH work orders open from inspected returns.",
    )
    async def create_work_order(self, info: Info, input: CreateWorkOrderInput) -> WorkOrderPayload:
        call = _workorders(info).CreateWorkOrder(input.to_proto())
        return await answer(WorkOrderPayload, call, work_order=WorkOrder.from_proto)

    @strawberry.mutation(
        extensions=allow(*BENCH),
        description="Records the next operation — in order and once (INVALID_STATE) — with its "
        "labour and parts (off on hand at the location: INSUFFICIENT_STOCK); the last one "
        "completes the work order. A serialized refurbishment needs a WIPE per unit, with its "
        "serial number and certificate. A scanner works at its own location only (FORBIDDEN).",
    )
    async def complete_work_order_operation(
        self, info: Info, input: CompleteWorkOrderOperationInput
    ) -> WorkOrderPayload:
        call = _workorders(info).CompleteOperation(input.to_proto())
        return await answer(WorkOrderPayload, call, work_order=WorkOrder.from_proto)

    @strawberry.mutation(
        extensions=allow(*STAFF),
        description="Not in the client contract. Cancels an open work order: a kit's or "
        "value-add's components go back; a refurbishment is scrapped (nothing becomes sellable, "
        "its value is written off). A completed one is INVALID_STATE.",
    )
    async def cancel_work_order(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> WorkOrderPayload:
        call = _workorders(info).CancelWorkOrder(
            pb.CancelWorkOrderRequest(work_order_id=id, reason=reason or "")
        )
        return await answer(
            WorkOrderPayload,
            call,
            argument=None,
            paths=CANCEL_ARGUMENTS,
            work_order=WorkOrder.from_proto,
        )
