"""The returns' store in memory, and fakes of what the returns service calls: orders, inventory
and the refund provider. The fakes refuse to be called inside a unit of work, the guarantee
that no transaction waits on another service."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.kernel.errors import DomainError, ErrorCode
from services.returns.domain import rules
from services.returns.domain.model import (
    AcceptedReturn,
    CatalogueSku,
    Disposition,
    ParkedPlatformReturn,
    Platform,
    PlatformConnection,
    PlatformUpdate,
    Refund,
    RefundAttempt,
    RefundPayment,
    RefundStatus,
    Return,
    ReturnParcel,
    ReturnSite,
    ReturnStatus,
    SettledUnit,
    ShippedOrder,
    UpdateStatus,
    Verdict,
)
from services.returns.domain.report import ReportedReturn
from services.returns.refunds import IssueOutcome, IssueResult
from services.returns.store import ReturnsStore
from tests.fakes.kernel import MemoryData, MemoryStore, MemoryUnitOfWork


class BrokenGuarantee(BaseException):
    """A fake saw the service break a guarantee. Not an Exception, so that no `except
    Exception` meant for a failing service (an unreachable inventory, a failing provider) can
    swallow it."""


@dataclass
class StoredReturn:
    """A return as the fake keeps it: what the `returns`, `return_line` and `inspected_unit`
    tables hold of it."""

    accepted: AcceptedReturn
    status: ReturnStatus = ReturnStatus.REQUESTED
    units: list[SettledUnit] = field(default_factory=list)
    fraud_flags: tuple[str, ...] = ()
    notes: str = ""
    measured_weight_grams: int | None = None
    received_at: datetime | None = None
    inspected_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass
class StoredRefund:
    """A refund with its retry schedule, as the `refund` table holds it."""

    refund: Refund
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str = ""


@dataclass
class ReturnsData(MemoryData):
    returns: dict[str, StoredReturn] = field(default_factory=dict)
    # By refund id.
    refunds: dict[str, StoredRefund] = field(default_factory=dict)
    # Returns platform connections by code; platform updates by (connection, key).
    connections: dict[str, PlatformConnection] = field(default_factory=dict)
    updates: dict[tuple[str, str], StoredUpdate] = field(default_factory=dict)


@dataclass
class StoredUpdate:
    update: PlatformUpdate
    attempts: int = 0
    next_attempt_at: datetime | None = None


class MemoryReturnsStore(MemoryStore[ReturnsData]):
    # Requesting

    async def lock_requested_units(self, order_id: str) -> dict[str, int]:
        live = [
            r
            for r in self.data.returns.values()
            if r.accepted.order_id == order_id and r.status is not ReturnStatus.REJECTED
        ]
        return rules.units_by_sku(line for r in live for line in r.accepted.lines)

    async def add_return(self, accepted: AcceptedReturn) -> Return:
        assert accepted.id not in self.data.returns, "return ids are unique"
        assert all(line.quantity >= 1 for line in accepted.lines), "a CHECK constraint in SQL"
        if accepted.idempotency_key:
            found = await self.return_by_key(accepted.order_id, accepted.idempotency_key)
            assert found is None, "one return per order and key (a unique index in SQL)"
        self.data.returns[accepted.id] = StoredReturn(accepted)
        return self._return(self.data.returns[accepted.id])

    async def return_by_key(self, order_id: str, idempotency_key: str) -> Return | None:
        return next(
            (
                self._return(r)
                for r in self.data.returns.values()
                if (r.accepted.order_id, r.accepted.idempotency_key) == (order_id, idempotency_key)
            ),
            None,
        )

    # Receiving and inspecting

    async def lock_return(self, return_id: str) -> ReturnParcel | None:
        stored = self.data.returns.get(return_id)
        if stored is None:
            return None
        return ReturnParcel(
            id=return_id,
            order_id=stored.accepted.order_id,
            status=stored.status,
            destination_code=stored.accepted.destination.code,
            lines=stored.accepted.lines,
            shipped=dict(stored.accepted.shipped),
            destination_capacity=stored.accepted.destination.daily_inspection_capacity,
        )

    async def mark_received(self, return_id: str, at: datetime) -> Return:
        stored = self.data.returns[return_id]
        stored.status, stored.received_at = ReturnStatus.RECEIVED, at
        return self._return(stored)

    async def save_inspection(self, return_id: str, verdict: Verdict, at: datetime) -> None:
        stored = self.data.returns[return_id]
        assert not stored.units, "units are stored once (their primary key in SQL)"
        stored.units = list(verdict.units)
        stored.status = verdict.status
        stored.fraud_flags = tuple(flag.value for flag in verdict.fraud_flags)
        stored.notes, stored.measured_weight_grams = verdict.notes, verdict.measured_weight_grams
        stored.inspected_at = at
        if verdict.status is ReturnStatus.CLOSED:
            stored.closed_at = at

    async def add_refund(self, refund: Refund, next_attempt_at: datetime | None) -> None:
        assert self._refund_of(refund.return_id) is None, "one refund per return (unique in SQL)"
        assert refund.amount_cents >= 0, "a CHECK constraint in SQL"
        self.data.refunds[refund.id] = StoredRefund(refund, next_attempt_at=next_attempt_at)

    async def settle_refurbished_units(
        self, return_id: str, sku: str, units: int, at: datetime
    ) -> int:
        stored = self.data.returns[return_id]
        for index, unit in enumerate(stored.units):
            if units == 0:
                break
            if (
                unit.unit.sku == sku
                and unit.disposition is Disposition.REFURBISH
                and not unit.settled
            ):
                stored.units[index] = dataclasses.replace(unit, settled=True)
                units -= 1
        return sum(1 for unit in stored.units if not unit.settled)

    async def close_return(self, return_id: str, at: datetime) -> None:
        stored = self.data.returns[return_id]
        stored.status, stored.closed_at = ReturnStatus.CLOSED, at

    # Reading

    async def returns(self, return_ids: Sequence[str]) -> list[Return]:
        return [self._return(r) for i, r in self.data.returns.items() if i in return_ids]

    async def page(
        self,
        first: int,
        after: tuple[datetime, str] | None,
        status: ReturnStatus | None,
        destination_code: str,
        placed_by: str,
    ) -> tuple[list[Return], bool]:
        matching = [
            r
            for r in sorted(
                (self._return(s) for s in self.data.returns.values()),
                key=lambda r: (r.requested_at, r.id),
                reverse=True,
            )
            if (after is None or (r.requested_at, r.id) < after)
            and (status is None or r.status is status)
            and (not destination_code or r.destination_code == destination_code)
            and (not placed_by or r.placed_by == placed_by)
        ]
        return matching[:first], len(matching) > first

    async def hub_queue(self, location_code: str, limit: int) -> list[Return]:
        queue = [
            r
            for r in self.data.returns.values()
            if r.status is ReturnStatus.RECEIVED and r.accepted.destination.code == location_code
        ]
        queue.sort(key=lambda r: (r.received_at, r.accepted.id))
        return [self._return(r) for r in queue[:limit]]

    async def reported_returns(
        self, start: datetime | None, end: datetime | None
    ) -> list[ReportedReturn]:
        reported = []
        for r in self.data.returns.values():
            requested_at = r.accepted.requested_at
            if (start and requested_at < start) or (end and requested_at >= end):
                continue
            refund = self._refund_of(r.accepted.id)
            reported.append(
                ReportedReturn(
                    destination_kind=r.accepted.destination.kind,
                    estimated_cost_cents=r.accepted.estimated_cost_cents,
                    centralized_cost_cents=r.accepted.centralized_cost_cents,
                    requested_at=requested_at,
                    received_at=r.received_at,
                    inspected_at=r.inspected_at,
                    refund_issued_at=refund.refund.issued_at if refund else None,
                    restocked_units=sum(1 for u in r.units if u.disposition is Disposition.RESTOCK),
                )
            )
        return reported

    async def inspection_backlog(self, location_codes: Sequence[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.data.returns.values():
            code = r.accepted.destination.code
            if r.status in rules.AWAITING_INSPECTION and code in location_codes:
                counts[code] = counts.get(code, 0) + 1
        return counts

    async def backlog(self) -> list[tuple[str, int, datetime]]:
        waiting: dict[str, list[datetime]] = {}
        for r in self.data.returns.values():
            if r.status is ReturnStatus.RECEIVED and r.received_at is not None:
                waiting.setdefault(r.accepted.destination.code, []).append(r.received_at)
        return [(code, len(times), min(times)) for code, times in waiting.items()]

    # Refunds

    async def claim_refund(
        self,
        refund_id: str,
        providers: Collection[str],
        first: bool,
        now: datetime,
        lease_until: datetime,
    ) -> RefundAttempt | None:
        stored = self.data.refunds.get(refund_id)
        if stored is None or stored.refund.status is not RefundStatus.PENDING:
            return None
        due = stored.next_attempt_at is not None and stored.next_attempt_at <= now
        if stored.refund.provider not in providers or not (stored.attempts == 0 if first else due):
            return None
        stored.attempts += 1
        stored.next_attempt_at = lease_until
        refund = stored.refund
        payment = RefundPayment(
            refund_id, refund.return_id, refund.order_id, refund.amount_cents, refund.currency
        )
        return RefundAttempt(payment, stored.attempts, refund.provider)

    async def mark_refund_issued(self, refund_id: str, at: datetime) -> Refund | None:
        stored = self.data.refunds.get(refund_id)
        if stored is None or stored.refund.status is not RefundStatus.PENDING:
            return None
        stored.refund = dataclasses.replace(stored.refund, status=RefundStatus.ISSUED, issued_at=at)
        stored.next_attempt_at, stored.last_error = None, ""
        return stored.refund

    async def postpone_refund(
        self, refund_id: str, next_attempt_at: datetime | None, error: str
    ) -> None:
        stored = self.data.refunds.get(refund_id)
        if stored is not None and stored.refund.status is RefundStatus.PENDING:
            stored.next_attempt_at, stored.last_error = next_attempt_at, error[:500]

    async def due_refunds(self, providers: Collection[str], now: datetime, limit: int) -> list[str]:
        due = [
            s
            for s in self.data.refunds.values()
            if s.refund.status is RefundStatus.PENDING
            and s.refund.provider in providers
            and s.next_attempt_at is not None
            and s.next_attempt_at <= now
        ]
        due.sort(key=lambda s: s.next_attempt_at or now)
        return [s.refund.id for s in due[:limit]]

    # Returns platforms: enough for the use cases' unit tests (the SQL store is the real one).

    async def connect_platform(self, connection: PlatformConnection) -> PlatformConnection:
        self.data.connections[connection.code] = connection
        return connection

    async def platform_connections(
        self, platform: Platform | None, limit: int
    ) -> list[PlatformConnection]:
        found = sorted(self.data.connections.values(), key=lambda c: c.code)
        return [c for c in found if platform in (None, c.platform)][:limit]

    async def platform_connection(self, code: str) -> PlatformConnection | None:
        return self.data.connections.get(code)

    async def return_by_platform_id(
        self, connection_code: str, platform_return_id: str
    ) -> Return | None:
        for stored in self.data.returns.values():
            link = stored.accepted.platform
            if link and (link.connection_code, link.platform_return_id) == (
                connection_code,
                platform_return_id,
            ):
                return self._return(stored)
        return None

    async def add_platform_update(
        self, update: PlatformUpdate, key: str, next_attempt_at: datetime | None
    ) -> bool:
        if (update.connection_code, key) in self.data.updates:
            return False
        self.data.updates[(update.connection_code, key)] = StoredUpdate(update, 0, next_attempt_at)
        return True

    async def claim_platform_update(
        self, update_id: str, now: datetime, lease_until: datetime
    ) -> tuple[PlatformUpdate, int] | None:
        for stored in self.data.updates.values():
            due = stored.next_attempt_at is not None and stored.next_attempt_at <= now
            if stored.update.id == update_id and stored.update.status is UpdateStatus.PENDING:
                if not due or self._waits_behind(stored.update):
                    return None
                stored.attempts += 1
                stored.next_attempt_at = lease_until
                return stored.update, stored.attempts
        return None

    async def due_platform_updates(self, now: datetime, limit: int) -> list[str]:
        return [
            s.update.id
            for s in self.data.updates.values()
            if s.update.status is UpdateStatus.PENDING
            and s.next_attempt_at is not None
            and s.next_attempt_at <= now
            and not self._waits_behind(s.update)
        ][:limit]

    def _waits_behind(self, update: PlatformUpdate) -> bool:
        """An older PENDING update of the same return goes first (the SQL store's rule)."""
        place = (update.recorded_at, update.id)
        return update.return_id is not None and any(
            s.update.return_id == update.return_id
            and s.update.status is UpdateStatus.PENDING
            and (s.update.recorded_at, s.update.id) < place
            for s in self.data.updates.values()
        )

    async def parked_platform_returns(self, limit: int) -> list[ParkedPlatformReturn]:
        parked = [
            s.update
            for s in self.data.updates.values()
            if s.update.status is UpdateStatus.PARKED
            and s.update.connection_code in self.data.connections
        ]
        parked.sort(key=lambda u: u.id)
        parked.sort(key=lambda u: u.recorded_at, reverse=True)
        return [
            ParkedPlatformReturn(
                u.connection_code,
                self.data.connections[u.connection_code].platform,
                u.platform_return_id,
                *rules.parked_problem(u.detail),
                u.recorded_at,
            )
            for u in parked[:limit]
        ]

    async def settle_platform_update(
        self, update_id: str, status: UpdateStatus, at: datetime | None, error: str
    ) -> None:
        for stored in self.data.updates.values():
            if stored.update.id == update_id and stored.update.status is UpdateStatus.PENDING:
                sent_at = at if status is UpdateStatus.SENT else None
                stored.update = dataclasses.replace(
                    stored.update, status=status, sent_at=sent_at, last_error=error
                )
                stored.next_attempt_at = None if status is not UpdateStatus.PENDING else at

    def _refund_of(self, return_id: str) -> StoredRefund | None:
        return next(
            (s for s in self.data.refunds.values() if s.refund.return_id == return_id), None
        )

    def _return(self, stored: StoredReturn) -> Return:
        accepted = stored.accepted
        refund = self._refund_of(accepted.id)
        return Return(
            id=accepted.id,
            order_id=accepted.order_id,
            placed_by=accepted.placed_by,
            status=stored.status,
            destination_code=accepted.destination.code,
            destination_kind=accepted.destination.kind,
            estimated_cost_cents=accepted.estimated_cost_cents,
            centralized_cost_cents=accepted.centralized_cost_cents,
            lines=rules.present_lines(accepted.lines, stored.units),
            fraud_flags=stored.fraud_flags,
            refund=refund.refund if refund else None,
            requested_at=accepted.requested_at,
            received_at=stored.received_at,
            inspected_at=stored.inspected_at,
            closed_at=stored.closed_at,
            notes=stored.notes,
            measured_weight_grams=stored.measured_weight_grams,
            expected_inspection_hours=accepted.expected_inspection_hours,
        )


class ReturnsUnitOfWork(MemoryUnitOfWork[ReturnsStore, ReturnsData]):
    """The in-memory unit of work, counting the writes open now so that the fakes below can
    tell a call made while a transaction (and its locks) would be held; `after_next_commit`
    runs what another process does the moment the next write commits."""

    def __init__(self) -> None:
        super().__init__(ReturnsData(), MemoryReturnsStore)
        self.open_writes = 0
        self.after_next_commit: list[Callable[[], Awaitable[object]]] = []

    @asynccontextmanager
    async def write(self) -> AsyncIterator[ReturnsStore]:
        self.open_writes += 1
        try:
            async with super().write() as store:
                yield store
        finally:
            self.open_writes -= 1
        hooks, self.after_next_commit = self.after_next_commit, []
        for hook in hooks:
            await hook()

    def require_no_transaction(self, caller: str) -> None:
        if self.open_writes:
            raise BrokenGuarantee(f"{caller} was called inside a unit of work")

    def refund(self, refund_id: str) -> StoredRefund:
        """The committed refund with its retry schedule."""
        return self.data.refunds[refund_id]


def memory_uow() -> ReturnsUnitOfWork:
    return ReturnsUnitOfWork()


class FakeClock:
    """The time the use cases see; a test moves it instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class FakeOrders:
    """The orders service: shipped orders by id."""

    def __init__(self, uow: ReturnsUnitOfWork, *orders: ShippedOrder) -> None:
        self._uow = uow
        self.orders = {order.id: order for order in orders}

    async def shipped_order(self, order_id: str) -> ShippedOrder:
        self._uow.require_no_transaction("orders")
        if order_id not in self.orders:
            raise DomainError(ErrorCode.NOT_FOUND, f"no order {order_id}", "order_id")
        return self.orders[order_id]

    async def find_order(self, channel: str, external_id: str) -> str:
        self._uow.require_no_transaction("orders")
        raise DomainError(ErrorCode.NOT_FOUND, f"no order {external_id!r}", "order_reference")


class FakeInventory:
    """The inventory service: return sites, other locations, and the catalogue."""

    def __init__(
        self,
        uow: ReturnsUnitOfWork,
        sites: Iterable[ReturnSite],
        skus: Iterable[CatalogueSku],
        other_locations: Iterable[str] = (),
    ) -> None:
        self._uow = uow
        self.sites = list(sites)
        self.skus = {sku.code: sku for sku in skus}
        self.locations = {site.code for site in self.sites} | set(other_locations)
        # True while the service cannot be reached.
        self.away = False

    def _call(self) -> None:
        self._uow.require_no_transaction("inventory")
        if self.away:
            raise ConnectionError("inventory is away")

    async def return_sites(self) -> list[ReturnSite]:
        self._call()
        return list(self.sites)

    async def catalogue(self, codes: Iterable[str]) -> dict[str, CatalogueSku]:
        self._call()
        return {code: self.skus[code] for code in set(codes) if code in self.skus}

    async def location_exists(self, code: str) -> bool:
        self._call()
        return code in self.locations


# What the fake provider answers: an outcome, or an exception it raises.
Answer = IssueOutcome | BaseException


class FakeRefundProvider:
    """The refund platform: answers each call with the next of `answers` (ISSUED once they run
    out) and records every call, so a test counts what was paid per refund id."""

    def __init__(self, uow: ReturnsUnitOfWork, *answers: Answer, name: str = "fake") -> None:
        self.name = name
        self._uow = uow
        self.answers = list(answers)
        self.calls: list[RefundPayment] = []
        # Refund ids in the order they were answered ISSUED.
        self.paid: list[str] = []
        # Runs inside a call, before it answers: what happens meanwhile elsewhere.
        self.meanwhile: Callable[[], Awaitable[None]] | None = None

    async def issue(self, payment: RefundPayment) -> IssueResult:
        self._uow.require_no_transaction("the refund provider")
        if payment.refund_id not in self._uow.data.refunds:
            raise BrokenGuarantee("a refund was paid before it was committed")
        self.calls.append(payment)
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            await meanwhile()
        answer = self.answers.pop(0) if self.answers else IssueOutcome.ISSUED
        if isinstance(answer, BaseException):
            raise answer
        if answer is IssueOutcome.ISSUED:
            self.paid.append(payment.refund_id)
        return IssueResult(answer, f"answered {answer.value}")

    def payments(self, refund_id: str) -> int:
        return self.paid.count(refund_id)

    def calls_for(self, refund_id: str) -> list[RefundPayment]:
        return [call for call in self.calls if call.refund_id == refund_id]
