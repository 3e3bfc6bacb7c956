"""The work orders' store: the port its use cases call, and its tables and queries over SQL
(no other service's data)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kernel.db import UTCDateTime, utcnow
from services.kernel.unit_of_work import SqlStore, Store
from services.workorders.domain.model import (
    NewWorkOrder,
    Operation,
    OperationStatus,
    WorkOrder,
    WorkOrderKind,
    WorkOrderStatus,
)

PRODUCER = "workorders"


class WorkOrdersStore(Store, Protocol):
    """What the work orders' use cases ask of their storage, in one unit of work."""

    async def refurbished_skus(self, return_id: str) -> set[str]:
        """The SKUs of a return that already have their work order."""
        ...

    async def add_work_order(self, work_order_id: str, new: NewWorkOrder) -> WorkOrder:
        """Stores a new OPEN work order with its operations pending, in order."""
        ...

    async def work_orders(
        self, status: WorkOrderStatus | None, location_code: str, source_return_id: str
    ) -> list[WorkOrder]:
        """Work orders matching every filter given (an empty one matches all), oldest first."""
        ...


class WorkOrderRow(SQLModel, table=True):
    __tablename__ = "work_order"
    __table_args__ = (
        # A returned SKU is refurbished under one work order, however often its inspection
        # arrives. NULL (no source return) never collides, on SQLite and PostgreSQL alike.
        UniqueConstraint("source_return_id", "sku", name="one_work_order_per_returned_sku"),
        Index("ix_work_order_status_location", "status", "location_code"),
    )

    id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(max_length=32)
    status: str = Field(max_length=32)
    sku: str = Field(max_length=64)
    quantity: int
    location_code: str = Field(max_length=64)
    source_return_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WorkOrderOperationRow(SQLModel, table=True):
    __tablename__ = "work_order_operation"

    work_order_id: str = Field(primary_key=True, foreign_key="work_order.id", max_length=36)
    # Operations are done in this order.
    position: int = Field(primary_key=True)
    name: str = Field(max_length=64)
    status: str = Field(default=OperationStatus.PENDING.value, max_length=32)
    labor_minutes: int = 0


TABLES: tuple[type[SQLModel], ...] = (WorkOrderRow, WorkOrderOperationRow)


class SqlWorkOrdersStore(SqlStore):
    """The work orders' store over their own database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, PRODUCER)

    async def refurbished_skus(self, return_id: str) -> set[str]:
        statement = select(WorkOrderRow.sku).where(WorkOrderRow.source_return_id == return_id)
        return set((await self.session.exec(statement)).all())

    async def add_work_order(self, work_order_id: str, new: NewWorkOrder) -> WorkOrder:
        row = WorkOrderRow(
            id=work_order_id,
            kind=new.kind.value,
            status=WorkOrderStatus.OPEN.value,
            sku=new.sku,
            quantity=new.quantity,
            location_code=new.location_code,
            source_return_id=new.source_return_id or None,
        )
        self.session.add(row)
        await self.session.flush()
        for position, name in enumerate(new.operations):
            self.session.add(
                WorkOrderOperationRow(work_order_id=row.id, position=position, name=name)
            )
        await self.session.flush()
        return (await self._assemble([row]))[0]

    async def work_orders(
        self, status: WorkOrderStatus | None, location_code: str, source_return_id: str
    ) -> list[WorkOrder]:
        statement = select(WorkOrderRow)
        if status is not None:
            statement = statement.where(WorkOrderRow.status == status.value)
        if location_code:
            statement = statement.where(WorkOrderRow.location_code == location_code)
        if source_return_id:
            statement = statement.where(WorkOrderRow.source_return_id == source_return_id)
        statement = statement.order_by(col(WorkOrderRow.created_at), col(WorkOrderRow.id))
        return await self._assemble(list((await self.session.exec(statement)).all()))

    async def _assemble(self, rows: Sequence[WorkOrderRow]) -> list[WorkOrder]:
        """Work orders with their operations in one more query, whatever the count."""
        if not rows:
            return []
        operations: dict[str, list[Operation]] = {row.id: [] for row in rows}
        statement = (
            select(WorkOrderOperationRow)
            .where(col(WorkOrderOperationRow.work_order_id).in_(list(operations)))
            .order_by(col(WorkOrderOperationRow.work_order_id), col(WorkOrderOperationRow.position))
        )
        for item in (await self.session.exec(statement)).all():
            operations[item.work_order_id].append(
                Operation(item.name, OperationStatus(item.status), item.labor_minutes)
            )
        return [
            WorkOrder(
                id=row.id,
                kind=WorkOrderKind(row.kind),
                status=WorkOrderStatus(row.status),
                sku=row.sku,
                quantity=row.quantity,
                location_code=row.location_code,
                operations=tuple(operations[row.id]),
                created_at=row.created_at,
                source_return_id=row.source_return_id or "",
            )
            for row in rows
        ]
