"""The orders' store: the port its use cases call, and its tables and queries over SQL (no
other service's data)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import JSON, Index, Insert, UniqueConstraint, bindparam, delete, func, insert
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kernel.db import UTCDateTime, insert_ignoring_conflict, select_in, utcnow
from services.kernel.geo import AddressPlacement
from services.kernel.unit_of_work import SqlStore, Store
from services.orders.domain import rules
from services.orders.domain.model import (
    Address,
    NewOrder,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentStatus,
)
from services.orders.domain.routing import Parcel, RoutingPlan, SplitPolicy

PRODUCER = "orders"


class OrdersStore(Store, Protocol):
    """What the orders' use cases ask of their storage, in one unit of work. Orders come back
    whole: with their lines and their shipments (by location code, lines by SKU)."""

    async def claim(self, order_id: str, new: NewOrder) -> bool:
        """Writes `new` as a PLACING order with its lines, unless an order with its (channel,
        external id) exists: then False, and nothing is written.

        One conditional insert decides, so of concurrent claims of one (channel, external id)
        exactly one wins and none fails (on PostgreSQL a later one waits for the first's unit
        of work to end)."""
        ...

    async def order_by_external_id(self, channel: str, external_id: str) -> Order | None:
        """The order placed under (channel, external id), in any state, PLACING included."""
        ...

    async def forget_claim(self, order_id: str) -> None:
        """Deletes a claim that will not become an order, with its lines."""
        ...

    async def stale_claims(self, idle_since: datetime) -> list[str]:
        """Ids of the orders still PLACING whose last change is older than `idle_since`."""
        ...

    async def lock_order(self, order_id: str) -> Order | None:
        """The order, in any state, read after taking its row lock for the rest of the unit of
        work; None when there is none.

        Until the unit of work ends, every other unit of work that locks this order (allocate,
        cancel, ship) waits, so what the caller checked of the order and its shipments still
        holds when it writes. (PostgreSQL: SELECT ... FOR UPDATE; SQLite admits one writer at
        a time, which serialises them as well.)"""
        ...

    async def lock_order_of_shipment(self, shipment_id: str) -> Order | None:
        """`lock_order` for the order a shipment belongs to; None when there is no such
        shipment. The shipment's state is read after the lock is taken."""
        ...

    async def allocate(
        self, order_id: str, plan: RoutingPlan | None, shipments: Sequence[Shipment]
    ) -> Order:
        """Makes a PLACING order ALLOCATED, keeps the plan that routed it (None when it was
        completed from what inventory held) and opens its shipments; returns the order."""
        ...

    async def backorder(
        self, order_id: str, plan: RoutingPlan, expected_at: datetime | None
    ) -> Order:
        """Makes a PLACING order BACKORDERED, expected in at `expected_at`, and keeps the plan
        that routed it; returns the order (with no shipment)."""
        ...

    async def mark_cancelled(self, order_id: str) -> Order:
        """Makes the order and all its shipments CANCELLED, stamped now; returns the order."""
        ...

    async def mark_shipping(self, shipment_id: str) -> None:
        """Notes that the shipment's commit in inventory is under way (SHIPPING): from then on
        its order cannot be cancelled."""
        ...

    async def mark_shipped(
        self,
        shipment_id: str,
        tracking_number: str,
        serial_numbers: Mapping[str, Sequence[str]],
        order_status: OrderStatus,
    ) -> None:
        """Makes the shipment SHIPPED now, with its tracking number and the serial numbers
        scanned per SKU, and moves its order to `order_status` (stamped shipped when that is
        SHIPPED)."""
        ...

    async def orders(self, order_ids: Sequence[str]) -> list[Order]:
        """The orders with these ids that clients may see (never a PLACING claim), in no
        particular order."""
        ...

    async def page(
        self,
        first: int,
        before_number: int | None,
        status: OrderStatus | None,
        placed_by: str,
        channels: Sequence[str] | None = None,
    ) -> tuple[list[Order], bool]:
        """At most `first` orders that clients may see, most recent (highest number) first,
        numbered below `before_number` when given, in `status` and placed by `placed_by` when
        given, on one of `channels` unless None; and whether more follow."""
        ...

    async def waiting_orders(self, statuses: Sequence[OrderStatus]) -> tuple[int, datetime | None]:
        """How many orders are in one of `statuses`, and when the oldest of them was placed."""
        ...

    async def ship_backlog(self, location_codes: Sequence[str]) -> dict[str, int]:
        """Per location asked about, its shipments allocated and not shipped (a location with
        none is left out)."""
        ...


class OrderRow(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="one_order_per_channel_id"),
        Index("ix_orders_status_number", "status", "number"),
    )

    # The sequence number doubles as the human order number and the page cursor.
    number: int | None = Field(default=None, primary_key=True)
    id: str = Field(unique=True, max_length=36)
    status: str = Field(max_length=32)
    channel: str = Field(max_length=64)
    external_id: str = Field(max_length=128)
    email: str = Field(max_length=320)
    ship_to: dict[str, Any] = Field(sa_type=JSON)
    split_policy: str = Field(max_length=32)
    placed_by: str = Field(default="", max_length=128, index=True)
    routing: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    placed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    shipped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Revision 0002.
    backorder_expected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OrderLineRow(SQLModel, table=True):
    __tablename__ = "order_line"

    order_id: str = Field(primary_key=True, foreign_key="orders.id", max_length=36)
    line_number: int = Field(primary_key=True)
    sku: str = Field(max_length=64)
    quantity: int
    unit_price_cents: int


class ShipmentRow(SQLModel, table=True):
    __tablename__ = "shipment"
    # A location's ship backlog is counted at every placement.
    __table_args__ = (Index("ix_shipment_location_status", "location_code", "status"),)

    id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(foreign_key="orders.id", index=True, max_length=36)
    location_code: str = Field(max_length=64)
    status: str = Field(max_length=32)
    tracking_number: str = Field(default="", max_length=128)
    shipped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ShipmentLineRow(SQLModel, table=True):
    __tablename__ = "shipment_line"

    shipment_id: str = Field(primary_key=True, foreign_key="shipment.id", max_length=36)
    sku: str = Field(primary_key=True, max_length=64)
    quantity: int
    # Serial numbers of the units shipped, recorded when the shipment ships.
    serial_numbers: list[str] = Field(default_factory=list, sa_type=JSON)


TABLES: tuple[type[SQLModel], ...] = (OrderRow, OrderLineRow, ShipmentRow, ShipmentLineRow)


# A placement locks its order and reads it whole twice: these queries are built once, their
# values parameters (built per call, they cost placements more than running them did).
_LOCK_ORDER = (
    select(OrderRow)
    .where(OrderRow.id == bindparam("order_id"))
    .with_for_update()
    # A row read earlier in this unit of work is refreshed, not reused.
    .execution_options(populate_existing=True)
)
_ORDER_LINES = select_in(
    OrderLineRow,
    OrderLineRow.order_id,
    "order_ids",
    col(OrderLineRow.order_id),
    col(OrderLineRow.line_number),
)
_ORDER_SHIPMENTS = select_in(
    ShipmentRow, ShipmentRow.order_id, "order_ids", col(ShipmentRow.location_code)
)
_SHIPMENT_LINES = select_in(
    ShipmentLineRow, ShipmentLineRow.shipment_id, "ids", col(ShipmentLineRow.sku)
)


def routing_to_json(plan: RoutingPlan) -> dict[str, Any]:
    return {
        "algorithm": plan.algorithm,
        "candidates_considered": plan.candidates_considered,
        "explanation": plan.explanation,
        "parcels": [{**asdict(p), "lines": [list(line) for line in p.lines]} for p in plan.parcels],
    }


def routing_from_json(data: dict[str, Any] | None) -> RoutingPlan | None:
    if data is None:
        return None
    parcels = tuple(
        Parcel(**{**p, "lines": tuple((sku, qty) for sku, qty in p["lines"])})
        for p in data["parcels"]
    )
    return RoutingPlan(
        parcels, data["algorithm"], data["candidates_considered"], data["explanation"]
    )


def _address(data: dict[str, Any]) -> Address:
    """Rows written before addresses were placed from packaged data had sent coordinates."""
    placement = AddressPlacement(data.get("placement", AddressPlacement.COORDINATES))
    return Address(**{**data, "placement": placement})


class SqlOrdersStore(SqlStore):
    """The orders' store over their own database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, PRODUCER)
        # The order rows this unit of work has locked, by order id: each is read once.
        self._locked: dict[str, OrderRow] = {}
        # The orders `lock_order` assembled from them, for `allocate` to answer from.
        self._assembled: dict[str, Order] = {}

    async def claim(self, order_id: str, new: NewOrder) -> bool:
        now = utcnow()
        claimed = await insert_ignoring_conflict(
            self.session,
            OrderRow,
            {
                "id": order_id,
                "status": OrderStatus.PLACING.value,
                "channel": new.channel,
                "external_id": new.external_id,
                "email": new.email,
                "ship_to": asdict(new.ship_to),
                "split_policy": new.split_policy.value,
                "placed_by": new.placed_by,
                "placed_at": now,
                "updated_at": now,
            },
        )
        if claimed:
            lines = [
                {
                    "order_id": order_id,
                    "line_number": number,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price_cents": line.unit_price_cents,
                }
                for number, line in enumerate(new.lines)
            ]
            await self._insert(OrderLineRow, lines)
        return claimed

    async def order_by_external_id(self, channel: str, external_id: str) -> Order | None:
        statement = select(OrderRow).where(
            OrderRow.channel == channel, OrderRow.external_id == external_id
        )
        return await self._one((await self.session.exec(statement)).first())

    async def forget_claim(self, order_id: str) -> None:
        await self.session.exec(delete(OrderLineRow).where(col(OrderLineRow.order_id) == order_id))
        await self.session.exec(delete(OrderRow).where(col(OrderRow.id) == order_id))

    async def stale_claims(self, idle_since: datetime) -> list[str]:
        statement = select(OrderRow.id).where(
            OrderRow.status == OrderStatus.PLACING.value, col(OrderRow.updated_at) < idle_since
        )
        return list((await self.session.exec(statement)).all())

    async def lock_order(self, order_id: str) -> Order | None:
        order = await self._one(await self._locked_row(order_id))
        if order is not None:
            self._assembled[order_id] = order
        return order

    async def lock_order_of_shipment(self, shipment_id: str) -> Order | None:
        # Only the order id is read before the lock: it never changes, the shipment's state may.
        statement = select(ShipmentRow.order_id).where(ShipmentRow.id == shipment_id)
        order_id = (await self.session.exec(statement)).first()
        return None if order_id is None else await self.lock_order(order_id)

    async def allocate(
        self, order_id: str, plan: RoutingPlan | None, shipments: Sequence[Shipment]
    ) -> Order:
        row = await self._required_row(order_id)
        row.status = OrderStatus.ALLOCATED.value
        row.routing = routing_to_json(plan) if plan else None
        row.updated_at = utcnow()
        self.session.add(row)
        opened = [
            {
                "id": shipment.id,
                "order_id": order_id,
                "location_code": shipment.location_code,
                "status": shipment.status.value,
                "tracking_number": "",
                "shipped_at": None,
            }
            for shipment in shipments
        ]
        await self._insert(ShipmentRow, opened)
        lines = [
            {"shipment_id": shipment.id, "sku": sku, "quantity": units, "serial_numbers": []}
            for shipment in shipments
            for sku, units in shipment.lines
        ]
        await self._insert(ShipmentLineRow, lines)
        await self.session.flush()
        before = self._assembled.get(order_id)
        if before is None:
            return (await self._assemble([row]))[0]
        # The order as locked, with what was just written: reading it back cost a placement
        # three queries.
        written = [replace(s, lines=tuple(sorted(s.lines))) for s in shipments]
        return replace(
            before,
            status=OrderStatus.ALLOCATED,
            routing=routing_from_json(row.routing),
            # In the order a read gives: shipments by location, their lines by SKU.
            shipments=tuple(sorted((*before.shipments, *written), key=lambda s: s.location_code)),
        )

    async def backorder(
        self, order_id: str, plan: RoutingPlan, expected_at: datetime | None
    ) -> Order:
        row = await self._required_row(order_id)
        row.status = OrderStatus.BACKORDERED.value
        row.routing = routing_to_json(plan)
        row.backorder_expected_at = expected_at
        row.updated_at = utcnow()
        self.session.add(row)
        await self.session.flush()
        return (await self._assemble([row]))[0]

    async def mark_cancelled(self, order_id: str) -> Order:
        row = await self._required_row(order_id)
        row.status = OrderStatus.CANCELLED.value
        row.cancelled_at = row.updated_at = utcnow()
        self.session.add(row)
        for shipment in await self._shipments(order_id):
            shipment.status = ShipmentStatus.CANCELLED.value
            self.session.add(shipment)
        await self.session.flush()
        return (await self._assemble([row]))[0]

    async def mark_shipping(self, shipment_id: str) -> None:
        shipment = await self._required_shipment(shipment_id)
        shipment.status = ShipmentStatus.SHIPPING.value
        self.session.add(shipment)
        await self.session.flush()

    async def mark_shipped(
        self,
        shipment_id: str,
        tracking_number: str,
        serial_numbers: Mapping[str, Sequence[str]],
        order_status: OrderStatus,
    ) -> None:
        shipment = await self._required_shipment(shipment_id)
        shipment.status = ShipmentStatus.SHIPPED.value
        shipment.tracking_number = tracking_number
        shipment.shipped_at = utcnow()
        self.session.add(shipment)
        statement = select(ShipmentLineRow).where(ShipmentLineRow.shipment_id == shipment_id)
        for line in (await self.session.exec(statement)).all():
            line.serial_numbers = list(serial_numbers.get(line.sku, ()))
            self.session.add(line)
        row = await self._required_row(shipment.order_id)
        row.status = order_status.value
        row.updated_at = utcnow()
        if order_status is OrderStatus.SHIPPED:
            row.shipped_at = row.updated_at
        self.session.add(row)
        await self.session.flush()

    async def orders(self, order_ids: Sequence[str]) -> list[Order]:
        statement = select(OrderRow).where(
            col(OrderRow.id).in_(order_ids), col(OrderRow.status).not_in(rules.HIDDEN)
        )
        return await self._assemble(list((await self.session.exec(statement)).all()))

    async def page(
        self,
        first: int,
        before_number: int | None,
        status: OrderStatus | None,
        placed_by: str,
        channels: Sequence[str] | None = None,
    ) -> tuple[list[Order], bool]:
        statement = select(OrderRow).where(col(OrderRow.status).not_in(rules.HIDDEN))
        if channels is not None:
            statement = statement.where(col(OrderRow.channel).in_(channels))
        if before_number is not None:
            statement = statement.where(col(OrderRow.number) < before_number)
        if status is not None:
            statement = statement.where(OrderRow.status == status.value)
        if placed_by:
            statement = statement.where(OrderRow.placed_by == placed_by)
        # One row more than asked tells whether another page follows.
        statement = statement.order_by(col(OrderRow.number).desc()).limit(first + 1)
        rows = list((await self.session.exec(statement)).all())
        return await self._assemble(rows[:first]), len(rows) > first

    async def waiting_orders(self, statuses: Sequence[OrderStatus]) -> tuple[int, datetime | None]:
        statement = select(func.count(), func.min(OrderRow.placed_at)).where(
            col(OrderRow.status).in_([s.value for s in statuses])
        )
        count, oldest = (await self.session.exec(statement)).one()
        if isinstance(oldest, str):  # SQLite aggregates lose the column type
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return int(count), oldest

    async def ship_backlog(self, location_codes: Sequence[str]) -> dict[str, int]:
        if not location_codes:
            return {}
        statement = (
            select(ShipmentRow.location_code, func.count())
            .where(
                col(ShipmentRow.location_code).in_(location_codes),
                col(ShipmentRow.status).in_([s.value for s in rules.UNSHIPPED]),
            )
            .group_by(ShipmentRow.location_code)
        )
        return {code: int(n) for code, n in (await self.session.exec(statement)).all()}

    async def _insert(self, table: type[SQLModel], rows: list[dict[str, Any]]) -> None:
        """Inserts the rows in one Core statement: the ORM's flush of new rows, and building
        their models, cost placements more than the statement does."""
        if rows:
            connection = await self.session.connection()
            await connection.execute(_insert(table), rows)

    async def _locked_row(self, order_id: str) -> OrderRow | None:
        row = (await self.session.exec(_LOCK_ORDER, params={"order_id": order_id})).first()
        if row is not None:
            self._locked[order_id] = row
        return row

    async def _required_row(self, order_id: str) -> OrderRow:
        row = self._locked.get(order_id) or await self._locked_row(order_id)
        if row is None:
            raise LookupError(f"no order {order_id}")
        return row

    async def _required_shipment(self, shipment_id: str) -> ShipmentRow:
        shipment = await self.session.get(ShipmentRow, shipment_id)
        if shipment is None:
            raise LookupError(f"no shipment {shipment_id}")
        return shipment

    async def _shipments(self, order_id: str) -> list[ShipmentRow]:
        statement = select(ShipmentRow).where(ShipmentRow.order_id == order_id)
        return list((await self.session.exec(statement)).all())

    async def _one(self, row: OrderRow | None) -> Order | None:
        return None if row is None else (await self._assemble([row]))[0]

    async def _assemble(self, rows: Sequence[OrderRow]) -> list[Order]:
        """Orders with their lines and shipments in three more queries, whatever the count."""
        ids = [row.id for row in rows]
        if not ids:
            return []
        lines = await self._order_lines(ids)
        shipments = await self._order_shipments(ids)
        return [
            Order(
                id=row.id,
                number=str(row.number),
                status=OrderStatus(row.status),
                channel=row.channel,
                external_id=row.external_id,
                email=row.email,
                ship_to=_address(row.ship_to),
                lines=tuple(lines[row.id]),
                shipments=tuple(shipments[row.id]),
                routing=routing_from_json(row.routing),
                split_policy=SplitPolicy(row.split_policy),
                placed_by=row.placed_by,
                placed_at=row.placed_at,
                shipped_at=row.shipped_at,
                cancelled_at=row.cancelled_at,
                backorder_expected_at=row.backorder_expected_at,
            )
            for row in rows
        ]

    async def _order_lines(self, ids: Sequence[str]) -> dict[str, list[OrderLine]]:
        lines: dict[str, list[OrderLine]] = {i: [] for i in ids}
        for line in (await self.session.exec(_ORDER_LINES, params={"order_ids": ids})).all():
            lines[line.order_id].append(OrderLine(line.sku, line.quantity, line.unit_price_cents))
        return lines

    async def _order_shipments(self, ids: Sequence[str]) -> dict[str, list[Shipment]]:
        found = await self.session.exec(_ORDER_SHIPMENTS, params={"order_ids": ids})
        shipment_rows = found.all()
        lines: dict[str, list[tuple[str, int]]] = {s.id: [] for s in shipment_rows}
        serials: dict[str, dict[str, tuple[str, ...]]] = {s.id: {} for s in shipment_rows}
        if shipment_rows:
            found_lines = await self.session.exec(_SHIPMENT_LINES, params={"ids": list(lines)})
            for item in found_lines.all():
                lines[item.shipment_id].append((item.sku, item.quantity))
                if item.serial_numbers:
                    serials[item.shipment_id][item.sku] = tuple(item.serial_numbers)
        shipments: dict[str, list[Shipment]] = {i: [] for i in ids}
        for s in shipment_rows:
            shipments[s.order_id].append(
                Shipment(
                    s.id,
                    s.location_code,
                    ShipmentStatus(s.status),
                    tuple(lines[s.id]),
                    s.tracking_number,
                    s.shipped_at,
                    serials[s.id],
                )
            )
        return shipments


@functools.cache
def _insert(table: type[SQLModel]) -> Insert:
    """The table's insert, built once: its values go as parameters."""
    return insert(table.__table__)  # type: ignore[attr-defined]  # SQLModel does not declare it
