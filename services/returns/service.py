"""Return use cases: request, receive, inspect (with its refund), settle refurbished units, read.

Each use case is one transaction that writes its events into the outbox. Calls to other
services (orders, inventory) happen before a transaction opens, never while it holds a lock;
the inspection pays its refund after its transaction commits (see refunds.py), so the answer
usually already says ISSUED, and a refund that could not be paid yet is retried by the worker.

A return's life: REQUESTED → RECEIVED (scanned at its destination) → INSPECTED or CLOSED, or
REJECTED when the parcel is not what was sold. RESTOCK, LIQUIDATE and RECYCLE units settle at
inspection; REFURBISH units settle when their work order completes
(`oms.workorders.work_order_completed`, see events.py), and the last one closes the return.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from oms.events.v1 import returns_pb2 as events
from oms.returns.v1 import returns_pb2 as returns_pb
from services.kernel.db import Database, utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.outbox import record_event
from services.kernel.proto_enums import enum_value
from services.returns.domain import rules
from services.returns.domain.model import (
    Disposition,
    Inspection,
    NewReturn,
    RefundStatus,
    RequestedLine,
    Return,
    ReturnStatus,
    SettledUnit,
    ShippedLine,
    ShippedOrder,
)
from services.returns.domain.report import ReportedReturn, ReturnsReport, build_report
from services.returns.domain.rules import ReturnCostModel, ReturnRoute
from services.returns.inventory_client import InventoryClient
from services.returns.orders_client import OrdersClient
from services.returns.refunds import RefundIssuer
from services.returns.store import (
    InspectedUnitRow,
    RefundRow,
    ReturnLineRow,
    ReturnRow,
    as_utc,
    line_rows,
    load_returns,
    lock_order_returns,
    lock_return,
    requested_elsewhere,
    requested_lines,
    shipped_snapshot,
)

log = logging.getLogger(__name__)

PRODUCER = "returns"


def channel_key(channel: str) -> str:
    """`"web-eu"` → `"WEB_EU"`: how a channel is spelt in `OMS_RETURN_WINDOW_DAYS_<CHANNEL>`."""
    return re.sub(r"[^A-Z0-9]", "_", channel.upper())


@dataclass(frozen=True)
class ReturnsPolicy:
    """The knobs an operator sets without code (bootstrap reads them from the environment)."""

    window_days: int = 30
    # Per channel_key(channel): overrides of window_days.
    window_days_by_channel: Mapping[str, int] = field(default_factory=dict)
    weight_tolerance: float = 0.3
    cost_model: ReturnCostModel = field(default_factory=ReturnCostModel)
    currency: str = "EUR"

    def window(self, channel: str) -> timedelta:
        days = self.window_days_by_channel.get(channel_key(channel), self.window_days)
        return timedelta(days=days)


class ReturnsService:
    def __init__(
        self,
        db: Database,
        orders: OrdersClient,
        inventory: InventoryClient,
        refunds: RefundIssuer,
        policy: ReturnsPolicy | None = None,
    ) -> None:
        self._db = db
        self._orders = orders
        self._inventory = inventory
        self._refunds = refunds
        self._policy = policy or ReturnsPolicy()

    # Requesting

    async def request(self, new: NewReturn) -> Return:
        """Accepts shipped units within the window, routed to the hub near the customer."""
        rules.validate_new_return(new)
        order = await self._orders.shipped_order(new.order_id)
        if new.requested_by and order.placed_by != new.requested_by:
            # Someone else's order is answered as an unknown one: its existence is not theirs.
            raise DomainError(ErrorCode.NOT_FOUND, f"no order {new.order_id}", "order_id")
        catalogue = await self._inventory.catalogue(line.sku for line in new.lines)
        rules.require_known_skus(new.lines, catalogue)
        shipped = rules.shipped_lines(order, catalogue)
        # A first look without other returns refuses the plainly impossible before routing.
        rules.require_returnable(new.lines, shipped, {})
        rules.require_within_window(
            new.lines, shipped, self._policy.window(order.channel), utcnow()
        )
        customer = new.customer or order.ship_to
        units = sum(line.quantity for line in new.lines)
        sites = await self._inventory.return_sites()
        route = rules.route_return(sites, customer, units, self._policy.cost_model)
        return await self._record_request(new, order, shipped, route, customer)

    async def _record_request(
        self,
        new: NewReturn,
        order: ShippedOrder,
        shipped: Mapping[str, ShippedLine],
        route: ReturnRoute,
        customer: tuple[float, float],
    ) -> Return:
        async with self._db.transaction() as session:
            await lock_order_returns(session, order.id)
            rules.require_returnable(
                new.lines, shipped, await requested_elsewhere(session, order.id)
            )
            row = ReturnRow(
                id=str(uuid.uuid4()),
                order_id=order.id,
                placed_by=order.placed_by,
                status=ReturnStatus.REQUESTED.value,
                destination_code=route.destination.code,
                destination_kind=route.destination.kind,
                estimated_cost_cents=route.estimated_cost_cents,
                centralized_cost_cents=route.centralized_cost_cents,
                customer_latitude=customer[0],
                customer_longitude=customer[1],
            )
            session.add(row)
            await session.flush()
            for number, line in enumerate(new.lines):
                session.add(_line_row(row.id, number, line, shipped[line.sku]))
            record_event(
                session,
                PRODUCER,
                events.ReturnRequested(
                    return_id=row.id,
                    order_id=order.id,
                    destination_code=row.destination_code,
                    lines=_units(new.lines),
                ),
            )
            return (await load_returns(session, [row]))[0]

    # Receiving

    async def receive(self, return_id: str, location_code: str) -> Return:
        """The hub's scan: only at the return's destination, and only once."""
        if not location_code.strip():
            raise DomainError(ErrorCode.INVALID_INPUT, "locationCode is required", "location_code")
        async with self._db.transaction() as session:
            row = await _require_return(session, return_id)
            if row.destination_code == location_code:
                return await _mark_received(session, row)
        raise await self._wrong_location(row, location_code)

    async def _wrong_location(self, row: ReturnRow, location_code: str) -> DomainError:
        """WRONG_LOCATION, or NOT_FOUND when no such location exists (asked only on refusal)."""
        try:
            known = await self._inventory.location_exists(location_code)
        except Exception:  # inventory away: the refusal stands without the finer code
            known = True
        if not known:
            return DomainError(
                ErrorCode.NOT_FOUND, f"unknown location {location_code!r}", "location_code"
            )
        return DomainError(
            ErrorCode.WRONG_LOCATION,
            f"return {row.id} goes to {row.destination_code}, not {location_code}",
            "location_code",
        )

    # Inspecting

    async def inspect(self, inspection: Inspection) -> Return:
        """Grades each unit, checks for fraud, decides dispositions and refunds verified goods."""
        async with self._db.transaction() as session:
            row = await _require_return(session, inspection.return_id)
            acting = inspection.acting_location_code
            if acting and acting != row.destination_code:
                raise DomainError(
                    ErrorCode.FORBIDDEN,
                    f"return {row.id} is inspected at {row.destination_code}, not {acting}",
                    "acting_location_code",
                )
            if row.status != ReturnStatus.RECEIVED.value:
                raise DomainError(
                    ErrorCode.INVALID_STATE,
                    f"only a received return is inspected; this one is {row.status}",
                    "return_id",
                )
            refund_id = await self._record_inspection(session, row, inspection)
        if refund_id is not None:
            await self._try_refund(refund_id)
        return await self.get(row.id)

    async def _record_inspection(
        self, session: AsyncSession, row: ReturnRow, inspection: Inspection
    ) -> str | None:
        """Writes the verdict, the units and the refund; returns the refund id to pay, if any."""
        lines = await line_rows(session, row.id)
        requested, shipped = requested_lines(lines), shipped_snapshot(lines)
        weight = inspection.measured_weight_grams
        rules.validate_inspection(inspection.units, shipped, weight, inspection.notes)
        flags = rules.fraud_flags(
            rules.units_by_sku(requested),
            inspection.units,
            shipped,
            weight,
            self._policy.weight_tolerance,
        )
        verified = not flags
        serialized = {sku: line.serialized for sku, line in shipped.items()}
        units = rules.settle_units(requested, inspection.units, serialized, verified)
        now = utcnow()
        _add_units(session, row.id, units, now)
        row.status = rules.status_after_inspection(units, verified).value
        row.fraud_flags = [flag.value for flag in flags]
        row.notes, row.measured_weight_grams = inspection.notes, weight
        row.inspected_at = now
        if row.status == ReturnStatus.CLOSED.value:
            row.closed_at = now
        session.add(row)
        amount = (
            rules.refund_cents(inspection.units, shipped)
            if verified
            else rules.requested_value_cents(requested, shipped)
        )
        refund = self._new_refund(row, verified, amount)
        session.add(refund)
        _record_verdict(session, row, requested, units, verified)
        return refund.id if verified else None

    def _new_refund(self, row: ReturnRow, verified: bool, amount: int) -> RefundRow:
        return RefundRow(
            id=str(uuid.uuid4()),
            return_id=row.id,
            order_id=row.order_id,
            amount_cents=amount,
            currency=self._policy.currency,
            provider=self._refunds.provider_name,
            status=(RefundStatus.PENDING if verified else RefundStatus.WITHHELD).value,
            next_attempt_at=self._refunds.first_attempt_lease() if verified else None,
        )

    async def _try_refund(self, refund_id: str) -> None:
        try:
            await self._refunds.attempt(refund_id, first=True)
        except Exception:  # the refund is recorded: the worker pays it later
            log.exception("refund %s: first attempt failed", refund_id)

    # Reading

    async def get(self, return_id: str) -> Return:
        found = await self.many([return_id])
        if not found:
            raise DomainError(ErrorCode.NOT_FOUND, f"no return {return_id}", "id")
        return found[0]

    async def many(self, return_ids: Sequence[str]) -> list[Return]:
        """The returns asked for, in the order asked; unknown ids are left out."""
        async with self._db.snapshot() as session:
            rows = (
                await session.exec(select(ReturnRow).where(col(ReturnRow.id).in_(return_ids)))
            ).all()
            by_id = {r.id: r for r in await load_returns(session, list(rows))}
        return [by_id[i] for i in return_ids if i in by_id]

    async def hub_queue(self, location_code: str) -> list[Return]:
        """Returns received at the location and not yet inspected, oldest receipt first."""
        if not location_code.strip():
            raise DomainError(ErrorCode.INVALID_INPUT, "locationCode is required", "location_code")
        statement = (
            select(ReturnRow)
            .where(
                ReturnRow.status == ReturnStatus.RECEIVED.value,
                ReturnRow.destination_code == location_code,
            )
            .order_by(col(ReturnRow.received_at), col(ReturnRow.id))
        )
        async with self._db.snapshot() as session:
            queue = await load_returns(session, list((await session.exec(statement)).all()))
        # An empty queue is the one answer that could hide a mistyped location.
        if not queue and not await self._inventory.location_exists(location_code):
            raise DomainError(
                ErrorCode.NOT_FOUND, f"unknown location {location_code!r}", "location_code"
            )
        return queue

    async def report(self, start: datetime | None, end: datetime | None) -> ReturnsReport:
        """Figures for the returns requested in [start, end); the backlog as it is now."""
        period: list[ColumnElement[bool]] = []
        if start is not None:
            period.append(col(ReturnRow.requested_at) >= start)
        if end is not None:
            period.append(col(ReturnRow.requested_at) < end)
        async with self._db.snapshot() as session:
            returns = await _reported_returns(session, period)
            backlog = await _backlog(session)
        return build_report(returns, backlog, utcnow())


async def settle_refurbished(session: AsyncSession, return_id: str, sku: str, units: int) -> None:
    """Settles up to `units` REFURBISH units of `sku` whose work order completed, inside the
    caller's transaction; the last unit to settle closes the return. Idempotent per event (the
    consumer's guard), and never settles more units than were sent to refurbishment."""
    row = await lock_return(session, return_id)
    if row is None or row.status != ReturnStatus.INSPECTED.value:
        log.warning("work order for return %s: nothing to settle", return_id)
        return
    pending = col(InspectedUnitRow.settled).is_(False)
    statement = (
        select(InspectedUnitRow)
        .where(
            InspectedUnitRow.return_id == return_id,
            InspectedUnitRow.sku == sku,
            InspectedUnitRow.disposition == Disposition.REFURBISH.value,
            pending,
        )
        .order_by(col(InspectedUnitRow.unit_number))
        .limit(units)
    )
    now = utcnow()
    for unit in (await session.exec(statement)).all():
        unit.settled, unit.settled_at = True, now
        session.add(unit)
    await session.flush()
    left = (
        await session.exec(
            select(func.count()).where(InspectedUnitRow.return_id == return_id, pending)
        )
    ).one()
    if left == 0:
        row.status, row.closed_at = ReturnStatus.CLOSED.value, now
        session.add(row)


async def _require_return(session: AsyncSession, return_id: str) -> ReturnRow:
    row = await lock_return(session, return_id)
    if row is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"no return {return_id}", "return_id")
    return row


async def _mark_received(session: AsyncSession, row: ReturnRow) -> Return:
    if row.status != ReturnStatus.REQUESTED.value:
        raise DomainError(
            ErrorCode.INVALID_STATE, f"return {row.id} was already received", "return_id"
        )
    row.status, row.received_at = ReturnStatus.RECEIVED.value, utcnow()
    session.add(row)
    requested = requested_lines(await line_rows(session, row.id))
    record_event(
        session,
        PRODUCER,
        events.ReturnReceived(
            return_id=row.id, location_code=row.destination_code, lines=_units(requested)
        ),
    )
    return (await load_returns(session, [row]))[0]


def _record_verdict(
    session: AsyncSession,
    row: ReturnRow,
    requested: Sequence[RequestedLine],
    units: Sequence[SettledUnit],
    verified: bool,
) -> None:
    if not verified:
        # What inventory counted as pending inspection leaves that pile; nothing is restocked.
        record_event(
            session,
            PRODUCER,
            events.ReturnRejected(
                return_id=row.id,
                location_code=row.destination_code,
                lines=_units(requested),
                fraud_flags=row.fraud_flags,
            ),
        )
        return
    record_event(
        session,
        PRODUCER,
        events.ReturnInspected(
            return_id=row.id,
            location_code=row.destination_code,
            lines=[
                events.InspectedUnits(
                    sku=sku,
                    quantity=n,
                    grade=enum_value(returns_pb.Grade, grade.value),
                    disposition=enum_value(returns_pb.Disposition, disposition.value),
                )
                for sku, grade, disposition, n in rules.inspected_totals(units)
            ],
        ),
    )


def _add_units(
    session: AsyncSession, return_id: str, units: Sequence[SettledUnit], now: datetime
) -> None:
    for number, u in enumerate(units):
        session.add(
            InspectedUnitRow(
                return_id=return_id,
                unit_number=number,
                line_number=u.line_number,
                sku=u.unit.sku,
                grade=u.unit.grade.value,
                serial_number=u.unit.serial_number,
                disposition=u.disposition.value if u.disposition else "",
                settled=u.settled,
                settled_at=now if u.settled else None,
            )
        )


def _line_row(
    return_id: str, number: int, line: RequestedLine, shipped: ShippedLine
) -> ReturnLineRow:
    return ReturnLineRow(
        return_id=return_id,
        line_number=number,
        sku=line.sku,
        quantity=line.quantity,
        reason=line.reason,
        unit_price_cents=shipped.unit_price_cents,
        unit_weight_grams=shipped.unit_weight_grams,
        serialized=shipped.serialized,
        shipped_quantity=shipped.quantity,
        shipped_serials=list(shipped.serial_numbers),
    )


def _units(lines: Sequence[RequestedLine]) -> list[events.ReturnUnits]:
    return [events.ReturnUnits(sku=sku, quantity=n) for sku, n in rules.units_by_sku(lines).items()]


async def _reported_returns(
    session: AsyncSession, period: Sequence[ColumnElement[bool]]
) -> list[ReportedReturn]:
    restocked = dict(
        (
            await session.exec(
                select(InspectedUnitRow.return_id, func.count())
                .join(ReturnRow, col(ReturnRow.id) == col(InspectedUnitRow.return_id))
                .where(InspectedUnitRow.disposition == Disposition.RESTOCK.value, *period)
                .group_by(col(InspectedUnitRow.return_id))
            )
        ).all()
    )
    rows = (
        await session.exec(
            select(ReturnRow, RefundRow.issued_at)
            .join(RefundRow, col(RefundRow.return_id) == col(ReturnRow.id), isouter=True)
            .where(*period)
        )
    ).all()
    return [
        ReportedReturn(
            destination_kind=r.destination_kind,
            estimated_cost_cents=r.estimated_cost_cents,
            centralized_cost_cents=r.centralized_cost_cents,
            requested_at=r.requested_at,
            received_at=r.received_at,
            inspected_at=r.inspected_at,
            refund_issued_at=as_utc(issued_at) if issued_at else None,
            restocked_units=restocked.get(r.id, 0),
        )
        for r, issued_at in rows
    ]


async def _backlog(session: AsyncSession) -> list[tuple[str, int, datetime]]:
    rows = (
        await session.exec(
            select(ReturnRow.destination_code, func.count(), func.min(ReturnRow.received_at))
            .where(ReturnRow.status == ReturnStatus.RECEIVED.value)
            .group_by(col(ReturnRow.destination_code))
        )
    ).all()
    return [(code, int(count), as_utc(oldest)) for code, count, oldest in rows]
