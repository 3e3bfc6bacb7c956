"""Return use cases: request, receive, inspect (with its refund), settle refurbished units, read.

Each use case runs in one unit of work, whose store holds the queries and records the events
with the change that caused them; the rules come from `domain/`. Calls to other services
(orders, inventory) happen before a unit of work opens, never while it holds a lock; the
inspection pays its refund after its unit of work commits (see refunds.py), so the answer
usually already says ISSUED, and a refund that could not be paid yet is retried by the worker.

A return's life: REQUESTED → RECEIVED (scanned at its destination) → INSPECTED or CLOSED, or
REJECTED when the parcel is not what was sold. RESTOCK, LIQUIDATE and RECYCLE units settle at
inspection; REFURBISH units settle when their work order completes
(`oms.workorders.work_order_completed`, see events.py), and the last one closes the return.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from oms.events.v1 import returns_pb2 as events
from oms.returns.v1 import returns_pb2 as returns_pb
from services.kernel import bounds, paging
from services.kernel.caller import INTERNAL, Caller, require_runs_the_business
from services.kernel.capacity import Crossing, crossings
from services.kernel.db import utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.geo import place
from services.kernel.proto_enums import enum_value
from services.kernel.unit_of_work import UnitOfWork
from services.returns.domain import rules
from services.returns.domain.model import (
    AcceptedReturn,
    Direction,
    Inspection,
    NewReturn,
    ParkedPlatformReturn,
    Platform,
    PlatformConnection,
    PlatformLink,
    PlatformUpdate,
    Refund,
    RefundStatus,
    RequestedLine,
    Return,
    ReturnParcel,
    ReturnSite,
    ReturnStatus,
    ShippedLine,
    ShippedOrder,
    UpdateKind,
    UpdateStatus,
    Verdict,
)
from services.returns.domain.policy import ReturnsPolicy
from services.returns.domain.report import ReturnsReport, build_report
from services.returns.domain.rules import ReturnRoute
from services.returns.platforms import PlatformEvent, api_for, provider_name, read_json
from services.returns.ports import Inventory, Orders
from services.returns.refunds import RefundIssuer
from services.returns.store import ReturnsStore

log = logging.getLogger(__name__)


class ReturnsService:
    """The returns' use cases; `refunds` pays verified returns back (and its worker retries)."""

    def __init__(
        self,
        uow: UnitOfWork[ReturnsStore],
        orders: Orders,
        inventory: Inventory,
        refunds: RefundIssuer,
        policy: ReturnsPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.uow = uow
        self.refunds = refunds
        self._orders = orders
        self._inventory = inventory
        self._policy = policy or ReturnsPolicy()
        self._clock = clock

    # Requesting

    async def request(
        self, new: NewReturn, caller: Caller = INTERNAL, platform: PlatformLink | None = None
    ) -> Return:
        """Accepts shipped units within the window, routed to the hub near the customer.

        Under an idempotency key, the first return requested with it for the order is the
        answer to every later request with it: nothing more is created, however often the
        client retries, and a retry is answered from this service's own data (the order and
        inventory need not answer). Requests of one order take turns when they are stored, so
        of concurrent requests with one key exactly one creates the return.
        """
        rules.validate_new_return(new)
        if new.idempotency_key:
            async with self.uow.read() as store:
                first = await store.return_by_key(new.order_id, new.idempotency_key)
            if first is not None:
                return self._first_for(first, caller)
        order = await self._orders.shipped_order(new.order_id)
        if not rules.may_return(order, caller):
            # Someone else's order is answered as an unknown one: its existence is not theirs.
            raise _unknown_order(new.order_id)
        catalogue = await self._inventory.catalogue(line.sku for line in new.lines)
        rules.require_known_skus(new.lines, catalogue)
        shipped = rules.shipped_lines(order, catalogue)
        # A first look without other returns refuses the plainly impossible before routing.
        rules.require_returnable(new.lines, shipped, {})
        rules.require_within_window(
            new.lines, shipped, self._policy.window(order.channel), self._clock()
        )
        customer = new.customer or order.ship_to
        units = sum(line.quantity for line in new.lines)
        sites = await self._with_backlog(await self._inventory.return_sites())
        route = rules.route_return(sites, customer, units, self._policy.cost_model)
        requested = await self._record_request(new, order, shipped, route, customer, platform)
        return rules.shown_to(requested, caller)

    async def _with_backlog(self, sites: Sequence[ReturnSite]) -> list[ReturnSite]:
        """The sites with their inspection backlog, for those that declared a daily capacity.
        Read before the request's unit of work: two requests at once may both see a hub one
        return under its capacity and both go there (it goes over by a return or two)."""
        limited = [s.code for s in sites if s.daily_inspection_capacity is not None]
        if not limited:
            return list(sites)
        async with self.uow.read() as store:
            backlog = await store.inspection_backlog(limited)
        return [dataclasses.replace(s, backlog=backlog.get(s.code, 0)) for s in sites]

    @staticmethod
    def _first_for(first: Return, caller: Caller) -> Return:
        """The return a retry found under its key, as `caller` sees it (one it may not see is
        answered as an unknown order: another caller's key tells nothing)."""
        if not rules.may_see(first, caller):
            raise _unknown_order(first.order_id)
        return rules.shown_to(first, caller)

    async def _record_request(
        self,
        new: NewReturn,
        order: ShippedOrder,
        shipped: Mapping[str, ShippedLine],
        route: ReturnRoute,
        customer: tuple[float, float],
        platform: PlatformLink | None = None,
    ) -> Return:
        """Checks the units against the order's other returns and stores the return, with the
        order's returns locked so that the check still holds when the return is stored; the
        return already stored under the request's idempotency key, when there is one, is
        found under the same lock and answered instead."""
        async with self.uow.write() as store:
            requested_units = await store.lock_requested_units(order.id)
            if new.idempotency_key:
                first = await store.return_by_key(order.id, new.idempotency_key)
                if first is not None:
                    return first
            rules.require_returnable(new.lines, shipped, requested_units)
            capacity = route.destination.daily_inspection_capacity
            await record_capacity_crossings(store, route.destination.code, +1, capacity)
            requested = await store.add_return(
                AcceptedReturn(
                    id=str(uuid.uuid4()),
                    order_id=order.id,
                    placed_by=order.placed_by,
                    destination=route.destination,
                    estimated_cost_cents=route.estimated_cost_cents,
                    centralized_cost_cents=route.centralized_cost_cents,
                    customer=customer,
                    lines=new.lines,
                    shipped=shipped,
                    requested_at=self._clock(),
                    idempotency_key=new.idempotency_key,
                    expected_inspection_hours=route.expected_inspection_hours,
                    platform=platform,
                )
            )
            if platform is not None:
                heard = _update(
                    platform.connection_code,
                    requested.id,
                    platform.platform_return_id,
                    Direction.IN,
                    UpdateKind.RETURN_CREATED.value,
                    UpdateStatus.ACCEPTED,
                    self._clock(),
                )
                await store.add_platform_update(
                    heard, f"in:{heard.platform_return_id}:created", None
                )
            store.record(
                events.ReturnRequested(
                    return_id=requested.id,
                    order_id=order.id,
                    destination_code=requested.destination_code,
                    lines=_units(new.lines),
                )
            )
            return requested

    # Receiving

    async def receive(
        self, return_id: str, location_code: str, caller: Caller = INTERNAL
    ) -> Return:
        """The hub's scan: only at the return's destination, only once, and by a scanner only
        at its own location."""
        location_code = bounds.require_code(location_code, "location_code", "locationCode")
        rules.require_works_at(caller, location_code)
        async with self.uow.write() as store:
            parcel = await _require_return(store, return_id)
            if parcel.destination_code == location_code:
                return await self._mark_received(store, parcel)
        raise await self._wrong_location(parcel, location_code)

    async def _mark_received(self, store: ReturnsStore, parcel: ReturnParcel) -> Return:
        if parcel.status is not ReturnStatus.REQUESTED:
            raise DomainError(
                ErrorCode.INVALID_STATE, f"return {parcel.id} was already received", "return_id"
            )
        received = await store.mark_received(parcel.id, self._clock())
        await self._owe_platform(store, parcel, received, UpdateKind.RECEIVED)
        store.record(
            events.ReturnReceived(
                return_id=parcel.id,
                location_code=parcel.destination_code,
                lines=_units(parcel.lines),
            )
        )
        return received

    async def _wrong_location(self, parcel: ReturnParcel, location_code: str) -> DomainError:
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
            f"return {parcel.id} goes to {parcel.destination_code}, not {location_code}",
            "location_code",
        )

    # Inspecting

    async def inspect(self, inspection: Inspection) -> Return:
        """Grades each unit, checks for fraud, decides dispositions and refunds verified goods:
        the verdict, the units, the refund and the verdict's event commit together, and the
        refund is paid once they have."""
        async with self.uow.write() as store:
            parcel = await _require_return(store, inspection.return_id)
            rules.require_inspectable(parcel, inspection.acting_location_code)
            verdict = rules.inspection_verdict(parcel, inspection, self._policy.weight_tolerance)
            refund = await self._record_inspection(store, parcel, verdict)
        if refund.status is RefundStatus.PENDING:
            await self._try_refund(refund.id)
        return await self.get(parcel.id)

    async def _record_inspection(
        self, store: ReturnsStore, parcel: ReturnParcel, verdict: Verdict
    ) -> Refund:
        """Stores the verdict, the units and the refund (PENDING and leased to the first
        attempt when verified, else WITHHELD), and records the verdict's event (and the
        destination's coming back under its capacity, when this inspection does that)."""
        capacity = parcel.destination_capacity
        await record_capacity_crossings(store, parcel.destination_code, -1, capacity)
        await store.save_inspection(parcel.id, verdict, self._clock())
        provider = self.refunds.provider_name
        connection = None
        if parcel.platform_code:
            connection = await store.platform_connection(parcel.platform_code)
        if connection is not None:
            provider = provider_name(connection.platform)
            (current,) = await store.returns([parcel.id])
            kind = UpdateKind.INSPECTED if verdict.verified else UpdateKind.REJECTED
            flags = ",".join(flag.value for flag in verdict.fraud_flags)
            await self._owe_platform(store, parcel, current, kind, flags)
        refund = Refund(
            id=str(uuid.uuid4()),
            return_id=parcel.id,
            order_id=parcel.order_id,
            status=RefundStatus.PENDING if verdict.verified else RefundStatus.WITHHELD,
            amount_cents=verdict.refund_cents,
            currency=self._policy.currency,
            provider=provider,
        )
        lease = self.refunds.first_attempt_lease() if verdict.verified else None
        await store.add_refund(refund, lease)
        store.record(_verdict_event(parcel, verdict))
        return refund

    async def _owe_platform(
        self,
        store: ReturnsStore,
        parcel: ReturnParcel,
        current: Return,
        kind: UpdateKind,
        detail: str = "",
    ) -> None:
        """Records the status update the return's platform is owed, due now, in the caller's
        unit of work (the return's change): the notifier sends it."""
        if not parcel.platform_code:
            return
        now = self._clock()
        owed = _update(
            parcel.platform_code,
            parcel.id,
            current.platform_return_id,
            Direction.OUT,
            kind.value,
            UpdateStatus.PENDING,
            now,
            detail,
        )
        await store.add_platform_update(owed, f"out:{parcel.id}:{kind.value}", now)

    async def _try_refund(self, refund_id: str) -> None:
        try:
            await self.refunds.attempt(refund_id, first=True)
        except Exception:  # the refund is recorded: the worker pays it later
            log.exception("refund %s: first attempt failed", refund_id)

    # Settling

    async def settle_refurbished(
        self, store: ReturnsStore, return_id: str, sku: str, units: int
    ) -> None:
        """Settles up to `units` REFURBISH units of `sku` whose work order completed, in the
        caller's unit of work (the event consumer's, so a redelivered event settles nothing
        twice); the last unit to settle closes the return. Never settles more units than were
        sent to refurbishment."""
        parcel = await store.lock_return(return_id)
        if parcel is None or parcel.status is not ReturnStatus.INSPECTED:
            log.warning("work order for return %s: nothing to settle", return_id)
            return
        now = self._clock()
        if await store.settle_refurbished_units(return_id, sku, units, now) == 0:
            await store.close_return(return_id, now)

    # Returns platforms

    async def connect_platform(
        self, connection: PlatformConnection, caller: Caller = INTERNAL
    ) -> PlatformConnection:
        """Connects (or reconnects, by code) a returns platform account: the back office's."""
        require_runs_the_business(caller)
        connection = rules.require_connection(connection)
        async with self.uow.write() as store:
            return await store.connect_platform(connection)

    async def platform_connections(self, caller: Caller = INTERNAL) -> list[PlatformConnection]:
        require_runs_the_business(caller)
        async with self.uow.read() as store:
            return await store.platform_connections(None, rules.MAX_CONNECTIONS)

    async def parked_platform_returns(
        self, first: int, caller: Caller = INTERNAL
    ) -> list[ParkedPlatformReturn]:
        """The platform returns parked for an operator, newest first: the back office's."""
        require_runs_the_business(caller)
        bounds.require_range(first, "first", "first", 1, rules.MAX_PARKED)
        async with self.uow.read() as store:
            return await store.parked_platform_returns(first)

    async def receive_platform_webhook(
        self, platform: Platform, signature: str, topic: str, body: bytes
    ) -> tuple[str, str, str]:
        """A platform's webhook: (outcome, return id, problem). UNAUTHENTICATED, with nothing
        changed, unless one of the platform's connections' secrets verifies the raw body.

        A "return created" becomes `request` under the platform's return id as idempotency
        key, routed from the customer's drop-off point: a redelivery creates nothing. One we
        cannot map (unknown order or SKU, nothing returnable) is PARKED: kept with its problem
        for an operator and answered as taken, so the platform does not retry it forever."""
        connection = await self._verified_connection(platform, signature, body)
        try:
            event = api_for(platform).parse(topic[:64], read_json(body))
        except ValueError as error:
            raise DomainError(ErrorCode.INVALID_INPUT, str(error), "body") from error
        async with self.uow.read() as store:
            known = await store.return_by_platform_id(connection.code, event.platform_return_id)
        if known is not None:
            if event.created:
                return "DUPLICATE", known.id, ""
            await self._note_platform_status(connection, known.id, event)
            return "NOTED", known.id, ""
        if not event.created:
            return "IGNORED", "", f"no return {event.platform_return_id} from {connection.code}"
        try:
            created = await self._request_for_platform(connection, event)
        except DomainError as refusal:
            problem = f"{refusal.code.value}: {refusal.message}"
            await self._park(connection, event, problem)
            return "PARKED", "", problem
        return "CREATED", created.id, ""

    async def _verified_connection(
        self, platform: Platform, signature: str, body: bytes
    ) -> PlatformConnection:
        async with self.uow.read() as store:
            candidates = await store.platform_connections(platform, rules.MAX_CONNECTIONS)
        api = api_for(platform)
        # Every candidate is checked (each in constant time), so timing tells nothing either.
        verified = [c for c in candidates if api.verify(c.webhook_secret, signature, body)]
        if not verified:
            raise DomainError(
                ErrorCode.UNAUTHENTICATED, "the signature does not verify", "signature"
            )
        return verified[0]

    async def _request_for_platform(
        self, connection: PlatformConnection, event: PlatformEvent
    ) -> Return:
        order_id = await self._orders.find_order(connection.channel, event.order_reference)
        customer = None
        if event.drop_off is not None:
            try:
                placed = await place(event.drop_off, "customer")
                customer = (placed.latitude, placed.longitude)
            except DomainError:  # a drop-off we cannot place: routed from the ship-to
                customer = None
        new = NewReturn(
            order_id=order_id,
            lines=tuple(RequestedLine(sku, n, "OTHER") for sku, n in event.lines),
            customer=customer,
            idempotency_key=f"{connection.code}:{event.platform_return_id}"[: bounds.MAX_KEY],
        )
        link = PlatformLink(connection.code, event.platform_return_id, event.tracking_number)
        return await self.request(new, platform=link)

    async def _park(
        self, connection: PlatformConnection, event: PlatformEvent, problem: str
    ) -> None:
        log.warning("%s return %s parked: %s", connection.code, event.platform_return_id, problem)
        parked = _update(
            connection.code,
            None,
            event.platform_return_id,
            Direction.IN,
            UpdateKind.RETURN_CREATED.value,
            UpdateStatus.PARKED,
            self._clock(),
            problem,
        )
        async with self.uow.write() as store:
            await store.add_platform_update(parked, f"in:{event.platform_return_id}:created", None)

    async def _note_platform_status(
        self, connection: PlatformConnection, return_id: str, event: PlatformEvent
    ) -> None:
        heard = _update(
            connection.code,
            return_id,
            event.platform_return_id,
            Direction.IN,
            event.topic or "update",
            UpdateStatus.ACCEPTED,
            self._clock(),
        )
        key = f"in:{event.platform_return_id}:{event.topic}"
        async with self.uow.write() as store:
            await store.add_platform_update(heard, key, None)

    # Reading

    async def get(self, return_id: str, caller: Caller = INTERNAL) -> Return:
        found = await self.many([return_id], caller)
        if not found:
            raise DomainError(ErrorCode.NOT_FOUND, f"no return {return_id}", "id")
        return found[0]

    async def many(self, return_ids: Sequence[str], caller: Caller = INTERNAL) -> list[Return]:
        """The returns asked for that `caller` may see (`rules.may_see`), as it sees them
        (`rules.shown_to`), in the order asked; unknown ids and returns the caller may not see
        are left out alike. At most MAX_IDS at once."""
        bounds.require_count(return_ids, "ids", rules.MAX_IDS, "ids")
        async with self.uow.read() as store:
            by_id = {r.id: r for r in await store.returns(return_ids)}
        return [
            rules.shown_to(by_id[i], caller)
            for i in return_ids
            if i in by_id and rules.may_see(by_id[i], caller)
        ]

    async def page(
        self,
        first: int,
        after: str,
        status: ReturnStatus | None,
        destination_code: str,
        caller: Caller = INTERNAL,
    ) -> tuple[list[tuple[str, Return]], bool]:
        """Newest requested first, of the returns `caller` may see (`rules.may_see`: a scanner
        those bound for its location, FORBIDDEN to ask for another's; a storefront those of
        its own orders), as it sees them: ([(cursor, return)], has next)."""
        paging.require_page_size(first, rules.MAX_PAGE)
        position = None
        if after:
            position = rules.parse_page_position(paging.decode_cursor(rules.PAGE_CURSOR, after))
        if destination_code:
            destination_code = bounds.require_code(
                destination_code, "destination_code", "destinationCode"
            )
            rules.require_works_at(caller, destination_code, "destination_code")
        async with self.uow.read() as store:
            found, has_next = await store.page(
                first,
                position,
                status,
                destination_code or caller.bound_location,
                caller.own_orders_only,
            )
        edges = [
            (paging.encode_cursor(rules.PAGE_CURSOR, rules.page_position(r)), r) for r in found
        ]
        return [(cursor, rules.shown_to(r, caller)) for cursor, r in edges], has_next

    async def hub_queue(self, location_code: str, caller: Caller = INTERNAL) -> list[Return]:
        """Returns received at the location and not yet inspected, oldest receipt first, the
        MAX_QUEUE oldest at most; a scanner reads its own location's queue only."""
        location_code = bounds.require_code(location_code, "location_code", "locationCode")
        rules.require_works_at(caller, location_code)
        async with self.uow.read() as store:
            queue = await store.hub_queue(location_code, rules.MAX_QUEUE)
        # An empty queue is the one answer that could hide a mistyped location.
        if not queue and not await self._inventory.location_exists(location_code):
            raise DomainError(
                ErrorCode.NOT_FOUND, f"unknown location {location_code!r}", "location_code"
            )
        return queue

    async def report(self, start: datetime | None, end: datetime | None) -> ReturnsReport:
        """Figures for the returns requested in [start, end); the backlog as it is now."""
        async with self.uow.read() as store:
            returns = await store.reported_returns(start, end)
            backlog = await store.backlog()
        return build_report(returns, backlog, self._clock())

    async def inspection_backlog(self, location_codes: Sequence[str]) -> dict[str, int]:
        """Returns on their way to or received at each location asked about and not inspected
        (0 for none), at most MAX_IDS locations."""
        bounds.require_count(location_codes, "location_codes", rules.MAX_IDS, "locationCodes")
        codes = [bounds.require_code(c, "location_codes", "locationCodes") for c in location_codes]
        async with self.uow.read() as store:
            counts = await store.inspection_backlog(codes)
        return {code: counts.get(code, 0) for code in codes}

    async def awaiting_inspection(self, caller: Caller = INTERNAL) -> int:
        """Returns received and not yet inspected, at every location (the back office's)."""
        require_runs_the_business(caller)
        async with self.uow.read() as store:
            backlog = await store.backlog()
        return sum(count for _location, count, _oldest in backlog)


async def record_capacity_crossings(
    store: ReturnsStore, location_code: str, change: int, capacity: int | None
) -> None:
    """Records, in the caller's unit of work and before it applies `change` (returns joining or
    leaving the location's inspection backlog), the event of the location's backlog reaching
    its daily inspection capacity or going back under it."""
    if capacity is None:
        return
    before = await store.inspection_backlog([location_code])
    for code, crossed, backlog, limit in crossings(
        before, {location_code: change}, {location_code: capacity}
    ):
        kind = (
            events.InspectionCapacityReached
            if crossed is Crossing.REACHED
            else events.InspectionBacklogBackUnderCapacity
        )
        store.record(kind(location_code=code, backlog=backlog, daily_capacity=limit))


def _update(
    connection_code: str,
    return_id: str | None,
    platform_return_id: str,
    direction: Direction,
    kind: str,
    status: UpdateStatus,
    at: datetime,
    detail: str = "",
) -> PlatformUpdate:
    return PlatformUpdate(
        id=str(uuid.uuid4()),
        connection_code=connection_code,
        direction=direction,
        kind=kind,
        status=status,
        recorded_at=at,
        return_id=return_id,
        detail=detail,
        platform_return_id=platform_return_id,
    )


def _unknown_order(order_id: str) -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"no order {order_id}", "order_id")


async def _require_return(store: ReturnsStore, return_id: str) -> ReturnParcel:
    parcel = await store.lock_return(return_id)
    if parcel is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"no return {return_id}", "return_id")
    return parcel


def _verdict_event(
    parcel: ReturnParcel, verdict: Verdict
) -> events.ReturnInspected | events.ReturnRejected:
    if not verdict.verified:
        # What inventory counted as pending inspection leaves that pile; nothing is restocked.
        return events.ReturnRejected(
            return_id=parcel.id,
            location_code=parcel.destination_code,
            lines=_units(parcel.lines),
            fraud_flags=[flag.value for flag in verdict.fraud_flags],
        )
    return events.ReturnInspected(
        return_id=parcel.id,
        location_code=parcel.destination_code,
        lines=[
            events.InspectedUnits(
                sku=sku,
                quantity=n,
                grade=enum_value(returns_pb.Grade, grade.value),
                disposition=enum_value(returns_pb.Disposition, disposition.value),
            )
            for sku, grade, disposition, n in rules.inspected_totals(verdict.units)
        ],
    )


def _units(lines: Sequence[RequestedLine]) -> list[events.ReturnUnits]:
    return [events.ReturnUnits(sku=sku, quantity=n) for sku, n in rules.units_by_sku(lines).items()]
