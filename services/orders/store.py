"""The orders service's tables and the conversions between rows and the domain."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kernel.db import UTCDateTime, utcnow
from services.orders.domain.model import (
    Address,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentStatus,
)
from services.orders.domain.routing import Parcel, RoutingPlan, SplitPolicy


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


class OrderLineRow(SQLModel, table=True):
    __tablename__ = "order_line"

    order_id: str = Field(primary_key=True, foreign_key="orders.id", max_length=36)
    line_number: int = Field(primary_key=True)
    sku: str = Field(max_length=64)
    quantity: int
    unit_price_cents: int


class ShipmentRow(SQLModel, table=True):
    __tablename__ = "shipment"

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


async def load_orders(session: AsyncSession, rows: list[OrderRow]) -> list[Order]:
    """Assembles orders with their lines and shipments in three queries, whatever the count."""
    ids = [row.id for row in rows]
    if not ids:
        return []
    lines: dict[str, list[OrderLine]] = {i: [] for i in ids}
    for line in (
        await session.exec(
            select(OrderLineRow)
            .where(col(OrderLineRow.order_id).in_(ids))
            .order_by(col(OrderLineRow.order_id), col(OrderLineRow.line_number))
        )
    ).all():
        lines[line.order_id].append(OrderLine(line.sku, line.quantity, line.unit_price_cents))
    shipment_rows = (
        await session.exec(
            select(ShipmentRow)
            .where(col(ShipmentRow.order_id).in_(ids))
            .order_by(col(ShipmentRow.location_code))
        )
    ).all()
    shipment_lines: dict[str, list[tuple[str, int]]] = {s.id: [] for s in shipment_rows}
    serials: dict[str, dict[str, tuple[str, ...]]] = {s.id: {} for s in shipment_rows}
    if shipment_rows:
        for item in (
            await session.exec(
                select(ShipmentLineRow)
                .where(col(ShipmentLineRow.shipment_id).in_(list(shipment_lines)))
                .order_by(col(ShipmentLineRow.sku))
            )
        ).all():
            shipment_lines[item.shipment_id].append((item.sku, item.quantity))
            if item.serial_numbers:
                serials[item.shipment_id][item.sku] = tuple(item.serial_numbers)
    shipments: dict[str, list[Shipment]] = {i: [] for i in ids}
    for s in shipment_rows:
        shipments[s.order_id].append(
            Shipment(
                s.id,
                s.location_code,
                ShipmentStatus(s.status),
                tuple(shipment_lines[s.id]),
                s.tracking_number,
                s.shipped_at,
                serials[s.id],
            )
        )
    return [
        Order(
            id=row.id,
            number=str(row.number),
            status=OrderStatus(row.status),
            channel=row.channel,
            external_id=row.external_id,
            email=row.email,
            ship_to=Address(**row.ship_to),
            lines=tuple(lines[row.id]),
            shipments=tuple(shipments[row.id]),
            routing=routing_from_json(row.routing),
            split_policy=SplitPolicy(row.split_policy),
            placed_by=row.placed_by,
            placed_at=row.placed_at,
            shipped_at=row.shipped_at,
            cancelled_at=row.cancelled_at,
        )
        for row in rows
    ]
