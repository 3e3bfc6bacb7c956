"""The work orders' store in memory, and the inventory port over the inventory service itself
(its own use cases over its in-memory store), so work order tests hold stock by inventory's
rules rather than a copy of them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.inventory.bootstrap import bootstrap as inventory_bootstrap
from services.inventory.domain.model import ReservationLine, ReservationStatus
from services.inventory.service import InventoryService
from services.kernel.db import utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.workorders.domain.model import (
    Component,
    NewWorkOrder,
    Operation,
    OperationDone,
    OperationStatus,
    UnitRecord,
    WorkOrder,
    WorkOrderStatus,
)
from services.workorders.ports import CatalogueSku
from services.workorders.store import WorkOrdersStore
from tests.fakes import inventory as inventory_fakes
from tests.fakes.kernel import MemoryData, MemoryStore, MemoryUnitOfWork

OPEN = (WorkOrderStatus.OPEN, WorkOrderStatus.IN_PROGRESS)


@dataclass
class WorkOrdersData(MemoryData):
    work_orders: list[WorkOrder] = field(default_factory=list)


class MemoryWorkOrdersStore(MemoryStore[WorkOrdersData]):
    async def refurbished_skus(self, return_id: str) -> set[str]:
        return {w.sku for w in self.data.work_orders if w.source_return_id == return_id}

    async def made_for_order(self, order_id: str) -> list[WorkOrder]:
        return [w for w in self.data.work_orders if order_id and w.order_id == order_id]

    async def open_count(self) -> int:
        return sum(1 for w in self.data.work_orders if w.status in OPEN)

    async def add_work_order(
        self, work_order_id: str, new: NewWorkOrder, status: WorkOrderStatus = WorkOrderStatus.OPEN
    ) -> WorkOrder:
        if new.source_return_id and new.sku in await self.refurbished_skus(new.source_return_id):
            raise AssertionError("one work order per returned SKU (a unique constraint in SQL)")
        if any(
            (w.sku, w.location_code) == (new.sku, new.location_code)
            for w in await self.made_for_order(new.order_id)
        ):
            raise AssertionError("one work order per made-to-order SKU (a unique constraint)")
        work_order = WorkOrder(
            id=work_order_id,
            kind=new.kind,
            status=status,
            sku=new.sku,
            quantity=new.quantity,
            location_code=new.location_code,
            operations=tuple(Operation(name) for name in new.operations),
            created_at=utcnow(),
            source_return_id=new.source_return_id,
            components=tuple(sorted(new.components, key=lambda c: c.sku)),
            order_id=new.order_id,
        )
        self.data.work_orders.append(work_order)
        return work_order

    async def work_order(self, work_order_id: str) -> WorkOrder | None:
        return next((w for w in self.data.work_orders if w.id == work_order_id), None)

    async def lock_work_order(self, work_order_id: str) -> WorkOrder | None:
        return await self.work_order(work_order_id)

    def _save(self, work_order: WorkOrder) -> WorkOrder:
        index = next(i for i, w in enumerate(self.data.work_orders) if w.id == work_order.id)
        self.data.work_orders[index] = work_order
        return work_order

    async def set_status(
        self,
        work_order_id: str,
        status: WorkOrderStatus,
        completed_at: datetime | None = None,
        written_off_cents: int | None = None,
    ) -> WorkOrder:
        found = await self.work_order(work_order_id)
        if found is None:
            raise LookupError(work_order_id)
        return self._save(
            dataclasses.replace(
                found,
                status=status,
                completed_at=completed_at,
                scrapped=written_off_cents is not None,
                written_off_cents=written_off_cents or 0,
            )
        )

    async def cost_components(self, work_order_id: str, components: Sequence[Component]) -> None:
        found = await self.work_order(work_order_id)
        if found is None:
            raise LookupError(work_order_id)
        costs = {c.sku: c.unit_cost_cents for c in components}
        costed = tuple(
            dataclasses.replace(c, unit_cost_cents=costs.get(c.sku, c.unit_cost_cents))
            for c in found.components
        )
        self._save(dataclasses.replace(found, components=costed))

    async def forget_work_order(self, work_order_id: str) -> None:
        self.data.work_orders = [
            w
            for w in self.data.work_orders
            if w.id != work_order_id or w.status is not WorkOrderStatus.OPENING
        ]

    async def stale_openings(self, before: datetime) -> list[str]:
        return [
            w.id
            for w in self.data.work_orders
            if w.status is WorkOrderStatus.OPENING and w.created_at < before
        ]

    async def record_operation(
        self, work_order_id: str, position: int, done: OperationDone, operation_done: bool
    ) -> None:
        found = await self.work_order(work_order_id)
        if found is None:
            raise LookupError(work_order_id)
        now = utcnow()
        op = found.operations[position]
        parts = {p.sku: p for p in op.parts_used}
        for part in done.parts_used:
            before = parts.get(part.sku)
            parts[part.sku] = (
                dataclasses.replace(before, quantity=before.quantity + part.quantity)
                if before
                else part
            )
        records = op.records
        if done.serial_number or done.result:
            records = (*records, UnitRecord(done.serial_number, done.result, now))
        op = dataclasses.replace(
            op,
            labor_minutes=op.labor_minutes + done.labor_minutes,
            parts_used=tuple(parts[sku] for sku in sorted(parts)),
            records=records,
            status=OperationStatus.DONE if operation_done else op.status,
            completed_at=now if operation_done else op.completed_at,
        )
        operations = list(found.operations)
        operations[position] = op
        self._save(dataclasses.replace(found, operations=tuple(operations)))

    async def work_orders(
        self, status: WorkOrderStatus | None, location_code: str, source_return_id: str
    ) -> list[WorkOrder]:
        return [
            w
            for w in self.data.work_orders
            if (
                w.status is status
                if status is not None
                else w.status is not WorkOrderStatus.OPENING
            )
            and (not location_code or w.location_code == location_code)
            and (not source_return_id or w.source_return_id == source_return_id)
        ]

    async def bench(self, location_code: str, finished_since: datetime) -> list[WorkOrder]:
        return [
            w
            for w in self.data.work_orders
            if (
                w.status in OPEN
                or (w.completed_at is not None and w.completed_at >= finished_since)
            )
            and (not location_code or w.location_code == location_code)
        ]


def memory_uow() -> MemoryUnitOfWork[WorkOrdersStore, WorkOrdersData]:
    return MemoryUnitOfWork(WorkOrdersData(), MemoryWorkOrdersStore)


class InventoryOverService:
    """The work orders' inventory port over `InventoryService` in memory."""

    def __init__(self) -> None:
        self.uow = inventory_fakes.memory_uow()
        self.service: InventoryService = inventory_bootstrap(self.uow)

    async def catalogue(self, codes: Iterable[str]) -> dict[str, CatalogueSku]:
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        return {
            x.code: CatalogueSku(x.code, x.unit_cost_cents, x.serialized)
            for x in await self.service.skus(wanted)
        }

    async def location_exists(self, code: str) -> bool:
        return bool(await self.service.locations([code]))

    async def reserve(self, key: str, location_code: str, lines: Sequence[Component]) -> bool:
        wanted = [ReservationLine(x.sku, location_code, x.quantity) for x in lines]
        try:
            await self.service.reserve(key, wanted, "work_order")
        except DomainError as error:
            if error.code is ErrorCode.INSUFFICIENT_STOCK:
                return False
            raise
        return True

    async def release(self, key: str) -> None:
        await self.service.release(key)

    async def holds(self, key: str) -> bool:
        try:
            return bool((await self.service.reservation(key)).held)
        except DomainError:
            return False

    async def short(self, location_code: str, lines: Sequence[Component]) -> list[str]:
        levels = await self.service.stock_levels([x.sku for x in lines], [location_code])
        available = {x.sku: x.available for x in levels}
        return [x.sku for x in lines if available.get(x.sku, 0) < x.quantity]

    async def consume(
        self, key: str, location_code: str, lines: Sequence[Component], reason: str
    ) -> None:
        wanted = [ReservationLine(x.sku, location_code, x.quantity) for x in lines]
        await self.service.consume(key, wanted, reason)

    async def status_of(self, key: str) -> ReservationStatus | None:
        try:
            return (await self.service.reservation(key)).status
        except DomainError:
            return None
