"""Order use cases: place (a saga over inventory), cancel, ship, read.

Placement is a saga with the order's id as the reservation key:
1. claim the (channel, external id) by writing the order as PLACING — the unique constraint
   makes a concurrent duplicate wait for, then return, the first order (or, when that
   placement is given up and its claim forgotten, claim and place it itself);
2. plan from current stock and ask inventory to hold the whole plan (all lines or none);
   if stock moved in between, plan again (a few times);
3. record ALLOCATED with its shipments and publish OrderPlaced — or, when stock is short,
   release the key (so a late hold cannot survive) and forget the claim.
A crash between the steps leaves a PLACING order, which `recover_stale` completes (inventory
holds the key) or releases (it does not).

Each step is one unit of work, committing its change with its events; none is open across a
call to inventory, so a slow inventory never holds an order's lock. The queries live in
`store.py`, the rules in `domain/`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from oms.events.v1 import orders_pb2 as events
from services.kernel import bounds
from services.kernel.caller import INTERNAL, Caller, require_runs_the_business
from services.kernel.capacity import Crossing, crossings
from services.kernel.db import utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.unit_of_work import UnitOfWork
from services.orders.domain import rules
from services.orders.domain.model import NewOrder, Order, OrderStatus, Shipment, ShipmentStatus
from services.orders.domain.routing import Candidate, RoutingPlan, plan_order
from services.orders.inventory_client import Inventory
from services.orders.settings import OrdersSettings
from services.orders.store import OrdersStore

REPLAN_ATTEMPTS = 3
# How often a placement claims its external id: again after the claim it found was given up.
CLAIM_ATTEMPTS = 3
# How long a duplicate placement waits for the first one to settle, and how often it looks.
SETTLE_PATIENCE_SECONDS = 10.0
SETTLE_POLL_SECONDS = 0.02


class OrdersService:
    """The orders' use cases."""

    def __init__(
        self, uow: UnitOfWork[OrdersStore], inventory: Inventory, settings: OrdersSettings
    ) -> None:
        self.uow = uow
        self._inventory = inventory
        self._cost_model = settings.cost_model

    # Placing

    async def place(self, new: NewOrder, caller: Caller = INTERNAL) -> Order:
        """Places an order, or returns the one placed before under its (channel, external id)
        and holds nothing more. Refused with nothing held and no order left: unknown SKU
        (NOT_FOUND on its line), stock short (INSUFFICIENT_STOCK), invalid input, an external
        id that names an order `caller` may not see (INVALID_INPUT: taken, without saying what
        that order holds) or another order than this one (INVALID_INPUT: used for a different
        order).

        A duplicate waits for the first placement to settle; when that placement is given up
        (refused, or released by recovery after a crash), its claim is gone and the duplicate
        places the order itself, a bounded number of times."""
        rules.validate_new_order(new)
        rules.require_sells_on(caller, new.channel)
        for _attempt in range(CLAIM_ATTEMPTS):
            order_id = str(uuid.uuid4())
            async with self.uow.write() as store:
                claimed = await store.claim(order_id, new)
            if claimed:
                return rules.shown_to(await self._place_claimed(order_id, new), caller)
            first = await self._first_settled(new, caller)
            if first is not None:
                return rules.shown_to(first, caller)
        raise _still_placing()

    async def _place_claimed(self, order_id: str, new: NewOrder) -> Order:
        """Holds stock for a claim and allocates it, or gives the claim up when it cannot."""
        try:
            plan, made_from = await self._hold_cheapest_plan(order_id, new)
        except DomainError as refusal:
            if refusal.code is ErrorCode.INSUFFICIENT_STOCK:
                backordered = await self._promise_on_order(order_id, new)
                if backordered is not None:
                    return backordered
            await self._abandon(order_id)
            raise
        return await self._allocate(order_id, plan, made_from)

    async def _first_settled(self, new: NewOrder, caller: Caller) -> Order | None:
        """The order placed before under `new`'s external id once its placement has settled;
        None when there is none (any more): its placement was given up."""
        first = await self._order_by_external_id(new.channel, new.external_id)
        if first is None:
            return None
        rules.require_own_external_id(first, caller)
        rules.require_same_order(first, new)
        return await self._when_placed(first)

    async def _hold_cheapest_plan(
        self, order_id: str, new: NewOrder
    ) -> tuple[RoutingPlan, dict[str, str]]:
        """Plans from current stock and holds the plan in inventory; plans again when the hold
        is refused because stock moved since it was read. A SKU made to order is planned and
        held as its blank (the plan and the blanks of each made SKU are returned), so its
        blank is held at the cheapest location that has it."""
        units = rules.units_by_sku(new)
        ship_to = (new.ship_to.latitude, new.ship_to.longitude)
        for _attempt in range(REPLAN_ATTEMPTS):
            candidates, unknown, made_from = await self._inventory.sourcing_options(sorted(units))
            rules.require_known_skus(new.lines, unknown)
            candidates = await self._with_backlog(candidates)
            sources = rules.units_by_source(units, made_from)
            plan = plan_order(sources, candidates, ship_to, new.split_policy, self._cost_model)
            if plan is None:
                break
            if await self._inventory.reserve(order_id, rules.lines_to_hold(plan)):
                return plan, made_from
        raise rules.short_of_stock(new.split_policy)

    async def _with_backlog(self, candidates: Sequence[Candidate]) -> list[Candidate]:
        """The candidates with their ship backlog, for those that declared a daily capacity.
        Read in a unit of work of its own, before the hold: see routing.py on what two
        placements at once may both see."""
        limited = [c.code for c in candidates if c.daily_capacity is not None]
        if not limited:
            return list(candidates)
        async with self.uow.read() as store:
            backlog = await store.ship_backlog(limited)
        return [dataclasses.replace(c, backlog=backlog.get(c.code, 0)) for c in candidates]

    async def _abandon(self, order_id: str) -> None:
        """Compensates a placement that will not happen: nothing stays held, no order stays."""
        await self._inventory.release(order_id)
        async with self.uow.write() as store:
            await store.forget_claim(order_id)

    async def _allocate(
        self,
        order_id: str,
        plan: RoutingPlan | None,
        made_from: Mapping[str, str],
        held: Sequence[tuple[str, str, int]] = (),
    ) -> Order:
        """`allocate` in a unit of work of its own."""
        async with self.uow.write() as store:
            return await allocate(store, order_id, plan, made_from, held)

    async def _promise_on_order(self, order_id: str, new: NewOrder) -> Order | None:
        """Backorders a claim short of stock when its channel allows it: plans over the units
        on open purchase orders not yet promised, as over stock, and has inventory promise
        them (all lines or none, planned again when another buyer took them meanwhile). None
        when the channel takes no backorders or not enough is on order."""
        units = rules.units_by_sku(new)
        ship_to = (new.ship_to.latitude, new.ship_to.longitude)
        for _attempt in range(REPLAN_ATTEMPTS):
            allowed, candidates = await self._inventory.backorder_options(
                sorted(units), new.channel
            )
            if not allowed:
                return None
            plan = plan_order(units, candidates, ship_to, new.split_policy, self._cost_model)
            if plan is None:
                return None
            promised, expected_at = await self._inventory.promise(
                order_id, rules.lines_to_hold(plan)
            )
            if promised:
                async with self.uow.write() as store:
                    return await backorder(store, order_id, plan, expected_at)
        return None

    async def _when_placed(self, order: Order) -> Order | None:
        """The order once its placement has settled (another request may still be placing it);
        None when the placement was given up meanwhile and its claim is gone."""
        deadline = asyncio.get_running_loop().time() + SETTLE_PATIENCE_SECONDS
        while order.status is OrderStatus.PLACING:
            if asyncio.get_running_loop().time() > deadline:
                raise _still_placing()
            await asyncio.sleep(SETTLE_POLL_SECONDS)
            found = await self._order_by_external_id(order.channel, order.external_id)
            if found is None:
                return None
            order = found
        return order

    async def recover_stale(self, older_than: timedelta) -> int:
        """Completes or releases placements a crash left half done: those PLACING for longer
        than `older_than`. Completed when inventory holds their key, else released (so a late
        hold is refused) and forgotten. Returns how many it resolved."""
        async with self.uow.read() as store:
            stale = await store.stale_claims(utcnow() - older_than)
        for order_id in stale:
            held = await self._inventory.held_lines(order_id)
            if held:
                await self._allocate(order_id, None, await self._made_from(order_id), held)
            else:
                await self._abandon(order_id)
        return len(stale)

    async def _made_from(self, order_id: str) -> dict[str, str]:
        """The blanks of the claimed order's SKUs made to order, as inventory declares them."""
        async with self.uow.write() as store:
            claim = await store.lock_order(order_id)
        skus = sorted({line.sku for line in claim.lines}) if claim else []
        _options, _unknown, made_from = await self._inventory.sourcing_options(skus)
        return made_from

    # Cancelling and shipping

    async def cancel(self, order_id: str, caller: Caller = INTERNAL) -> Order:
        """Cancels an order: its stock goes back to inventory, it and its shipments become
        CANCELLED, OrderCancelled is published. Cancelling a cancelled order returns it.

        Refused (INVALID_STATE) once a shipment is SHIPPING or SHIPPED. Both checks run under
        the order's lock, and a shipment becomes SHIPPING under that lock before inventory
        commits it, so the final check sees any shipment that started to ship meanwhile.
        """
        async with self.uow.write() as store:
            order = _visible(await store.lock_order(order_id), order_id, caller)
            if order.status is OrderStatus.CANCELLED:
                return rules.shown_to(order, caller)
            rules.require_cancellable(order.status, _statuses(order))
        await self._inventory.release(order_id)
        async with self.uow.write() as store:
            order = _visible(await store.lock_order(order_id), order_id)
            rules.require_cancellable(order.status, _statuses(order))
            unshipped = [s for s in order.shipments if s.status in rules.UNSHIPPED]
            released = Counter({s.location_code: -1 for s in unshipped})
            await record_capacity_crossings(store, released, rules.ship_capacities(order.routing))
            cancelled = await store.mark_cancelled(order_id)
            store.record(events.OrderCancelled(order_id=order_id))
        return rules.shown_to(cancelled, caller)

    async def ship(
        self,
        shipment_id: str,
        tracking_number: str = "",
        serials: Sequence[tuple[str, Sequence[str]]] = (),
    ) -> tuple[Order, Shipment]:
        """Ships one shipment: its units leave on-hand at its location, with the serial numbers
        scanned into the parcel (per SKU, at most its units). Idempotent: shipping a shipped
        shipment again changes nothing, its serial numbers included.

        The shipment turns SHIPPING under its order's lock before inventory commits it, which
        bars a concurrent cancel; a shipment left SHIPPING by a crash is committed again (a
        commit is idempotent in inventory) when it is shipped again.

        Refused (INVALID_STATE) while a made-to-order unit is still held as its blank: inventory
        holds the made units for the order only once their work order completed, so asking it
        what the order holds is the one check that cannot pass before the units exist (it
        only ever turns true: nothing turns made units back into blanks).
        """
        rules.require_tracking_number(tracking_number)
        async with self.uow.write() as store:
            order, shipment = _with_shipment(
                await store.lock_order_of_shipment(shipment_id), shipment_id
            )
        if shipment.status is ShipmentStatus.ALLOCATED:
            rules.require_made(shipment, await self._inventory.held_lines(order.id))
        async with self.uow.write() as store:
            order, shipment = _with_shipment(
                await store.lock_order_of_shipment(shipment_id), shipment_id
            )
            rules.require_shippable(shipment)
            serial_numbers = rules.shipped_serials(serials, dict(shipment.lines))
            status = shipment.status
            if status is ShipmentStatus.ALLOCATED:
                await store.mark_shipping(shipment_id)
                status = ShipmentStatus.SHIPPING
        if status is ShipmentStatus.SHIPPING:
            await self._inventory.commit(order.id, shipment.location_code)
            await self._record_shipped(shipment_id, tracking_number, serial_numbers)
        async with self.uow.read() as store:
            [order] = await store.orders([order.id])
        return _with_shipment(order, shipment_id)

    async def _record_shipped(
        self, shipment_id: str, tracking_number: str, serial_numbers: dict[str, tuple[str, ...]]
    ) -> None:
        """Records a committed shipment as SHIPPED, moves its order on and publishes
        ShipmentShipped, once: a shipment already SHIPPED is left as it is."""
        async with self.uow.write() as store:
            order, shipment = _with_shipment(
                await store.lock_order_of_shipment(shipment_id), shipment_id
            )
            if shipment.status is ShipmentStatus.SHIPPED:
                return
            status = rules.status_once_shipped(order.shipments, shipment_id)
            capacities = rules.ship_capacities(order.routing)
            await record_capacity_crossings(store, {shipment.location_code: -1}, capacities)
            await store.mark_shipped(shipment_id, tracking_number, serial_numbers, status)
            store.record(
                events.ShipmentShipped(
                    order_id=order.id,
                    shipment=_shipment_fact(shipment_id, shipment.location_code, shipment.lines),
                    tracking_number=tracking_number,
                )
            )

    # Reading

    async def order(self, order_id: str, caller: Caller = INTERNAL) -> Order:
        orders = await self.orders([order_id], caller)
        if not orders:
            raise DomainError(ErrorCode.NOT_FOUND, f"no order {order_id}", "id")
        return orders[0]

    async def find(self, channel: str, external_id: str, caller: Caller = INTERNAL) -> Order:
        """The order placed under (channel, external id), as `caller` sees it; NOT_FOUND when
        there is none or the caller may not see it (a returns platform names orders so)."""
        channel = bounds.require_code(channel, "channel", "channel")
        external_id = bounds.require_text(
            external_id, "external_id", "externalId", bounds.MAX_EXTERNAL_ID
        )
        found = await self._order_by_external_id(channel, external_id)
        if found is None:
            raise DomainError(
                ErrorCode.NOT_FOUND, f"no order {external_id!r} on {channel}", "external_id"
            )
        return await self.order(found.id, caller)

    async def orders(self, order_ids: Sequence[str], caller: Caller = INTERNAL) -> list[Order]:
        """The orders asked for that `caller` may see (`rules.may_see`), as it sees them, in the
        order asked; unknown ids, and other storefronts' or channels' orders, are left out
        alike. At most MAX_IDS at once."""
        bounds.require_count(order_ids, "ids", rules.MAX_IDS, "ids")
        async with self.uow.read() as store:
            by_id = {o.id: o for o in await store.orders(order_ids)}
        return [
            rules.shown_to(by_id[i], caller)
            for i in order_ids
            if i in by_id and rules.may_see(by_id[i], caller)
        ]

    async def page(
        self, first: int, after: str, status: OrderStatus | None, caller: Caller = INTERNAL
    ) -> tuple[list[tuple[str, Order]], bool]:
        """Most recent first, of the orders `caller` may see: ([(cursor, order)], has next)."""
        rules.require_page_size(first)
        before = rules.decode_cursor(after) if after else None
        async with self.uow.read() as store:
            orders, has_next = await store.page(
                first, before, status, caller.own_orders_only, caller.own_channels_only
            )
        page = [(rules.encode_cursor(int(o.number)), rules.shown_to(o, caller)) for o in orders]
        return page, has_next

    async def pending_summary(self, caller: Caller = INTERNAL) -> tuple[int, int]:
        """(orders not yet shipped, age of the oldest in whole minutes); the back office's."""
        require_runs_the_business(caller)
        async with self.uow.read() as store:
            count, oldest = await store.waiting_orders(rules.PENDING)
        return rules.pending_summary(count, oldest, utcnow())

    async def ship_backlog(self, location_codes: Sequence[str]) -> dict[str, int]:
        """Shipments allocated and not shipped at each location asked about (0 for none), at
        most MAX_IDS locations."""
        bounds.require_count(location_codes, "location_codes", rules.MAX_IDS, "locationCodes")
        codes = [bounds.require_code(c, "location_codes", "locationCodes") for c in location_codes]
        async with self.uow.read() as store:
            counts = await store.ship_backlog(codes)
        return {code: counts.get(code, 0) for code in codes}

    async def _order_by_external_id(self, channel: str, external_id: str) -> Order | None:
        async with self.uow.read() as store:
            return await store.order_by_external_id(channel, external_id)


async def allocate(
    store: OrdersStore,
    order_id: str,
    plan: RoutingPlan | None,
    made_from: Mapping[str, str],
    held: Sequence[tuple[str, str, int]] = (),
) -> Order:
    """Records the held stock as shipments (one per location, in the order's SKUs) and
    publishes OrderPlaced, with the units made to order for workorders to open their work.
    An order no longer PLACING or BACKORDERED (allocated meanwhile, cancelled) is returned as
    it is."""
    parcels = rules.parcels_by_location(plan, held)
    claim = await store.lock_order(order_id)
    if claim is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"no order {order_id}", "id")
    if claim.status not in rules.AWAITING_STOCK:
        return claim
    shipments = [
        Shipment(str(uuid.uuid4()), location_code, ShipmentStatus.ALLOCATED, lines)
        for location_code, lines in rules.as_ordered(parcels, claim.lines, made_from)
    ]
    opened = Counter(s.location_code for s in shipments)
    await record_capacity_crossings(store, opened, rules.ship_capacities(plan))
    order = await store.allocate(order_id, plan, shipments)
    store.record(
        events.OrderPlaced(
            order_id=order.id,
            number=order.number,
            channel=order.channel,
            lines=[_line_fact(x.sku, x.quantity, x.unit_price_cents) for x in order.lines],
            shipments=[_shipment_fact(s.id, s.location_code, s.lines) for s in shipments],
            routing_cost_cents=plan.total_cents if plan else 0,
            made_to_order=[
                events.MadeToOrderFact(
                    shipment_id=s.id,
                    location_code=s.location_code,
                    sku=sku,
                    blank_sku=blank,
                    quantity=units,
                )
                for s in shipments
                for sku, blank, units in rules.made_to_order(s, made_from)
            ],
        )
    )
    return order


async def backorder(
    store: OrdersStore, order_id: str, plan: RoutingPlan, expected_at: datetime | None
) -> Order:
    """Records a claim whose units inventory promised on open purchase orders as BACKORDERED,
    expected in at `expected_at`, with the plan that routed it and no shipment yet (they open
    when the receipt lands: `allocate_backorder`). An order no longer PLACING (its promise
    already filled) is returned as it is."""
    claim = await store.lock_order(order_id)
    if claim is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"no order {order_id}", "id")
    if claim.status is not OrderStatus.PLACING:
        return claim
    return await store.backorder(order_id, plan, expected_at)


async def allocate_backorder(
    store: OrdersStore, order_id: str, held: Sequence[tuple[str, str, int]]
) -> None:
    """Inventory now holds all a backorder was promised (BackorderFilled): the order is
    ALLOCATED with a shipment from each location that holds its units, in the event's unit of
    work. A claim still PLACING (the receipt came before its placement recorded the backorder)
    is allocated the same way; any other order (cancelled meanwhile) is left as it is.
    Backorders are never made to order: a SKU made to order is never on a purchase order."""
    order = await store.lock_order(order_id)
    if order is not None:
        # The plan names exactly the lines promised, now held; a claim has no plan yet.
        await allocate(store, order_id, order.routing, {}, () if order.routing else held)


async def record_capacity_crossings(
    store: OrdersStore, change: Mapping[str, int], capacities: Mapping[str, int]
) -> None:
    """Records, in the caller's unit of work and before it applies `change` (shipments per
    location opening or leaving the backlog), the event of each location whose ship backlog
    the change takes to its daily capacity or back under it."""
    limited = sorted(code for code, delta in change.items() if delta and code in capacities)
    if not limited:
        return
    before = await store.ship_backlog(limited)
    for code, crossed, backlog, capacity in crossings(before, change, capacities):
        kind = (
            events.ShipCapacityReached
            if crossed is Crossing.REACHED
            else events.ShipBacklogBackUnderCapacity
        )
        store.record(kind(location_code=code, backlog=backlog, daily_capacity=capacity))


def _still_placing() -> DomainError:
    return DomainError(
        ErrorCode.INVALID_STATE, "the order is still being placed; retry", "external_id"
    )


def _visible(order: Order | None, order_id: str, caller: Caller = INTERNAL) -> Order:
    """The order, unless there is none the caller may see (NOT_FOUND, word for word what an
    unknown id gets, so another storefront's order does not show it exists)."""
    if order is None or not rules.is_visible(order.status) or not rules.may_see(order, caller):
        raise DomainError(ErrorCode.NOT_FOUND, f"no order {order_id}", "id")
    return order


def _with_shipment(order: Order | None, shipment_id: str) -> tuple[Order, Shipment]:
    """The order and its shipment `shipment_id` (NOT_FOUND when it has none)."""
    shipment = next((s for s in order.shipments if s.id == shipment_id), None) if order else None
    if order is None or shipment is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"no shipment {shipment_id}", "shipment_id")
    return order, shipment


def _statuses(order: Order) -> list[ShipmentStatus]:
    return [s.status for s in order.shipments]


def _line_fact(sku: str, quantity: int, unit_price_cents: int = 0) -> events.OrderLineFact:
    return events.OrderLineFact(sku=sku, quantity=quantity, unit_price_cents=unit_price_cents)


def _shipment_fact(
    shipment_id: str, location_code: str, lines: Sequence[tuple[str, int]]
) -> events.ShipmentFact:
    return events.ShipmentFact(
        shipment_id=shipment_id,
        location_code=location_code,
        lines=[_line_fact(sku, units) for sku, units in lines],
    )
