"""The work orders' store in memory."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.kernel.db import utcnow
from services.workorders.domain.model import (
    NewWorkOrder,
    Operation,
    WorkOrder,
    WorkOrderStatus,
)
from services.workorders.store import WorkOrdersStore
from tests.fakes.kernel import MemoryData, MemoryStore, MemoryUnitOfWork


@dataclass
class WorkOrdersData(MemoryData):
    work_orders: list[WorkOrder] = field(default_factory=list)


class MemoryWorkOrdersStore(MemoryStore[WorkOrdersData]):
    async def refurbished_skus(self, return_id: str) -> set[str]:
        return {w.sku for w in self.data.work_orders if w.source_return_id == return_id}

    async def add_work_order(self, work_order_id: str, new: NewWorkOrder) -> WorkOrder:
        if new.source_return_id and new.sku in await self.refurbished_skus(new.source_return_id):
            raise AssertionError("one work order per returned SKU (a unique constraint in SQL)")
        work_order = WorkOrder(
            id=work_order_id,
            kind=new.kind,
            status=WorkOrderStatus.OPEN,
            sku=new.sku,
            quantity=new.quantity,
            location_code=new.location_code,
            operations=tuple(Operation(name) for name in new.operations),
            created_at=utcnow(),
            source_return_id=new.source_return_id,
        )
        self.data.work_orders.append(work_order)
        return work_order

    async def work_orders(
        self, status: WorkOrderStatus | None, location_code: str, source_return_id: str
    ) -> list[WorkOrder]:
        return [
            w
            for w in self.data.work_orders
            if (status is None or w.status is status)
            and (not location_code or w.location_code == location_code)
            and (not source_return_id or w.source_return_id == source_return_id)
        ]


def memory_uow() -> MemoryUnitOfWork[WorkOrdersStore, WorkOrdersData]:
    return MemoryUnitOfWork(WorkOrdersData(), MemoryWorkOrdersStore)
