"""The returns service's tables and the conversions between rows and the domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, text
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kernel.db import UTCDateTime, utcnow
from services.kernel.unit_of_work import SqlStore
from services.returns.domain import rules
from services.returns.domain.model import (
    Disposition,
    Grade,
    InspectedUnit,
    Refund,
    RefundStatus,
    RequestedLine,
    Return,
    ReturnStatus,
    SettledUnit,
    ShippedLine,
)

# Any constant: the first half of the advisory lock key that serialises requests per order.
ORDER_LOCK_CLASS = 7_243_119


class ReturnRow(SQLModel, table=True):
    __tablename__ = "returns"
    __table_args__ = (
        Index("ix_returns_queue", "status", "destination_code", "received_at"),
        Index("ix_returns_requested_at", "requested_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(index=True, max_length=36)
    placed_by: str = Field(default="", max_length=128)
    status: str = Field(max_length=32)
    destination_code: str = Field(max_length=64)
    destination_kind: str = Field(max_length=32)
    estimated_cost_cents: int
    centralized_cost_cents: int
    customer_latitude: float
    customer_longitude: float
    fraud_flags: list[str] = Field(default_factory=list, sa_type=JSON)
    notes: str = Field(default="", max_length=2000)
    measured_weight_grams: int | None = None
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    inspected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReturnLineRow(SQLModel, table=True):
    """A requested line, with what the order shipped of its SKU as of the request: inspection
    checks the parcel against this snapshot and needs no other service."""

    __tablename__ = "return_line"
    __table_args__ = (CheckConstraint("quantity >= 1", name="return_line_quantity_positive"),)

    return_id: str = Field(primary_key=True, foreign_key="returns.id", max_length=36)
    line_number: int = Field(primary_key=True)
    sku: str = Field(max_length=64)
    quantity: int
    reason: str = Field(max_length=32)
    unit_price_cents: int
    unit_weight_grams: int
    serialized: bool
    shipped_quantity: int
    shipped_serials: list[str] = Field(default_factory=list, sa_type=JSON)


class InspectedUnitRow(SQLModel, table=True):
    __tablename__ = "inspected_unit"

    return_id: str = Field(primary_key=True, foreign_key="returns.id", max_length=36)
    unit_number: int = Field(primary_key=True)
    # The requested line the unit answers; None for a unit never asked for.
    line_number: int | None = None
    sku: str = Field(max_length=64)
    grade: str = Field(max_length=32)
    serial_number: str = Field(default="", max_length=128)
    # Empty on a rejected return: nothing is disposed of.
    disposition: str = Field(default="", max_length=32)
    settled: bool = False
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RefundRow(SQLModel, table=True):
    """One refund per return; the ledger of what was paid back. `next_attempt_at` is both the
    retry schedule and the lease of an attempt in flight (None: not retried automatically)."""

    __tablename__ = "refund"
    __table_args__ = (
        CheckConstraint("amount_cents >= 0", name="refund_amount_not_negative"),
        Index("ix_refund_due", "status", "next_attempt_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    return_id: str = Field(unique=True, foreign_key="returns.id", max_length=36)
    order_id: str = Field(max_length=36)
    amount_cents: int
    currency: str = Field(max_length=3)
    provider: str = Field(max_length=32)
    status: str = Field(max_length=32)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    issued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


TABLES: tuple[type[SQLModel], ...] = (ReturnRow, ReturnLineRow, InspectedUnitRow, RefundRow)


class SqlReturnsStore(SqlStore):
    """The returns' store over their own database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, "returns")


async def lock_order_returns(session: AsyncSession, order_id: str) -> None:
    """Serialises requests for one order's returns until the transaction ends, so two requests
    cannot both take the last returnable unit. SQLite already has one writer at a time."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await session.exec(  # type: ignore[call-overload]
            text("SELECT pg_advisory_xact_lock(:class, hashtext(:order_id))"),
            params={"class": ORDER_LOCK_CLASS, "order_id": order_id},
        )


async def lock_return(session: AsyncSession, return_id: str) -> ReturnRow | None:
    """The return row, locked for this transaction (PostgreSQL; SQLite has one writer)."""
    statement = select(ReturnRow).where(ReturnRow.id == return_id).with_for_update()
    return (await session.exec(statement)).first()


async def requested_elsewhere(session: AsyncSession, order_id: str) -> dict[str, int]:
    """Units per SKU the order's returns already ask for, rejected returns aside."""
    statement = (
        select(ReturnLineRow.sku, ReturnLineRow.quantity)
        .join(ReturnRow, col(ReturnRow.id) == col(ReturnLineRow.return_id))
        .where(ReturnRow.order_id == order_id, ReturnRow.status != ReturnStatus.REJECTED.value)
    )
    units: dict[str, int] = {}
    for sku, quantity in (await session.exec(statement)).all():
        units[sku] = units.get(sku, 0) + quantity
    return units


async def line_rows(session: AsyncSession, return_id: str) -> list[ReturnLineRow]:
    statement = (
        select(ReturnLineRow)
        .where(ReturnLineRow.return_id == return_id)
        .order_by(col(ReturnLineRow.line_number))
    )
    return list((await session.exec(statement)).all())


def requested_lines(rows: Sequence[ReturnLineRow]) -> list[RequestedLine]:
    return [RequestedLine(r.sku, r.quantity, r.reason) for r in rows]


def shipped_snapshot(rows: Sequence[ReturnLineRow]) -> dict[str, ShippedLine]:
    """What the order shipped of each requested SKU, as recorded at the request."""
    return {
        r.sku: ShippedLine(
            sku=r.sku,
            quantity=r.shipped_quantity,
            unit_price_cents=r.unit_price_cents,
            unit_weight_grams=r.unit_weight_grams,
            serialized=r.serialized,
            serial_numbers=tuple(r.shipped_serials),
        )
        for r in rows
    }


def settled_unit(row: InspectedUnitRow) -> SettledUnit:
    return SettledUnit(
        InspectedUnit(row.sku, Grade(row.grade), row.serial_number),
        row.line_number,
        Disposition(row.disposition) if row.disposition else None,
        row.settled,
    )


def refund_from_row(row: RefundRow) -> Refund:
    return Refund(
        id=row.id,
        return_id=row.return_id,
        order_id=row.order_id,
        status=RefundStatus(row.status),
        amount_cents=row.amount_cents,
        currency=row.currency,
        provider=row.provider,
        issued_at=row.issued_at,
    )


async def load_returns(session: AsyncSession, rows: Sequence[ReturnRow]) -> list[Return]:
    """Assembles returns with lines, units and refunds in four queries, whatever the count."""
    ids = [row.id for row in rows]
    if not ids:
        return []
    lines: dict[str, list[ReturnLineRow]] = {i: [] for i in ids}
    for line in (
        await session.exec(
            select(ReturnLineRow)
            .where(col(ReturnLineRow.return_id).in_(ids))
            .order_by(col(ReturnLineRow.return_id), col(ReturnLineRow.line_number))
        )
    ).all():
        lines[line.return_id].append(line)
    units: dict[str, list[SettledUnit]] = {i: [] for i in ids}
    for unit in (
        await session.exec(
            select(InspectedUnitRow)
            .where(col(InspectedUnitRow.return_id).in_(ids))
            .order_by(col(InspectedUnitRow.return_id), col(InspectedUnitRow.unit_number))
        )
    ).all():
        units[unit.return_id].append(settled_unit(unit))
    refunds = {
        r.return_id: refund_from_row(r)
        for r in (
            await session.exec(select(RefundRow).where(col(RefundRow.return_id).in_(ids)))
        ).all()
    }
    return [_assemble(row, lines[row.id], units[row.id], refunds.get(row.id)) for row in rows]


def _assemble(
    row: ReturnRow, lines: list[ReturnLineRow], units: list[SettledUnit], refund: Refund | None
) -> Return:
    return Return(
        id=row.id,
        order_id=row.order_id,
        placed_by=row.placed_by,
        status=ReturnStatus(row.status),
        destination_code=row.destination_code,
        destination_kind=row.destination_kind,
        estimated_cost_cents=row.estimated_cost_cents,
        centralized_cost_cents=row.centralized_cost_cents,
        lines=rules.present_lines(requested_lines(lines), units),
        fraud_flags=tuple(row.fraud_flags),
        refund=refund,
        requested_at=row.requested_at,
        received_at=row.received_at,
        inspected_at=row.inspected_at,
        closed_at=row.closed_at,
        notes=row.notes,
        measured_weight_grams=row.measured_weight_grams,
    )


def as_utc(value: Any) -> datetime:
    """A timestamp from an aggregate: SQLite's lose their column type and come back as text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)
