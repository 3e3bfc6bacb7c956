"""Work order use cases: opening refurbishments for inspected returns, creating kits and
value-add work, completing operations, cancelling, listing and the repair report.

Creating a kit or value-add work order is a saga with the work order's id as the reservation
key, as placing an order is:
1. write the work order as OPENING (never listed);
2. ask inventory to hold its components at the location (all or none);
3. record it OPEN and publish WorkOrderOpened — or, when components are short, release the key
   (so a late hold cannot survive) and forget the work order.
A crash between the steps leaves an OPENING work order, which `recover_stale` opens (inventory
holds the key) or forgets (it does not), so no reservation outlives its work order.

Each step is one unit of work, committing its change with its events; none is open across a
call to inventory. The queries live in `store.py`, the rules in `domain/`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Sequence
from datetime import timedelta

from oms.events.v1.workorders_pb2 import WorkOrderCancelled, WorkOrderCompleted, WorkOrderOpened
from oms.workorders.v1 import workorders_pb2 as pb
from services.kernel import bounds
from services.kernel.caller import INTERNAL, Caller, require_runs_the_business
from services.kernel.db import utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.proto_enums import enum_value
from services.kernel.unit_of_work import UnitOfWork
from services.workorders.domain import bench, report, rules
from services.workorders.domain.model import (
    Component,
    InspectedLine,
    MadeToOrder,
    NewWorkOrder,
    OperationDone,
    RepairReport,
    WorkOrder,
    WorkOrderKind,
    WorkOrderStatus,
)
from services.workorders.ports import CatalogueSku, Inventory
from services.workorders.settings import WorkOrdersSettings
from services.workorders.store import WorkOrdersStore

DEFAULT_REPORT_PERIOD = timedelta(days=7)
MAX_REPORT_HOURS = 366 * 24


class WorkOrdersService:
    """The work orders' use cases."""

    def __init__(
        self,
        uow: UnitOfWork[WorkOrdersStore],
        inventory: Inventory,
        settings: WorkOrdersSettings,
    ) -> None:
        self.uow = uow
        self._inventory = inventory
        self._settings = settings
        self._refurbish_operations = rules.require_operations(settings.refurbish_operations)

    # Refurbishments from returns

    async def open_refurbishments(
        self,
        store: WorkOrdersStore,
        return_id: str,
        location_code: str,
        lines: Sequence[InspectedLine],
    ) -> list[WorkOrder]:
        """Opens a REFURBISH work order per SKU the inspection sent to refurbishment, each with
        its WorkOrderOpened event, in the caller's unit of work (the event consumer's, so the
        work orders, their events and the processed-event guard commit together).

        Idempotent per (return, SKU): a SKU that already has its work order is left alone, so
        the same inspection arriving again under another event id opens nothing more; the
        unique constraint settles a race between replicas. Returns the work orders opened.
        """
        wanted = rules.refurbishments(return_id, location_code, lines, self._refurbish_operations)
        existing = await store.refurbished_skus(return_id) if wanted else set()
        opened = []
        for new in wanted:
            if new.sku in existing:
                continue
            work_order = await store.add_work_order(str(uuid.uuid4()), new)
            store.record(_opened(work_order))
            opened.append(work_order)
        return opened

    # Made to order

    async def open_made_to_order(
        self, store: WorkOrdersStore, order_id: str, made: Sequence[MadeToOrder]
    ) -> list[WorkOrder]:
        """Opens a VALUE_ADD work order per SKU a placed order makes to order at a location,
        each with its WorkOrderOpened event, in the caller's unit of work (the OrderPlaced
        consumer's). It holds nothing: the order's reservation already holds the blanks, and
        inventory turns them into the made units, still the order's, when it completes.

        Idempotent per (order, SKU, location): one that has its work order is left alone.
        Returns the work orders opened."""
        wanted = rules.made_to_order(order_id, made)
        existing = {(w.sku, w.location_code) for w in await store.made_for_order(order_id)}
        opened = []
        for new in wanted:
            if (new.sku, new.location_code) in existing:
                continue
            work_order = await store.add_work_order(str(uuid.uuid4()), new)
            store.record(_opened(work_order))
            opened.append(work_order)
        return opened

    async def cancel_for_order(self, store: WorkOrdersStore, order_id: str) -> list[WorkOrder]:
        """The order was cancelled: its open work orders are cancelled (WorkOrderCancelled
        each), in the caller's unit of work; its blanks went back with its reservation.
        Completed or cancelled ones are left as they are, so a redelivery does nothing."""
        cancelled = []
        for found in await store.made_for_order(order_id):
            work_order = await store.lock_work_order(found.id)
            if work_order is None or not work_order.is_open:
                continue
            work_order = await store.set_status(work_order.id, WorkOrderStatus.CANCELLED)
            store.record(_cancelled(work_order))
            cancelled.append(work_order)
        return cancelled

    # Kits and value-add work

    async def create(self, new: NewWorkOrder) -> WorkOrder:
        """Opens a kit or value-add work order holding its components at the location.

        Refused with nothing held and no work order left: an unknown SKU or location
        (NOT_FOUND), components short (INSUFFICIENT_STOCK on the first short component, the
        message naming every short SKU), invalid input (`rules.require_new_work_order`).
        """
        new = rules.require_new_work_order(
            new.kind,
            new.sku,
            new.quantity,
            new.location_code,
            new.components,
            new.operations,
            new.order_id,
        )
        new = dataclasses.replace(new, components=await self._costed(new))
        work_order_id = str(uuid.uuid4())
        async with self.uow.write() as store:
            await store.add_work_order(work_order_id, new, WorkOrderStatus.OPENING)
        needed = [Component(c.sku, c.quantity * new.quantity) for c in new.components]
        try:
            held = await self._inventory.reserve(work_order_id, new.location_code, needed)
        except Exception:
            await self._abandon(work_order_id)
            raise
        if not held:
            await self._abandon(work_order_id)
            short = await self._inventory.short(new.location_code, needed)
            raise _short_of(new.components, short)
        return await self._open(work_order_id)

    async def _costed(self, new: NewWorkOrder) -> tuple[Component, ...]:
        """The components with their unit costs; NOT_FOUND for an unknown SKU or location."""
        catalogue = await self._inventory.catalogue([new.sku, *(c.sku for c in new.components)])
        _require_known(catalogue, new.sku, "sku")
        for index, component in enumerate(new.components):
            _require_known(catalogue, component.sku, f"components.{index}.sku")
        if not await self._inventory.location_exists(new.location_code):
            raise DomainError(
                ErrorCode.NOT_FOUND, f"unknown location {new.location_code!r}", "location_code"
            )
        return _costed_at(new.components, catalogue)

    async def _open(self, work_order_id: str) -> WorkOrder:
        async with self.uow.write() as store:
            work_order = await store.lock_work_order(work_order_id)
            if work_order is None:
                raise DomainError(ErrorCode.NOT_FOUND, f"no work order {work_order_id}", "id")
            if work_order.status is not WorkOrderStatus.OPENING:
                return self._costed_order(work_order)
            work_order = await store.set_status(work_order_id, WorkOrderStatus.OPEN)
            store.record(_opened(work_order))
        return self._costed_order(work_order)

    async def _abandon(self, work_order_id: str) -> None:
        """Compensates an opening that will not happen: nothing stays held, no work order."""
        await self._inventory.release(work_order_id)
        async with self.uow.write() as store:
            await store.forget_work_order(work_order_id)

    async def recover_stale(self, older_than: timedelta) -> int:
        """Opens or forgets work orders a crash left OPENING for longer than `older_than`:
        opened when inventory holds their key, else released and forgotten."""
        async with self.uow.read() as store:
            stale = await store.stale_openings(utcnow() - older_than)
        for work_order_id in stale:
            if await self._inventory.holds(work_order_id):
                await self._open(work_order_id)
            else:
                await self._abandon(work_order_id)
        return len(stale)

    # The bench

    async def complete_operation(self, done: OperationDone, caller: Caller = INTERNAL) -> WorkOrder:
        """Records the next operation of an open work order: its labour, the parts it used
        (off on hand at the location), the unit's record. The last one completes the work
        order and publishes WorkOrderCompleted (inventory then consumes the components and adds
        the units made, or makes the refurbished units sellable; returns settles the line).

        The checks (`bench.next_step`) run before the parts are taken and again under the work
        order's lock when recording; the parts are taken once per (work order, operation), so a
        retry after a lost answer takes nothing twice. A scanner works at its own location only
        (FORBIDDEN).
        """
        done = bench.require_operation_done(done)
        work_order = await self._visible(done.work_order_id, caller)
        catalogue = await self._inventory.catalogue(
            [work_order.sku, *(c.sku for c in work_order.components)]
            + [p.sku for p in done.parts_used]
        )
        serialized = work_order.sku in catalogue and catalogue[work_order.sku].serialized
        if bench.next_step(work_order, done, serialized).work_order_done and work_order.order_id:
            await self._require_blanks_held(work_order)
        done = dataclasses.replace(done, parts_used=_parts_costed(done.parts_used, catalogue))
        if done.parts_used:
            await self._take_parts(work_order, done)
        async with self.uow.write() as store:
            work_order = await _locked(store, done.work_order_id)
            step = bench.next_step(work_order, done, serialized)
            await store.record_operation(work_order.id, step.position, done, step.operation_done)
            if step.work_order_done and work_order.order_id:
                # The order's blanks are taken now, when inventory makes the units from them.
                costed = _costed_at(work_order.components, catalogue)
                await store.cost_components(work_order.id, costed)
            if step.work_order_done:
                work_order = await store.set_status(
                    work_order.id, WorkOrderStatus.COMPLETED, completed_at=utcnow()
                )
                store.record(_completed(work_order))
            else:
                work_order = await store.set_status(work_order.id, WorkOrderStatus.IN_PROGRESS)
        return self._costed_order(work_order)

    async def _require_blanks_held(self, work_order: WorkOrder) -> None:
        """INVALID_STATE when the work order's order holds nothing any more: cancelled, its
        blanks went back, so completing would make nothing (inventory makes the units from
        the order's blanks). Its OrderCancelled, not yet consumed, then cancels the work
        order. Orders releases the reservation before it records the cancel, so this sees
        every cancel that committed before the check."""
        if not await self._inventory.holds(work_order.order_id):
            raise DomainError(
                ErrorCode.INVALID_STATE,
                f"order {work_order.order_id} was cancelled: nothing to make",
                "work_order_id",
            )

    async def _take_parts(self, work_order: WorkOrder, done: OperationDone) -> None:
        # One key per completion: a WIPE of several units records once per serial number, each
        # with its own parts. Hashed, as names and serials may outgrow a key or hold spaces.
        completion = hashlib.sha256(f"{done.operation}\n{done.serial_number}".encode()).hexdigest()
        key = f"{work_order.id}/{completion[:20]}"
        in_lock_order = sorted(range(len(done.parts_used)), key=lambda i: done.parts_used[i].sku)
        reason = f"parts used by work order {work_order.id} ({done.operation})"
        try:
            await self._inventory.consume(key, work_order.location_code, done.parts_used, reason)
        except DomainError as error:
            raise _in_parts_terms(error, in_lock_order) from None

    async def cancel(self, work_order_id: str, reason: str, caller: Caller = INTERNAL) -> WorkOrder:
        """Cancels an open work order. A kit's or value-add's components go back (inventory
        releases its key on WorkOrderCancelled); a refurbishment is scrapped: its units leave
        the bench, nothing becomes sellable, their value at unit cost is written off, and the
        return line settles (WorkOrderCompleted, `scrapped`). Cancelling a cancelled work order
        returns it; a completed one is INVALID_STATE."""
        bounds.require_text(reason, "reason", "reason", required=False)
        work_order = await self._visible(work_order_id, caller)
        catalogue = await self._inventory.catalogue([work_order.sku])
        unit_cost = catalogue[work_order.sku].unit_cost_cents if work_order.sku in catalogue else 0
        async with self.uow.write() as store:
            work_order = await _locked(store, work_order_id)
            if work_order.status is WorkOrderStatus.CANCELLED:
                return self._costed_order(work_order)
            if not work_order.is_open:
                raise DomainError(
                    ErrorCode.INVALID_STATE,
                    f"work order {work_order_id} is {work_order.status.value}",
                    "work_order_id",
                )
            if work_order.kind is WorkOrderKind.REFURBISH:
                work_order = await store.set_status(
                    work_order_id,
                    WorkOrderStatus.CANCELLED,
                    completed_at=utcnow(),
                    written_off_cents=unit_cost * work_order.quantity,
                )
                store.record(_completed(work_order))
            else:
                work_order = await store.set_status(work_order_id, WorkOrderStatus.CANCELLED)
                store.record(_cancelled(work_order))
        return self._costed_order(work_order)

    # Reading

    async def open_count(self, caller: Caller = INTERNAL) -> int:
        """Work orders open or in progress, every kind and location (the back office's)."""
        require_runs_the_business(caller)
        async with self.uow.read() as store:
            return await store.open_count()

    async def work_orders(
        self,
        status: WorkOrderStatus | None,
        location_code: str = "",
        source_return_id: str = "",
        caller: Caller = INTERNAL,
    ) -> list[WorkOrder]:
        """Work orders by status, location and source return, oldest first; a scanner sees
        its own location's only."""
        if caller.bound_location:
            if location_code and location_code != caller.bound_location:
                return []
            location_code = caller.bound_location
        async with self.uow.read() as store:
            found = await store.work_orders(status, location_code, source_return_id)
        return [self._costed_order(w) for w in found]

    async def repair_report(self, location_code: str, period_hours: int) -> RepairReport:
        """The bench per location over the last `period_hours` (0: a week); see
        `report.repair_report`. Value in repair is at the SKUs' unit cost now."""
        hours = bounds.require_range(period_hours, "period_hours", "period", 0, MAX_REPORT_HOURS)
        period = timedelta(hours=hours) if hours else DEFAULT_REPORT_PERIOD
        now = utcnow()
        async with self.uow.read() as store:
            work_orders = await store.bench(location_code, now - period)
        repairs = {w.sku for w in work_orders if w.is_open and w.kind is WorkOrderKind.REFURBISH}
        catalogue = await self._inventory.catalogue(repairs)
        unit_costs = {code: sku.unit_cost_cents for code, sku in catalogue.items()}
        return report.repair_report(work_orders, unit_costs, now, period)

    async def _visible(self, work_order_id: str, caller: Caller) -> WorkOrder:
        async with self.uow.read() as store:
            work_order = await store.work_order(work_order_id)
        if work_order is None or work_order.status is WorkOrderStatus.OPENING:
            raise DomainError(
                ErrorCode.NOT_FOUND, f"no work order {work_order_id}", "work_order_id"
            )
        if not caller.works_at(work_order.location_code):
            raise DomainError(
                ErrorCode.FORBIDDEN,
                "a scanner works on its own location's work orders only",
                "work_order_id",
            )
        return work_order

    def _costed_order(self, work_order: WorkOrder) -> WorkOrder:
        rate = self._settings.labor_rate(work_order.location_code)
        return dataclasses.replace(work_order, cost_cents=report.cost_cents(work_order, rate))


async def _locked(store: WorkOrdersStore, work_order_id: str) -> WorkOrder:
    work_order = await store.lock_work_order(work_order_id)
    if work_order is None or work_order.status is WorkOrderStatus.OPENING:
        raise DomainError(ErrorCode.NOT_FOUND, f"no work order {work_order_id}", "work_order_id")
    return work_order


def _require_known(catalogue: dict[str, CatalogueSku], sku: str, field: str) -> None:
    if sku not in catalogue:
        raise DomainError(ErrorCode.NOT_FOUND, f"unknown SKU {sku!r}", field)


def _parts_costed(
    parts: Sequence[Component], catalogue: dict[str, CatalogueSku]
) -> tuple[Component, ...]:
    for index, part in enumerate(parts):
        _require_known(catalogue, part.sku, f"parts_used.{index}.sku")
    return tuple(
        dataclasses.replace(p, unit_cost_cents=catalogue[p.sku].unit_cost_cents) for p in parts
    )


def _costed_at(
    components: Sequence[Component], catalogue: dict[str, CatalogueSku]
) -> tuple[Component, ...]:
    """The components at their unit cost in `catalogue` (unknown SKUs keep theirs)."""
    return tuple(
        dataclasses.replace(c, unit_cost_cents=catalogue[c.sku].unit_cost_cents)
        if c.sku in catalogue
        else c
        for c in components
    )


def _short_of(components: Sequence[Component], short: Sequence[str]) -> DomainError:
    """INSUFFICIENT_STOCK on the first short component, naming every short SKU."""
    index = next((i for i, c in enumerate(components) if c.sku in short), 0)
    names = ", ".join(short) or "the components"
    return DomainError(
        ErrorCode.INSUFFICIENT_STOCK,
        f"not enough {names} at the location",
        f"components.{index}.quantity",
    )


def _in_parts_terms(error: DomainError, in_lock_order: Sequence[int]) -> DomainError:
    """Inventory's refusal of `lines.<i>.<field>` (lines in SKU order) on the part it names."""
    parts = (error.field or "").split(".")
    if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
        field = f"parts_used.{in_lock_order[int(parts[1])]}.{parts[2]}"
        if parts[2] == "location_code":
            field = "work_order_id"
        return DomainError(error.code, error.message, field)
    return error


def _opened(work_order: WorkOrder) -> WorkOrderOpened:
    return WorkOrderOpened(
        work_order_id=work_order.id,
        kind=enum_value(pb.WorkOrderKind, work_order.kind.value),
        sku=work_order.sku,
        quantity=work_order.quantity,
        location_code=work_order.location_code,
        source_return_id=work_order.source_return_id,
    )


def _completed(work_order: WorkOrder) -> WorkOrderCompleted:
    return WorkOrderCompleted(
        work_order_id=work_order.id,
        kind=enum_value(pb.WorkOrderKind, work_order.kind.value),
        sku=work_order.sku,
        quantity=work_order.quantity,
        location_code=work_order.location_code,
        source_return_id=work_order.source_return_id,
        scrapped=work_order.scrapped,
        order_id=work_order.order_id,
        components=[pb.Component(sku=c.sku, quantity=c.quantity) for c in work_order.components],
    )


def _cancelled(work_order: WorkOrder) -> WorkOrderCancelled:
    return WorkOrderCancelled(
        work_order_id=work_order.id,
        kind=enum_value(pb.WorkOrderKind, work_order.kind.value),
        sku=work_order.sku,
        quantity=work_order.quantity,
        location_code=work_order.location_code,
        order_id=work_order.order_id,
    )
