"""The work orders' store: the port its use cases call, and its tables and queries over SQL
(no other service's data)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import BigInteger, Index, Integer, UniqueConstraint, delete, func, or_
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kernel.db import UTCDateTime, utcnow
from services.kernel.unit_of_work import SqlStore, Store
from services.workorders.domain.model import (
    Component,
    NewWorkOrder,
    Operation,
    OperationDone,
    OperationStatus,
    UnitRecord,
    WorkOrder,
    WorkOrderKind,
    WorkOrderStatus,
)

PRODUCER = "workorders"
R = TypeVar("R", bound=SQLModel)


OPEN_STATUSES = (WorkOrderStatus.OPEN.value, WorkOrderStatus.IN_PROGRESS.value)
MONEY = BigInteger().with_variant(Integer(), "sqlite")


class WorkOrdersStore(Store, Protocol):
    """What the work orders' use cases ask of their storage, in one unit of work."""

    async def refurbished_skus(self, return_id: str) -> set[str]:
        """The SKUs of a return that already have their work order."""
        ...

    async def made_for_order(self, order_id: str) -> list[WorkOrder]:
        """The work orders making units for an order, in any state."""
        ...

    async def open_count(self) -> int:
        """How many work orders are open or in progress."""
        ...

    async def add_work_order(
        self, work_order_id: str, new: NewWorkOrder, status: WorkOrderStatus = WorkOrderStatus.OPEN
    ) -> WorkOrder:
        """Stores a new work order (OPEN, or OPENING until inventory holds its components)
        with its components and its operations pending, in order."""
        ...

    async def work_order(self, work_order_id: str) -> WorkOrder | None: ...

    async def lock_work_order(self, work_order_id: str) -> WorkOrder | None:
        """The work order, locked until the unit of work ends (concurrent changes take turns)."""
        ...

    async def set_status(
        self,
        work_order_id: str,
        status: WorkOrderStatus,
        completed_at: datetime | None = None,
        written_off_cents: int | None = None,
    ) -> WorkOrder:
        """A new status; a finished one with when it finished, and a scrapped one with the
        value written off."""
        ...

    async def cost_components(self, work_order_id: str, components: Sequence[Component]) -> None:
        """Records the components' unit costs when they are taken (a made-to-order work order
        takes its order's blanks when it completes)."""
        ...

    async def forget_work_order(self, work_order_id: str) -> None:
        """Deletes an OPENING work order whose components could not be held."""
        ...

    async def stale_openings(self, before: datetime) -> list[str]:
        """Work orders still OPENING that were written before `before`."""
        ...

    async def record_operation(
        self, work_order_id: str, position: int, done: OperationDone, operation_done: bool
    ) -> None:
        """Adds the labour, parts (with their unit costs) and unit record of one completion;
        marks the operation DONE when `operation_done`."""
        ...

    async def work_orders(
        self, status: WorkOrderStatus | None, location_code: str, source_return_id: str
    ) -> list[WorkOrder]:
        """Work orders matching every filter given (an empty one matches all but OPENING),
        oldest first."""
        ...

    async def bench(self, location_code: str, finished_since: datetime) -> list[WorkOrder]:
        """The open work orders, and those finished since `finished_since` (at one location,
        or all when empty)."""
        ...


class WorkOrderRow(SQLModel, table=True):
    __tablename__ = "work_order"
    __table_args__ = (
        # A returned SKU is refurbished under one work order, however often its inspection
        # arrives. NULL (no source return) never collides, on SQLite and PostgreSQL alike.
        UniqueConstraint("source_return_id", "sku", name="one_work_order_per_returned_sku"),
        # Likewise an order's SKU made to order at a location, however often its placement
        # arrives.
        UniqueConstraint(
            "order_id", "sku", "location_code", name="one_work_order_per_made_to_order_sku"
        ),
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
    order_id: str | None = Field(default=None, max_length=64)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    scrapped: bool = False
    written_off_cents: int = Field(default=0, sa_type=MONEY)


class WorkOrderOperationRow(SQLModel, table=True):
    __tablename__ = "work_order_operation"

    work_order_id: str = Field(primary_key=True, foreign_key="work_order.id", max_length=36)
    # Operations are done in this order.
    position: int = Field(primary_key=True)
    name: str = Field(max_length=64)
    status: str = Field(default=OperationStatus.PENDING.value, max_length=32)
    labor_minutes: int = 0
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WorkOrderComponentRow(SQLModel, table=True):
    __tablename__ = "work_order_component"

    work_order_id: str = Field(primary_key=True, foreign_key="work_order.id", max_length=36)
    sku: str = Field(primary_key=True, max_length=64)
    # Per unit produced.
    quantity: int
    unit_cost_cents: int = Field(sa_type=MONEY)


class WorkOrderPartRow(SQLModel, table=True):
    __tablename__ = "work_order_part"

    work_order_id: str = Field(primary_key=True, foreign_key="work_order.id", max_length=36)
    position: int = Field(primary_key=True)
    sku: str = Field(primary_key=True, max_length=64)
    quantity: int
    unit_cost_cents: int = Field(sa_type=MONEY)


class WorkOrderRecordRow(SQLModel, table=True):
    """What one completion found or produced for a unit (a grade, a wipe certificate)."""

    __tablename__ = "work_order_record"

    work_order_id: str = Field(primary_key=True, foreign_key="work_order.id", max_length=36)
    position: int = Field(primary_key=True)
    # Records of one operation in the order they came (the work order's lock orders them).
    sequence: int = Field(primary_key=True)
    serial_number: str = Field(default="", max_length=128)
    result: str = Field(default="", max_length=2000)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


TABLES: tuple[type[SQLModel], ...] = (
    WorkOrderRow,
    WorkOrderOperationRow,
    WorkOrderComponentRow,
    WorkOrderPartRow,
    WorkOrderRecordRow,
)


class SqlWorkOrdersStore(SqlStore):
    """The work orders' store over their own database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, PRODUCER)

    async def refurbished_skus(self, return_id: str) -> set[str]:
        statement = select(WorkOrderRow.sku).where(WorkOrderRow.source_return_id == return_id)
        return set((await self.session.exec(statement)).all())

    async def made_for_order(self, order_id: str) -> list[WorkOrder]:
        statement = select(WorkOrderRow).where(WorkOrderRow.order_id == order_id)
        statement = statement.order_by(col(WorkOrderRow.created_at), col(WorkOrderRow.id))
        return await self._assemble(list((await self.session.exec(statement)).all()))

    async def open_count(self) -> int:
        statement = select(func.count()).where(col(WorkOrderRow.status).in_(OPEN_STATUSES))
        return int((await self.session.exec(statement)).one())

    async def add_work_order(
        self, work_order_id: str, new: NewWorkOrder, status: WorkOrderStatus = WorkOrderStatus.OPEN
    ) -> WorkOrder:
        row = WorkOrderRow(
            id=work_order_id,
            kind=new.kind.value,
            status=status.value,
            order_id=new.order_id or None,
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
        for component in new.components:
            self.session.add(
                WorkOrderComponentRow(
                    work_order_id=row.id,
                    sku=component.sku,
                    quantity=component.quantity,
                    unit_cost_cents=component.unit_cost_cents,
                )
            )
        await self.session.flush()
        return (await self._assemble([row]))[0]

    async def work_order(self, work_order_id: str) -> WorkOrder | None:
        row = await self.session.get(WorkOrderRow, work_order_id)
        return (await self._assemble([row]))[0] if row else None

    async def lock_work_order(self, work_order_id: str) -> WorkOrder | None:
        statement = (
            select(WorkOrderRow)
            .where(WorkOrderRow.id == work_order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row = (await self.session.exec(statement)).first()
        return (await self._assemble([row]))[0] if row else None

    async def set_status(
        self,
        work_order_id: str,
        status: WorkOrderStatus,
        completed_at: datetime | None = None,
        written_off_cents: int | None = None,
    ) -> WorkOrder:
        row = await self.session.get(WorkOrderRow, work_order_id)
        if row is None:
            raise LookupError(f"no work order {work_order_id}")
        row.status = status.value
        row.updated_at = utcnow()
        row.completed_at = completed_at
        row.scrapped = written_off_cents is not None
        row.written_off_cents = written_off_cents or 0
        self.session.add(row)
        await self.session.flush()
        return (await self._assemble([row]))[0]

    async def cost_components(self, work_order_id: str, components: Sequence[Component]) -> None:
        for component in components:
            row = await self.session.get(WorkOrderComponentRow, (work_order_id, component.sku))
            if row is not None:
                row.unit_cost_cents = component.unit_cost_cents
                self.session.add(row)
        await self.session.flush()

    async def forget_work_order(self, work_order_id: str) -> None:
        row = await self.session.get(WorkOrderRow, work_order_id)
        if row is None or row.status != WorkOrderStatus.OPENING.value:
            return
        await self.session.exec(
            delete(WorkOrderComponentRow).where(
                col(WorkOrderComponentRow.work_order_id) == work_order_id
            )
        )
        await self.session.exec(
            delete(WorkOrderOperationRow).where(
                col(WorkOrderOperationRow.work_order_id) == work_order_id
            )
        )
        await self.session.delete(row)

    async def stale_openings(self, before: datetime) -> list[str]:
        statement = select(WorkOrderRow.id).where(
            WorkOrderRow.status == WorkOrderStatus.OPENING.value, WorkOrderRow.created_at < before
        )
        return list((await self.session.exec(statement)).all())

    async def record_operation(
        self, work_order_id: str, position: int, done: OperationDone, operation_done: bool
    ) -> None:
        now = utcnow()
        operation = await self.session.get(WorkOrderOperationRow, (work_order_id, position))
        if operation is None:
            raise LookupError(f"work order {work_order_id} has no operation {position}")
        operation.labor_minutes += done.labor_minutes
        if operation_done:
            operation.status = OperationStatus.DONE.value
            operation.completed_at = now
        self.session.add(operation)
        for part in done.parts_used:
            existing = await self.session.get(WorkOrderPartRow, (work_order_id, position, part.sku))
            if existing is not None:  # a second record of a WIPE used more of the same part
                existing.quantity += part.quantity
                self.session.add(existing)
                continue
            self.session.add(
                WorkOrderPartRow(
                    work_order_id=work_order_id,
                    position=position,
                    sku=part.sku,
                    quantity=part.quantity,
                    unit_cost_cents=part.unit_cost_cents,
                )
            )
        if done.serial_number or done.result:
            sequence = len(
                (
                    await self.session.exec(
                        select(WorkOrderRecordRow.sequence).where(
                            WorkOrderRecordRow.work_order_id == work_order_id,
                            WorkOrderRecordRow.position == position,
                        )
                    )
                ).all()
            )
            self.session.add(
                WorkOrderRecordRow(
                    work_order_id=work_order_id,
                    position=position,
                    sequence=sequence,
                    serial_number=done.serial_number,
                    result=done.result,
                    recorded_at=now,
                )
            )
        await self.session.flush()

    async def bench(self, location_code: str, finished_since: datetime) -> list[WorkOrder]:
        statement = select(WorkOrderRow).where(
            or_(
                col(WorkOrderRow.status).in_(OPEN_STATUSES),
                col(WorkOrderRow.completed_at) >= finished_since,
            )
        )
        if location_code:
            statement = statement.where(WorkOrderRow.location_code == location_code)
        statement = statement.order_by(col(WorkOrderRow.created_at), col(WorkOrderRow.id))
        return await self._assemble(list((await self.session.exec(statement)).all()))

    async def work_orders(
        self, status: WorkOrderStatus | None, location_code: str, source_return_id: str
    ) -> list[WorkOrder]:
        statement = select(WorkOrderRow).where(
            WorkOrderRow.status == status.value
            if status is not None
            else WorkOrderRow.status != WorkOrderStatus.OPENING.value
        )
        if location_code:
            statement = statement.where(WorkOrderRow.location_code == location_code)
        if source_return_id:
            statement = statement.where(WorkOrderRow.source_return_id == source_return_id)
        statement = statement.order_by(col(WorkOrderRow.created_at), col(WorkOrderRow.id))
        return await self._assemble(list((await self.session.exec(statement)).all()))

    async def _assemble(self, rows: Sequence[WorkOrderRow]) -> list[WorkOrder]:
        """Work orders with their operations, parts, records and components in four more
        queries, whatever the count."""
        if not rows:
            return []
        ids = [row.id for row in rows]
        parts = await self._by_operation(WorkOrderPartRow, ids)
        records = await self._by_operation(WorkOrderRecordRow, ids)
        operations: dict[str, list[Operation]] = {row.id: [] for row in rows}
        for item in await self._of(WorkOrderOperationRow, ids, WorkOrderOperationRow.position):
            key = (item.work_order_id, item.position)
            operations[item.work_order_id].append(
                Operation(
                    item.name,
                    OperationStatus(item.status),
                    item.labor_minutes,
                    parts_used=tuple(
                        Component(x.sku, x.quantity, x.unit_cost_cents) for x in parts.get(key, [])
                    ),
                    records=tuple(
                        UnitRecord(x.serial_number, x.result, x.recorded_at)
                        for x in sorted(records.get(key, []), key=lambda r: r.sequence)
                    ),
                    completed_at=item.completed_at,
                )
            )
        components: dict[str, list[Component]] = {row.id: [] for row in rows}
        for component in await self._of(WorkOrderComponentRow, ids, WorkOrderComponentRow.sku):
            components[component.work_order_id].append(
                Component(component.sku, component.quantity, component.unit_cost_cents)
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
                components=tuple(components[row.id]),
                order_id=row.order_id or "",
                completed_at=row.completed_at,
                scrapped=row.scrapped,
                written_off_cents=row.written_off_cents,
            )
            for row in rows
        ]

    async def _of(self, table: type[R], ids: Sequence[str], order: Any) -> list[R]:
        # Every per-work-order table has the column; the type checker cannot see it through R.
        columns: Any = table
        column = columns.work_order_id
        statement = select(table).where(col(column).in_(ids)).order_by(col(column), order)
        return list((await self.session.exec(statement)).all())

    async def _by_operation(
        self, table: type[R], ids: Sequence[str]
    ) -> dict[tuple[str, int], list[R]]:
        found: dict[tuple[str, int], list[R]] = {}
        for row in await self._of(table, ids, table.position):  # type: ignore[attr-defined]
            found.setdefault((row.work_order_id, row.position), []).append(row)  # type: ignore[attr-defined]
        return found
