"""Order use cases: place (a saga over inventory), cancel, ship, read.

Placement is a saga with the order's id as the reservation key:
1. claim the (channel, external id) by writing the order as PLACING — the unique constraint
   makes a concurrent duplicate wait for, then return, the first order;
2. plan from current stock and ask inventory to hold the whole plan (all lines or none);
   if stock moved in between, plan again (a few times);
3. record ALLOCATED with its shipments and publish OrderPlaced — or, when stock is short,
   release the key (so a late hold cannot survive) and forget the claim.
A crash between the steps leaves a PLACING order, which `recover_stale` completes (inventory
holds the key) or releases (it does not).
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from oms.events.v1 import orders_pb2 as events
from services.kernel.db import Database, utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.outbox import record_event
from services.orders.domain import rules
from services.orders.domain.model import NewOrder, Order, OrderStatus, Shipment, ShipmentStatus
from services.orders.domain.routing import CostModel, RoutingPlan, plan_order
from services.orders.inventory_client import InventoryClient
from services.orders.store import (
    OrderLineRow,
    OrderRow,
    ShipmentLineRow,
    ShipmentRow,
    load_orders,
    routing_to_json,
)

PRODUCER = "orders"
REPLAN_ATTEMPTS = 3
PENDING = (OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.BACKORDERED)
HIDDEN = (OrderStatus.PLACING,)
MAX_PAGE = 100


class OrdersService:
    def __init__(
        self, db: Database, inventory: InventoryClient, cost_model: CostModel | None = None
    ) -> None:
        self._db = db
        self._inventory = inventory
        self._cost_model = cost_model or CostModel()

    # Placing

    async def place(self, new: NewOrder) -> Order:
        rules.validate_new_order(new)
        order_id = await self._claim(new)
        if order_id is None:  # placed before, or by a concurrent request with the same id
            claimed = await self._find_by_external_id(new.channel, new.external_id)
            return await self._when_placed(claimed) if claimed else await self.place(new)
        try:
            plan = await self._hold_cheapest_plan(order_id, rules.units_by_sku(new), new)
        except DomainError:
            await self._abandon(order_id)
            raise
        return await self._allocate(order_id, plan)

    async def _claim(self, new: NewOrder) -> str | None:
        order_id = str(uuid.uuid4())
        try:
            async with self._db.transaction() as session:
                session.add(
                    OrderRow(
                        id=order_id,
                        status=OrderStatus.PLACING.value,
                        channel=new.channel,
                        external_id=new.external_id,
                        email=new.email,
                        ship_to=new.ship_to.__dict__,
                        split_policy=new.split_policy.value,
                        placed_by=new.placed_by,
                    )
                )
                await session.flush()
                for number, line in enumerate(new.lines):
                    session.add(
                        OrderLineRow(
                            order_id=order_id,
                            line_number=number,
                            sku=line.sku,
                            quantity=line.quantity,
                            unit_price_cents=line.unit_price_cents,
                        )
                    )
        except IntegrityError:
            return None
        return order_id

    async def _hold_cheapest_plan(
        self, order_id: str, units: dict[str, int], new: NewOrder
    ) -> RoutingPlan:
        ship_to = (new.ship_to.latitude, new.ship_to.longitude)
        for _attempt in range(REPLAN_ATTEMPTS):
            candidates, unknown = await self._inventory.sourcing_options(sorted(units))
            if unknown:
                index = next(i for i, line in enumerate(new.lines) if line.sku in unknown)
                raise DomainError(
                    ErrorCode.NOT_FOUND,
                    f"unknown SKU {new.lines[index].sku!r}",
                    f"lines.{index}.sku",
                )
            plan = plan_order(units, candidates, ship_to, new.split_policy, self._cost_model)
            if plan is None:
                break
            lines = [(sku, p.location_code, q) for p in plan.parcels for sku, q in p.lines]
            if await self._inventory.reserve(order_id, lines):
                return plan
        raise DomainError(
            ErrorCode.INSUFFICIENT_STOCK,
            "not enough stock to fill the order"
            + (" from one location" if new.split_policy.value == "SHIP_COMPLETE" else ""),
            "lines",
        )

    async def _abandon(self, order_id: str) -> None:
        """Compensates a placement that will not happen: nothing stays held, no order stays."""
        await self._inventory.release(order_id)
        async with self._db.transaction() as session:
            await session.exec(delete(OrderLineRow).where(col(OrderLineRow.order_id) == order_id))  # type: ignore[call-overload]
            await session.exec(delete(OrderRow).where(col(OrderRow.id) == order_id))  # type: ignore[call-overload]

    async def _allocate(
        self,
        order_id: str,
        plan: RoutingPlan | None,
        held: Sequence[tuple[str, str, int]] = (),
    ) -> Order:
        """Records the held stock as shipments (one per location) and publishes OrderPlaced."""
        parcels: dict[str, list[tuple[str, int]]] = {}
        if plan is not None:
            for parcel in plan.parcels:
                parcels[parcel.location_code] = list(parcel.lines)
        for sku, location_code, units in held:
            parcels.setdefault(location_code, []).append((sku, units))
        async with self._db.transaction() as session:
            row = await _lock_order(session, order_id, placing=True)
            if row.status != OrderStatus.PLACING.value:
                return (await load_orders(session, [row]))[0]
            row.status = OrderStatus.ALLOCATED.value
            row.routing = routing_to_json(plan) if plan else None
            row.updated_at = utcnow()
            session.add(row)
            facts = []
            for location_code, lines in sorted(parcels.items()):
                shipment_id = str(uuid.uuid4())
                session.add(
                    ShipmentRow(
                        id=shipment_id,
                        order_id=order_id,
                        location_code=location_code,
                        status=ShipmentStatus.ALLOCATED.value,
                    )
                )
                await session.flush()
                for sku, units in lines:
                    session.add(ShipmentLineRow(shipment_id=shipment_id, sku=sku, quantity=units))
                facts.append(_shipment_fact(shipment_id, location_code, lines))
            order = (await load_orders(session, [row]))[0]
            record_event(
                session,
                PRODUCER,
                events.OrderPlaced(
                    order_id=order.id,
                    number=order.number,
                    channel=order.channel,
                    lines=[_line_fact(x.sku, x.quantity, x.unit_price_cents) for x in order.lines],
                    shipments=facts,
                    routing_cost_cents=plan.total_cents if plan else 0,
                ),
            )
        return order

    async def _when_placed(self, row: OrderRow, patience_seconds: float = 10.0) -> Order:
        """The order once its placement has settled (another request may still be placing it)."""
        deadline = asyncio.get_running_loop().time() + patience_seconds
        while row.status == OrderStatus.PLACING.value:
            if asyncio.get_running_loop().time() > deadline:
                raise DomainError(
                    ErrorCode.INVALID_STATE, "the order is still being placed; retry", "external_id"
                )
            await asyncio.sleep(0.02)
            found = await self._find_by_external_id(row.channel, row.external_id)
            if found is None:
                raise DomainError(
                    ErrorCode.INSUFFICIENT_STOCK, "not enough stock to fill the order", "lines"
                )
            row = found
        async with self._db.snapshot() as session:
            return (await load_orders(session, [row]))[0]

    async def recover_stale(self, older_than: timedelta) -> int:
        """Completes or releases placements and cancellations a crash left half done."""
        cutoff = utcnow() - older_than
        async with self._db.snapshot() as session:
            stale = (
                await session.exec(
                    select(OrderRow).where(
                        OrderRow.status == OrderStatus.PLACING.value,
                        col(OrderRow.updated_at) < cutoff,
                    )
                )
            ).all()
        for row in stale:
            held = await self._inventory.held_lines(row.id)
            if held:
                await self._allocate(row.id, None, held)
            else:
                await self._abandon(row.id)
        return len(stale)

    # Cancelling and shipping

    async def cancel(self, order_id: str) -> Order:
        async with self._db.transaction() as session:
            row = await _lock_order(session, order_id)
            order = (await load_orders(session, [row]))[0]
            if order.status is OrderStatus.CANCELLED:
                return order
            rules.require_cancellable(order.status, [s.status for s in order.shipments])
        await self._inventory.release(order_id)
        async with self._db.transaction() as session:
            row = await _lock_order(session, order_id)
            rules.require_cancellable(
                OrderStatus(row.status), await _shipment_statuses(session, order_id)
            )
            row.status = OrderStatus.CANCELLED.value
            row.cancelled_at = row.updated_at = utcnow()
            session.add(row)
            for shipment in await _shipments(session, order_id):
                shipment.status = ShipmentStatus.CANCELLED.value
                session.add(shipment)
            record_event(session, PRODUCER, events.OrderCancelled(order_id=order_id))
            return (await load_orders(session, [row]))[0]

    async def ship(
        self,
        shipment_id: str,
        tracking_number: str = "",
        serials: Sequence[tuple[str, Sequence[str]]] = (),
    ) -> tuple[Order, Shipment]:
        """Ships one shipment: its units leave on-hand at its location, with the serial numbers
        scanned into the parcel (per SKU, at most its units). Idempotent: shipping a shipped
        shipment again changes nothing, its serial numbers included."""
        if len(tracking_number) > 128:
            raise DomainError(
                ErrorCode.INVALID_INPUT, "tracking number is too long", "tracking_number"
            )
        async with self._db.transaction() as session:
            shipment = await session.get(ShipmentRow, shipment_id)
            if shipment is None:
                raise DomainError(ErrorCode.NOT_FOUND, f"no shipment {shipment_id}", "shipment_id")
            row = await _lock_order(session, shipment.order_id)
            if shipment.status == ShipmentStatus.CANCELLED.value:
                raise DomainError(
                    ErrorCode.INVALID_STATE, "the shipment was cancelled", "shipment_id"
                )
            shipped = {x.sku: x.quantity for x in await _shipment_lines(session, shipment_id)}
            serial_numbers = rules.shipped_serials(serials, shipped)
            if shipment.status == ShipmentStatus.ALLOCATED.value:
                shipment.status = ShipmentStatus.SHIPPING.value
                session.add(shipment)
        if shipment.status == ShipmentStatus.SHIPPING.value:
            await self._inventory.commit(row.id, shipment.location_code)
            await self._record_shipped(shipment_id, tracking_number, serial_numbers)
        async with self._db.snapshot() as session:
            order_row = await session.get(OrderRow, row.number)
            assert order_row is not None
            order = (await load_orders(session, [order_row]))[0]
        return order, next(s for s in order.shipments if s.id == shipment_id)

    async def _record_shipped(
        self, shipment_id: str, tracking_number: str, serial_numbers: dict[str, tuple[str, ...]]
    ) -> None:
        async with self._db.transaction() as session:
            shipment = await session.get(ShipmentRow, shipment_id)
            assert shipment is not None
            row = await _lock_order(session, shipment.order_id)
            if shipment.status == ShipmentStatus.SHIPPED.value:
                return
            shipment.status = ShipmentStatus.SHIPPED.value
            shipment.tracking_number = tracking_number
            shipment.shipped_at = utcnow()
            session.add(shipment)
            await session.flush()
            status = rules.status_after_shipping(await _shipment_statuses(session, row.id))
            row.status = status.value
            row.updated_at = utcnow()
            if status is OrderStatus.SHIPPED:
                row.shipped_at = row.updated_at
            session.add(row)
            line_rows = await _shipment_lines(session, shipment_id)
            for line in line_rows:
                line.serial_numbers = list(serial_numbers.get(line.sku, ()))
                session.add(line)
            lines = [(x.sku, x.quantity) for x in line_rows]
            record_event(
                session,
                PRODUCER,
                events.ShipmentShipped(
                    order_id=row.id,
                    shipment=_shipment_fact(shipment_id, shipment.location_code, lines),
                    tracking_number=tracking_number,
                ),
            )

    # Reading

    async def order(self, order_id: str) -> Order:
        orders = await self.orders([order_id])
        if not orders:
            raise DomainError(ErrorCode.NOT_FOUND, f"no order {order_id}", "id")
        return orders[0]

    async def orders(self, order_ids: Sequence[str]) -> list[Order]:
        """The orders asked for, in the order asked; unknown ids are left out."""
        async with self._db.snapshot() as session:
            rows = (
                await session.exec(
                    select(OrderRow).where(
                        col(OrderRow.id).in_(order_ids), col(OrderRow.status).not_in(HIDDEN)
                    )
                )
            ).all()
            by_id = {o.id: o for o in await load_orders(session, list(rows))}
        return [by_id[i] for i in order_ids if i in by_id]

    async def page(
        self, first: int, after: str, status: OrderStatus | None, placed_by: str = ""
    ) -> tuple[list[tuple[str, Order]], bool]:
        """Most recent first: ([(cursor, order)], has next page)."""
        if not 1 <= first <= MAX_PAGE:
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"first must be within 1..{MAX_PAGE}", "first"
            )
        statement = select(OrderRow).where(col(OrderRow.status).not_in(HIDDEN))
        if after:
            statement = statement.where(col(OrderRow.number) < decode_cursor(after))
        if status is not None:
            statement = statement.where(OrderRow.status == status.value)
        if placed_by:
            statement = statement.where(OrderRow.placed_by == placed_by)
        statement = statement.order_by(col(OrderRow.number).desc()).limit(first + 1)
        async with self._db.snapshot() as session:
            rows = list((await session.exec(statement)).all())
            orders = await load_orders(session, rows[:first])
        return [(encode_cursor(int(o.number)), o) for o in orders], len(rows) > first

    async def pending_summary(self) -> tuple[int, int]:
        """(orders not yet shipped, age of the oldest in whole minutes)."""
        pending = [s.value for s in PENDING]
        async with self._db.snapshot() as session:
            count, oldest = (
                await session.exec(
                    select(func.count(), func.min(OrderRow.placed_at)).where(
                        col(OrderRow.status).in_(pending)
                    )
                )
            ).one()
        if not count or oldest is None:
            return 0, 0
        if isinstance(oldest, str):  # SQLite aggregates lose the column type
            oldest = datetime.fromisoformat(oldest)
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=utcnow().tzinfo)
        return int(count), int((utcnow() - oldest).total_seconds() // 60)

    async def _find_by_external_id(self, channel: str, external_id: str) -> OrderRow | None:
        async with self._db.snapshot() as session:
            return (
                await session.exec(
                    select(OrderRow).where(
                        OrderRow.channel == channel, OrderRow.external_id == external_id
                    )
                )
            ).first()


def encode_cursor(number: int) -> str:
    return base64.urlsafe_b64encode(f"order:{number}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "order":
            raise ValueError(kind)
        return int(number)
    except ValueError as error:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "not a cursor from this list", "after"
        ) from error


async def _lock_order(session: AsyncSession, order_id: str, placing: bool = False) -> OrderRow:
    """The order row, locked for this transaction (PostgreSQL; SQLite has one writer).

    An order still being placed is found only when `placing` asks for it.
    """
    row = (
        await session.exec(select(OrderRow).where(OrderRow.id == order_id).with_for_update())
    ).first()
    if row is None or (row.status in HIDDEN and not placing):
        raise DomainError(ErrorCode.NOT_FOUND, f"no order {order_id}", "id")
    return row


async def _shipments(session: AsyncSession, order_id: str) -> list[ShipmentRow]:
    statement = select(ShipmentRow).where(ShipmentRow.order_id == order_id)
    return list((await session.exec(statement)).all())


async def _shipment_statuses(session: AsyncSession, order_id: str) -> list[ShipmentStatus]:
    return [ShipmentStatus(s.status) for s in await _shipments(session, order_id)]


async def _shipment_lines(session: AsyncSession, shipment_id: str) -> list[ShipmentLineRow]:
    statement = select(ShipmentLineRow).where(ShipmentLineRow.shipment_id == shipment_id)
    return list((await session.exec(statement)).all())


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
