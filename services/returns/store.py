"""The returns' store: the port its use cases call, and its implementation over the service's
own tables (tables.py), which turns rows into the domain's returns and refunds."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, func, or_, text, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from services.kernel.db import utcnow
from services.kernel.unit_of_work import SqlStore, Store
from services.returns.domain import rules
from services.returns.domain.model import (
    AcceptedReturn,
    Direction,
    Disposition,
    Grade,
    InspectedUnit,
    ParkedPlatformReturn,
    Platform,
    PlatformConnection,
    PlatformUpdate,
    Refund,
    RefundAttempt,
    RefundPayment,
    RefundStatus,
    RequestedLine,
    Return,
    ReturnParcel,
    ReturnStatus,
    SettledUnit,
    ShippedLine,
    UpdateStatus,
    Verdict,
)
from services.returns.domain.report import ReportedReturn
from services.returns.tables import (
    TABLES,
    InspectedUnitRow,
    PlatformUpdateRow,
    RefundRow,
    ReturnLineRow,
    ReturnRow,
    ReturnsPlatformRow,
)

__all__ = ["TABLES", "RefundRow", "ReturnsStore", "SqlReturnsStore"]

PRODUCER = "returns"
# Any constant: the first half of the advisory lock key that serialises requests per order.
ORDER_LOCK_CLASS = 7_243_119
# A return shows at most this many entries of its history with its platform.
MAX_PLATFORM_UPDATES = 100


class ReturnsStore(Store, Protocol):
    """What the returns' use cases ask of their storage, in one unit of work."""

    # Requesting

    async def lock_requested_units(self, order_id: str) -> dict[str, int]:
        """Units per SKU the order's returns already ask for, rejected returns aside, with the
        order's returns locked until the unit of work ends: two requests for one order take
        turns, so they cannot both take the last returnable unit."""
        ...

    async def add_return(self, accepted: AcceptedReturn) -> Return:
        """Stores a REQUESTED return with its lines and the shipped snapshot of each, under its
        idempotency key when it has one (one return per order and key: a unique constraint)."""
        ...

    async def return_by_key(self, order_id: str, idempotency_key: str) -> Return | None:
        """The return requested for the order under this idempotency key, if any."""
        ...

    # Receiving and inspecting

    async def lock_return(self, return_id: str) -> ReturnParcel | None:
        """The return, locked until the unit of work ends, so a return is received once and
        inspected once however many scanners try at the same time; None when unknown."""
        ...

    async def mark_received(self, return_id: str, at: datetime) -> Return:
        """Sets a return locked by `lock_return` RECEIVED at `at`."""
        ...

    async def save_inspection(self, return_id: str, verdict: Verdict, at: datetime) -> None:
        """Stores the verdict on a return locked by `lock_return`: its status, fraud flags,
        notes and weight, and each unit with its disposition (those settled at once, at `at`);
        a return the verdict CLOSES is closed at `at`."""
        ...

    async def add_refund(self, refund: Refund, next_attempt_at: datetime | None) -> None:
        """Stores the return's one refund. `next_attempt_at` is when a PENDING refund falls to
        the worker (until then it is leased to the inspection's own first attempt); None for
        a refund never tried automatically (a withheld one)."""
        ...

    async def settle_refurbished_units(
        self, return_id: str, sku: str, units: int, at: datetime
    ) -> int:
        """Settles at `at` up to `units` unsettled REFURBISH units of `sku`, first inspected
        first (never more than were sent to refurbishment); returns how many units of the
        return are still unsettled."""
        ...

    async def close_return(self, return_id: str, at: datetime) -> None:
        """Sets the return CLOSED at `at`."""
        ...

    # Reading

    async def returns(self, return_ids: Sequence[str]) -> list[Return]:
        """The returns among `return_ids` that exist, in any order."""
        ...

    async def page(
        self,
        first: int,
        after: tuple[datetime, str] | None,
        status: ReturnStatus | None,
        destination_code: str,
        placed_by: str,
    ) -> tuple[list[Return], bool]:
        """At most `first` returns, newest requested first (then by id, descending), past the
        (requested at, id) position `after` when given, in `status`, bound for
        `destination_code` and placed by `placed_by` when given; and whether more follow."""
        ...

    async def hub_queue(self, location_code: str, limit: int) -> list[Return]:
        """Returns received at the location and not yet inspected, oldest receipt first, the
        `limit` oldest at most."""
        ...

    async def reported_returns(
        self, start: datetime | None, end: datetime | None
    ) -> list[ReportedReturn]:
        """The returns requested in [start, end) (an open bound when None), with the times and
        restocked units the report measures."""
        ...

    async def inspection_backlog(self, location_codes: Sequence[str]) -> dict[str, int]:
        """Per location asked about, its returns requested or received and not inspected (a
        location with none is left out)."""
        ...

    async def backlog(self) -> list[tuple[str, int, datetime]]:
        """(location, returns received and not inspected, oldest receipt) per location."""
        ...

    # Refunds

    async def claim_refund(
        self,
        refund_id: str,
        providers: Collection[str],
        first: bool,
        now: datetime,
        lease_until: datetime,
    ) -> RefundAttempt | None:
        """Claims the refund for one attempt with one conditional update: it must be PENDING,
        recorded for one of `providers`, and its turn — never tried (`first`: the inspection's own
        attempt, to which a new refund is leased) or due by `now`. The claim counts the attempt
        and pushes the next one to `lease_until`, so two replicas, or the worker and the
        inspection, never pay at once. None when it is not this caller's turn."""
        ...

    async def mark_refund_issued(self, refund_id: str, at: datetime) -> Refund | None:
        """Sets the refund ISSUED at `at` with one conditional update from PENDING, which ends
        its retries; None when it was not PENDING, so the caller that gets the refund is the
        one that announces it, once."""
        ...

    async def postpone_refund(
        self, refund_id: str, next_attempt_at: datetime | None, error: str
    ) -> None:
        """Notes why a PENDING refund was not issued and when to try again (None: not again
        automatically, an operator looks at the error); an issued refund is left alone."""
        ...

    async def due_refunds(self, providers: Collection[str], now: datetime, limit: int) -> list[str]:
        """Ids of PENDING refunds of `providers` whose next attempt is due by `now`, the
        longest waiting first."""
        ...

    # Returns platforms

    async def connect_platform(self, connection: PlatformConnection) -> PlatformConnection:
        """Stores the connection, replacing the one of the same code."""
        ...

    async def platform_connections(
        self, platform: Platform | None, limit: int
    ) -> list[PlatformConnection]:
        """The connections (of `platform`, or all), by code, `limit` at most."""
        ...

    async def platform_connection(self, code: str) -> PlatformConnection | None: ...

    async def return_by_platform_id(
        self, connection_code: str, platform_return_id: str
    ) -> Return | None:
        """The return a platform started under its own return id, if any."""
        ...

    async def add_platform_update(
        self, update: PlatformUpdate, key: str, next_attempt_at: datetime | None
    ) -> bool:
        """Records the update unless one with the same connection and `key` exists (then
        False): a redelivery or a repeated attempt records nothing twice."""
        ...

    async def claim_platform_update(
        self, update_id: str, now: datetime, lease_until: datetime
    ) -> tuple[PlatformUpdate, int] | None:
        """Claims a due PENDING outbound update for one attempt (one conditional update that
        counts it and leases it until `lease_until`); with the attempt's number. None when it
        is not this caller's turn, or while an older update of the same return is still
        PENDING: a return's updates reach its platform in the order they happened, also after
        an outage (never INSPECTED before RECEIVED)."""
        ...

    async def due_platform_updates(self, now: datetime, limit: int) -> list[str]:
        """Ids of PENDING outbound updates due by `now`, the longest waiting first; none that
        waits behind an older PENDING update of its return (`claim_platform_update`)."""
        ...

    async def parked_platform_returns(self, limit: int) -> list[ParkedPlatformReturn]:
        """The platform returns kept PARKED for an operator, newest first, `limit` at most."""
        ...

    async def settle_platform_update(
        self, update_id: str, status: UpdateStatus, at: datetime | None, error: str
    ) -> None:
        """Sets a PENDING update SENT (at `at`) or FAILED, or (PENDING) postpones it to `at`."""
        ...


class SqlReturnsStore(SqlStore):
    """The returns' store over their own database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, PRODUCER)

    # Requesting

    async def lock_requested_units(self, order_id: str) -> dict[str, int]:
        await self._lock_order(order_id)
        statement = (
            select(ReturnLineRow.sku, ReturnLineRow.quantity)
            .join(ReturnRow, col(ReturnRow.id) == col(ReturnLineRow.return_id))
            .where(ReturnRow.order_id == order_id, ReturnRow.status != ReturnStatus.REJECTED.value)
        )
        units: dict[str, int] = {}
        for sku, quantity in (await self.session.exec(statement)).all():
            units[sku] = units.get(sku, 0) + quantity
        return units

    async def _lock_order(self, order_id: str) -> None:
        """A transaction-scoped advisory lock per order on PostgreSQL; SQLite already has one
        writer at a time."""
        connection = await self.session.connection()
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:class, hashtext(:order_id))"),
                {"class": ORDER_LOCK_CLASS, "order_id": order_id},
            )

    async def add_return(self, accepted: AcceptedReturn) -> Return:
        row = ReturnRow(
            id=accepted.id,
            order_id=accepted.order_id,
            placed_by=accepted.placed_by,
            status=ReturnStatus.REQUESTED.value,
            destination_code=accepted.destination.code,
            destination_kind=accepted.destination.kind,
            estimated_cost_cents=accepted.estimated_cost_cents,
            centralized_cost_cents=accepted.centralized_cost_cents,
            customer_latitude=accepted.customer[0],
            customer_longitude=accepted.customer[1],
            requested_at=accepted.requested_at,
            idempotency_key=accepted.idempotency_key or None,
            destination_capacity=accepted.destination.daily_inspection_capacity,
            expected_inspection_hours=accepted.expected_inspection_hours,
        )
        if accepted.platform is not None:
            row.platform_code = accepted.platform.connection_code
            row.platform_return_id = accepted.platform.platform_return_id
            row.tracking_number = accepted.platform.tracking_number
        self.session.add(row)
        await self.session.flush()
        for number, line in enumerate(accepted.lines):
            self.session.add(_line_row(row.id, number, line, accepted.shipped[line.sku]))
        return (await self._load([row]))[0]

    async def return_by_key(self, order_id: str, idempotency_key: str) -> Return | None:
        statement = select(ReturnRow).where(
            ReturnRow.order_id == order_id, ReturnRow.idempotency_key == idempotency_key
        )
        found = list((await self.session.exec(statement)).all())
        return (await self._load(found))[0] if found else None

    # Receiving and inspecting

    async def lock_return(self, return_id: str) -> ReturnParcel | None:
        """SELECT … FOR UPDATE on PostgreSQL; SQLite has one writer at a time."""
        statement = select(ReturnRow).where(ReturnRow.id == return_id).with_for_update()
        row = (await self.session.exec(statement)).first()
        if row is None:
            return None
        lines = await self._line_rows(return_id)
        return ReturnParcel(
            id=row.id,
            order_id=row.order_id,
            status=ReturnStatus(row.status),
            destination_code=row.destination_code,
            lines=tuple(RequestedLine(r.sku, r.quantity, r.reason) for r in lines),
            shipped=_shipped_snapshot(lines),
            destination_capacity=row.destination_capacity,
            platform_code=row.platform_code or "",
        )

    async def mark_received(self, return_id: str, at: datetime) -> Return:
        row = await self._locked_row(return_id)
        row.status, row.received_at = ReturnStatus.RECEIVED.value, at
        self.session.add(row)
        return (await self._load([row]))[0]

    async def save_inspection(self, return_id: str, verdict: Verdict, at: datetime) -> None:
        row = await self._locked_row(return_id)
        for number, unit in enumerate(verdict.units):
            self.session.add(_unit_row(return_id, number, unit, at))
        row.status = verdict.status.value
        row.fraud_flags = [flag.value for flag in verdict.fraud_flags]
        row.notes, row.measured_weight_grams = verdict.notes, verdict.measured_weight_grams
        row.inspected_at = at
        if verdict.status is ReturnStatus.CLOSED:
            row.closed_at = at
        self.session.add(row)

    async def add_refund(self, refund: Refund, next_attempt_at: datetime | None) -> None:
        self.session.add(
            RefundRow(
                id=refund.id,
                return_id=refund.return_id,
                order_id=refund.order_id,
                amount_cents=refund.amount_cents,
                currency=refund.currency,
                provider=refund.provider,
                status=refund.status.value,
                next_attempt_at=next_attempt_at,
            )
        )

    async def settle_refurbished_units(
        self, return_id: str, sku: str, units: int, at: datetime
    ) -> int:
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
        for unit in (await self.session.exec(statement)).all():
            unit.settled, unit.settled_at = True, at
            self.session.add(unit)
        await self.session.flush()
        left = select(func.count()).where(InspectedUnitRow.return_id == return_id, pending)
        return int((await self.session.exec(left)).one())

    async def close_return(self, return_id: str, at: datetime) -> None:
        row = await self._locked_row(return_id)
        row.status, row.closed_at = ReturnStatus.CLOSED.value, at
        self.session.add(row)

    async def _locked_row(self, return_id: str) -> ReturnRow:
        # The row `lock_return` loaded: the session hands it back without another query.
        row = await self.session.get(ReturnRow, return_id)
        if row is None:
            raise LookupError(f"no return {return_id}")
        return row

    # Reading

    async def returns(self, return_ids: Sequence[str]) -> list[Return]:
        statement = select(ReturnRow).where(col(ReturnRow.id).in_(return_ids))
        return await self._load(list((await self.session.exec(statement)).all()))

    async def page(
        self,
        first: int,
        after: tuple[datetime, str] | None,
        status: ReturnStatus | None,
        destination_code: str,
        placed_by: str,
    ) -> tuple[list[Return], bool]:
        statement = select(ReturnRow)
        if after is not None:
            requested_at, return_id = after
            statement = statement.where(
                or_(
                    col(ReturnRow.requested_at) < requested_at,
                    and_(
                        col(ReturnRow.requested_at) == requested_at, col(ReturnRow.id) < return_id
                    ),
                )
            )
        if status is not None:
            statement = statement.where(ReturnRow.status == status.value)
        if destination_code:
            statement = statement.where(ReturnRow.destination_code == destination_code)
        if placed_by:
            statement = statement.where(ReturnRow.placed_by == placed_by)
        # One row more than asked tells whether another page follows.
        statement = statement.order_by(
            col(ReturnRow.requested_at).desc(), col(ReturnRow.id).desc()
        ).limit(first + 1)
        rows = list((await self.session.exec(statement)).all())
        return await self._load(rows[:first]), len(rows) > first

    async def hub_queue(self, location_code: str, limit: int) -> list[Return]:
        statement = (
            select(ReturnRow)
            .where(
                ReturnRow.status == ReturnStatus.RECEIVED.value,
                ReturnRow.destination_code == location_code,
            )
            .order_by(col(ReturnRow.received_at), col(ReturnRow.id))
            .limit(limit)
        )
        return await self._load(list((await self.session.exec(statement)).all()))

    async def reported_returns(
        self, start: datetime | None, end: datetime | None
    ) -> list[ReportedReturn]:
        period: list[ColumnElement[bool]] = []
        if start is not None:
            period.append(col(ReturnRow.requested_at) >= start)
        if end is not None:
            period.append(col(ReturnRow.requested_at) < end)
        restocked = dict(
            (
                await self.session.exec(
                    select(InspectedUnitRow.return_id, func.count())
                    .join(ReturnRow, col(ReturnRow.id) == col(InspectedUnitRow.return_id))
                    .where(InspectedUnitRow.disposition == Disposition.RESTOCK.value, *period)
                    .group_by(col(InspectedUnitRow.return_id))
                )
            ).all()
        )
        rows = (
            await self.session.exec(
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
                refund_issued_at=_as_utc(issued_at) if issued_at else None,
                restocked_units=restocked.get(r.id, 0),
            )
            for r, issued_at in rows
        ]

    async def inspection_backlog(self, location_codes: Sequence[str]) -> dict[str, int]:
        if not location_codes:
            return {}
        statement = (
            select(ReturnRow.destination_code, func.count())
            .where(
                col(ReturnRow.status).in_([s.value for s in rules.AWAITING_INSPECTION]),
                col(ReturnRow.destination_code).in_(location_codes),
            )
            .group_by(col(ReturnRow.destination_code))
        )
        return {code: int(n) for code, n in (await self.session.exec(statement)).all()}

    async def backlog(self) -> list[tuple[str, int, datetime]]:
        rows = (
            await self.session.exec(
                select(ReturnRow.destination_code, func.count(), func.min(ReturnRow.received_at))
                .where(ReturnRow.status == ReturnStatus.RECEIVED.value)
                .group_by(col(ReturnRow.destination_code))
            )
        ).all()
        return [(code, int(count), _as_utc(oldest)) for code, count, oldest in rows]

    # Refunds

    async def claim_refund(
        self,
        refund_id: str,
        providers: Collection[str],
        first: bool,
        now: datetime,
        lease_until: datetime,
    ) -> RefundAttempt | None:
        t = RefundRow
        turn = col(t.attempts) == 0 if first else col(t.next_attempt_at) <= now
        statement = (
            update(t)
            .where(
                col(t.id) == refund_id,
                col(t.status) == RefundStatus.PENDING.value,
                col(t.provider).in_(list(providers)),
                turn,
            )
            .values(attempts=col(t.attempts) + 1, next_attempt_at=lease_until)
            .returning(
                col(t.return_id),
                col(t.order_id),
                col(t.amount_cents),
                col(t.currency),
                col(t.attempts),
                col(t.provider),
            )
        )
        row = (await self.session.exec(statement)).first()
        if row is None:
            return None
        return_id, order_id, amount_cents, currency, attempts, provider = row
        origin = (
            await self.session.exec(
                select(ReturnRow.platform_code, ReturnRow.platform_return_id).where(
                    ReturnRow.id == return_id
                )
            )
        ).one()
        payment = RefundPayment(
            refund_id, return_id, order_id, amount_cents, currency, origin[1] or ""
        )
        return RefundAttempt(payment, attempts, provider, origin[0] or "")

    async def mark_refund_issued(self, refund_id: str, at: datetime) -> Refund | None:
        t = RefundRow
        statement = (
            update(t)
            .where(col(t.id) == refund_id, col(t.status) == RefundStatus.PENDING.value)
            .values(
                status=RefundStatus.ISSUED.value,
                issued_at=at,
                next_attempt_at=None,
                last_error="",
            )
            .returning(
                col(t.return_id),
                col(t.order_id),
                col(t.amount_cents),
                col(t.currency),
                col(t.provider),
            )
        )
        row = (await self.session.exec(statement)).first()
        if row is None:
            return None
        return_id, order_id, amount_cents, currency, provider = row
        return Refund(
            id=refund_id,
            return_id=return_id,
            order_id=order_id,
            status=RefundStatus.ISSUED,
            amount_cents=amount_cents,
            currency=currency,
            provider=provider,
            issued_at=at,
        )

    async def postpone_refund(
        self, refund_id: str, next_attempt_at: datetime | None, error: str
    ) -> None:
        t = RefundRow
        await self.session.exec(
            update(t)
            .where(col(t.id) == refund_id, col(t.status) == RefundStatus.PENDING.value)
            .values(next_attempt_at=next_attempt_at, last_error=error[:500])
        )

    async def due_refunds(self, providers: Collection[str], now: datetime, limit: int) -> list[str]:
        statement = (
            select(RefundRow.id)
            .where(
                RefundRow.status == RefundStatus.PENDING.value,
                col(RefundRow.provider).in_(list(providers)),
                col(RefundRow.next_attempt_at) <= now,
            )
            .order_by(col(RefundRow.next_attempt_at))
            .limit(limit)
        )
        return list((await self.session.exec(statement)).all())

    # Returns platforms

    async def connect_platform(self, connection: PlatformConnection) -> PlatformConnection:
        row = await self.session.get(ReturnsPlatformRow, connection.code)
        if row is None:
            row = ReturnsPlatformRow(
                code=connection.code,
                platform="",
                channel="",
                webhook_secret="",
                api_base_url="",
                access_token="",
            )
        row.platform, row.channel = connection.platform.value, connection.channel
        row.webhook_secret, row.access_token = connection.webhook_secret, connection.access_token
        row.api_base_url, row.connected_at = connection.api_base_url, utcnow()
        self.session.add(row)
        await self.session.flush()
        return _connection(row)

    async def platform_connections(
        self, platform: Platform | None, limit: int
    ) -> list[PlatformConnection]:
        statement = select(ReturnsPlatformRow).order_by(col(ReturnsPlatformRow.code)).limit(limit)
        if platform is not None:
            statement = statement.where(ReturnsPlatformRow.platform == platform.value)
        return [_connection(r) for r in (await self.session.exec(statement)).all()]

    async def platform_connection(self, code: str) -> PlatformConnection | None:
        row = await self.session.get(ReturnsPlatformRow, code)
        return None if row is None else _connection(row)

    async def return_by_platform_id(
        self, connection_code: str, platform_return_id: str
    ) -> Return | None:
        statement = select(ReturnRow).where(
            ReturnRow.platform_code == connection_code,
            ReturnRow.platform_return_id == platform_return_id,
        )
        found = list((await self.session.exec(statement)).all())
        return (await self._load(found))[0] if found else None

    async def add_platform_update(
        self, update: PlatformUpdate, key: str, next_attempt_at: datetime | None
    ) -> bool:
        exists = select(PlatformUpdateRow.id).where(
            PlatformUpdateRow.connection_code == update.connection_code,
            PlatformUpdateRow.key == key,
        )
        if (await self.session.exec(exists)).first() is not None:
            return False
        self.session.add(
            PlatformUpdateRow(
                id=update.id,
                connection_code=update.connection_code,
                key=key,
                return_id=update.return_id,
                platform_return_id=update.platform_return_id,
                direction=update.direction.value,
                kind=update.kind,
                status=update.status.value,
                detail=update.detail[:500],
                next_attempt_at=next_attempt_at,
                recorded_at=update.recorded_at,
                sent_at=update.sent_at,
            )
        )
        await self.session.flush()
        return True

    async def claim_platform_update(
        self, update_id: str, now: datetime, lease_until: datetime
    ) -> tuple[PlatformUpdate, int] | None:
        t = PlatformUpdateRow
        statement = (
            update(t)
            .where(
                col(t.id) == update_id,
                col(t.status) == UpdateStatus.PENDING.value,
                col(t.next_attempt_at) <= now,
                _first_in_line(),
            )
            .values(attempts=col(t.attempts) + 1, next_attempt_at=lease_until)
            .returning(col(t.attempts))
        )
        claimed = (await self.session.exec(statement)).first()
        if claimed is None:
            return None
        row = await self.session.get(t, update_id, populate_existing=True)
        assert row is not None
        return _platform_update(row), int(claimed[0])

    async def due_platform_updates(self, now: datetime, limit: int) -> list[str]:
        statement = (
            select(PlatformUpdateRow.id)
            .where(
                PlatformUpdateRow.status == UpdateStatus.PENDING.value,
                col(PlatformUpdateRow.next_attempt_at) <= now,
                _first_in_line(),
            )
            .order_by(col(PlatformUpdateRow.next_attempt_at))
            .limit(limit)
        )
        return list((await self.session.exec(statement)).all())

    async def parked_platform_returns(self, limit: int) -> list[ParkedPlatformReturn]:
        t, platform = PlatformUpdateRow, ReturnsPlatformRow
        statement = (
            select(t, platform.platform)
            .join(platform, col(platform.code) == col(t.connection_code))
            .where(col(t.status) == UpdateStatus.PARKED.value)
            .order_by(col(t.recorded_at).desc(), col(t.id))
            .limit(limit)
        )
        return [
            _parked(row, Platform(name)) for row, name in (await self.session.exec(statement)).all()
        ]

    async def settle_platform_update(
        self, update_id: str, status: UpdateStatus, at: datetime | None, error: str
    ) -> None:
        t = PlatformUpdateRow
        values: dict[str, Any] = {"status": status.value, "last_error": error[:500]}
        if status is UpdateStatus.SENT:
            values |= {"sent_at": at, "next_attempt_at": None}
        else:
            values["next_attempt_at"] = at
        await self.session.exec(
            update(t)
            .where(col(t.id) == update_id, col(t.status) == UpdateStatus.PENDING.value)
            .values(**values)
        )

    # Rows into returns

    async def _line_rows(self, return_id: str) -> list[ReturnLineRow]:
        statement = (
            select(ReturnLineRow)
            .where(ReturnLineRow.return_id == return_id)
            .order_by(col(ReturnLineRow.line_number))
        )
        return list((await self.session.exec(statement)).all())

    async def _load(self, rows: Sequence[ReturnRow]) -> list[Return]:
        """Assembles returns with lines, units, refunds and platform updates in five queries,
        whatever the count."""
        ids = [row.id for row in rows]
        if not ids:
            return []
        lines: dict[str, list[ReturnLineRow]] = {i: [] for i in ids}
        for line in (
            await self.session.exec(
                select(ReturnLineRow)
                .where(col(ReturnLineRow.return_id).in_(ids))
                .order_by(col(ReturnLineRow.return_id), col(ReturnLineRow.line_number))
            )
        ).all():
            lines[line.return_id].append(line)
        units: dict[str, list[SettledUnit]] = {i: [] for i in ids}
        for unit in (
            await self.session.exec(
                select(InspectedUnitRow)
                .where(col(InspectedUnitRow.return_id).in_(ids))
                .order_by(col(InspectedUnitRow.return_id), col(InspectedUnitRow.unit_number))
            )
        ).all():
            units[unit.return_id].append(_settled_unit(unit))
        refunds = {
            r.return_id: _refund(r)
            for r in (
                await self.session.exec(select(RefundRow).where(col(RefundRow.return_id).in_(ids)))
            ).all()
        }
        updates: dict[str, list[PlatformUpdate]] = {i: [] for i in ids}
        linked = [row.id for row in rows if row.platform_code]
        if linked:
            for update_row in (await self.session.exec(_first_updates(linked))).all():
                if update_row.return_id:
                    updates[update_row.return_id].append(_platform_update(update_row))
        return [
            _return(row, lines[row.id], units[row.id], refunds.get(row.id), updates[row.id])
            for row in rows
        ]


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


def _unit_row(return_id: str, number: int, unit: SettledUnit, at: datetime) -> InspectedUnitRow:
    return InspectedUnitRow(
        return_id=return_id,
        unit_number=number,
        line_number=unit.line_number,
        sku=unit.unit.sku,
        grade=unit.unit.grade.value,
        serial_number=unit.unit.serial_number,
        disposition=unit.disposition.value if unit.disposition else "",
        settled=unit.settled,
        settled_at=at if unit.settled else None,
    )


def _shipped_snapshot(rows: Sequence[ReturnLineRow]) -> dict[str, ShippedLine]:
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


def _settled_unit(row: InspectedUnitRow) -> SettledUnit:
    return SettledUnit(
        InspectedUnit(row.sku, Grade(row.grade), row.serial_number),
        row.line_number,
        Disposition(row.disposition) if row.disposition else None,
        row.settled,
    )


def _refund(row: RefundRow) -> Refund:
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


def _connection(row: ReturnsPlatformRow) -> PlatformConnection:
    return PlatformConnection(
        code=row.code,
        platform=Platform(row.platform),
        channel=row.channel,
        webhook_secret=row.webhook_secret,
        api_base_url=row.api_base_url,
        access_token=row.access_token,
        connected_at=_as_utc(row.connected_at),
    )


def _first_updates(return_ids: Sequence[str]) -> SelectOfScalar[PlatformUpdateRow]:
    """The first MAX_PLATFORM_UPDATES entries of each return's history with its platform, in
    the order they were recorded: cut in the query, so a long history is never loaded whole."""
    t = PlatformUpdateRow
    in_order = (col(t.recorded_at), col(t.id))
    numbered = (
        select(
            col(t.id).label("id"),
            func.row_number().over(partition_by=col(t.return_id), order_by=in_order).label("n"),
        )
        .where(col(t.return_id).in_(return_ids))
        .subquery()
    )
    return (
        select(t)
        .join(numbered, col(numbered.c.id) == col(t.id))
        .where(numbered.c.n <= MAX_PLATFORM_UPDATES)
        .order_by(col(t.return_id), *in_order)
    )


def _first_in_line() -> ColumnElement[bool]:
    """Of a return's PENDING updates, only the oldest (by when it was recorded, then by id) may
    go: a later one waits until the earlier is SENT or FAILED. A FAILED one (refused for good)
    does not hold the rest back: nothing would ever send it."""
    t, older = PlatformUpdateRow, aliased(PlatformUpdateRow)
    ahead = select(older.id).where(
        col(older.return_id) == col(t.return_id),
        col(older.status) == UpdateStatus.PENDING.value,
        or_(
            col(older.recorded_at) < col(t.recorded_at),
            and_(col(older.recorded_at) == col(t.recorded_at), col(older.id) < col(t.id)),
        ),
    )
    return or_(col(t.return_id).is_(None), ~ahead.exists())


def _parked(row: PlatformUpdateRow, platform: Platform) -> ParkedPlatformReturn:
    code, problem = rules.parked_problem(row.detail)
    return ParkedPlatformReturn(
        row.connection_code,
        platform,
        row.platform_return_id,
        code,
        problem,
        _as_utc(row.recorded_at),
    )


def _platform_update(row: PlatformUpdateRow) -> PlatformUpdate:
    return PlatformUpdate(
        id=row.id,
        connection_code=row.connection_code,
        direction=Direction(row.direction),
        kind=row.kind,
        status=UpdateStatus(row.status),
        recorded_at=_as_utc(row.recorded_at),
        return_id=row.return_id,
        detail=row.detail,
        platform_return_id=row.platform_return_id,
        sent_at=_as_utc(row.sent_at) if row.sent_at else None,
        last_error=row.last_error,
    )


def _return(
    row: ReturnRow,
    lines: list[ReturnLineRow],
    units: list[SettledUnit],
    refund: Refund | None,
    updates: list[PlatformUpdate],
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
        lines=rules.present_lines(
            [RequestedLine(r.sku, r.quantity, r.reason) for r in lines], units
        ),
        fraud_flags=tuple(row.fraud_flags),
        refund=refund,
        requested_at=row.requested_at,
        received_at=row.received_at,
        inspected_at=row.inspected_at,
        closed_at=row.closed_at,
        notes=row.notes,
        measured_weight_grams=row.measured_weight_grams,
        expected_inspection_hours=row.expected_inspection_hours,
        platform_code=row.platform_code or "",
        platform_return_id=row.platform_return_id or "",
        tracking_number=row.tracking_number,
        platform_updates=tuple(updates),
    )


def _as_utc(value: Any) -> datetime:
    """A timestamp from an aggregate: SQLite's lose their column type and come back as text."""
    found: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return found if found.tzinfo else found.replace(tzinfo=utcnow().tzinfo)
