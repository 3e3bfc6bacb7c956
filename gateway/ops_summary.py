"""The back office's operations summary: one figure from each service, asked in parallel.

Each service answers its own part (orders waiting, returns waiting, work orders open, the value
of stock in each state); a service that is away fails the whole query with UNAVAILABLE, like
any query, rather than answering a summary with a part silently missing.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import strawberry

from gateway.context import Context
from gateway.errors import query_answer
from gateway.permissions import allow
from gateway.scalars import Int64
from oms.inventory.v1 import inventory_pb2 as ipb
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from oms.orders.v1 import orders_pb2 as opb
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from oms.returns.v1 import returns_pb2 as rpb
from oms.returns.v1.returns_pb2_grpc import ReturnsServiceStub
from oms.workorders.v1 import workorders_pb2 as wpb
from oms.workorders.v1.workorders_pb2_grpc import WorkOrdersServiceStub
from services.kernel.caller import Role

if TYPE_CHECKING:
    from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceAsyncStub
    from oms.orders.v1.orders_pb2_grpc import OrdersServiceAsyncStub
    from oms.returns.v1.returns_pb2_grpc import ReturnsServiceAsyncStub
    from oms.workorders.v1.workorders_pb2_grpc import WorkOrdersServiceAsyncStub

Info = strawberry.Info[Context, None]


@strawberry.type(description="Stock at its SKUs' unit cost, in cents, by state.")
class InventoryValue:
    sellable: Int64 = strawberry.field(description="On hand less reserved.")
    reserved: Int64
    in_transit: Int64
    pending_inspection: Int64
    in_repair: Int64


@strawberry.type
class OpsSummary:
    pending_orders: int = strawberry.field(description="Orders not yet shipped or cancelled.")
    oldest_pending_minutes: int
    returns_awaiting_inspection: int
    open_work_orders: int
    inventory_value_cents: InventoryValue


@strawberry.type
class OpsSummaryQuery:
    @strawberry.field(
        extensions=allow(Role.BACKOFFICE, Role.ADMIN),
        description="Orders waiting and the oldest one's age, returns awaiting inspection, open "
        "work orders, and what the stock is worth in each state.",
    )
    async def ops_summary(self, info: Info) -> OpsSummary:
        services = info.context.services
        orders: OrdersServiceAsyncStub = services[OrdersServiceStub]
        returns: ReturnsServiceAsyncStub = services[ReturnsServiceStub]
        workorders: WorkOrdersServiceAsyncStub = services[WorkOrdersServiceStub]
        inventory: InventoryServiceAsyncStub = services[InventoryServiceStub]
        pending, awaiting, work, value = await asyncio.gather(
            query_answer(orders.GetPendingOrdersSummary(opb.PendingOrdersSummaryRequest())),
            query_answer(returns.GetReturnsSummary(rpb.ReturnsSummaryRequest())),
            query_answer(workorders.GetWorkOrdersSummary(wpb.WorkOrdersSummaryRequest())),
            query_answer(inventory.GetInventoryValue(ipb.InventoryValueRequest())),
        )
        return OpsSummary(
            pending_orders=pending.pending_orders,
            oldest_pending_minutes=pending.oldest_pending_minutes,
            returns_awaiting_inspection=awaiting.awaiting_inspection,
            open_work_orders=work.open_work_orders,
            inventory_value_cents=InventoryValue(
                sellable=Int64(value.sellable_cents),
                reserved=Int64(value.reserved_cents),
                in_transit=Int64(value.in_transit_cents),
                pending_inspection=Int64(value.pending_inspection_cents),
                in_repair=Int64(value.in_repair_cents),
            ),
        )
