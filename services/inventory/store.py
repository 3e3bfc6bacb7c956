"""The inventory service's tables and the queries that touch them (no other service's data)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.inventory.domain.model import (
    Location,
    LocationKind,
    ReservationStatus,
    Sku,
    StockDelta,
    StockLevel,
)
from services.kernel.db import UTCDateTime, utcnow
from services.kernel.unit_of_work import SqlStore


class LocationRow(SQLModel, table=True):
    __tablename__ = "location"

    id: str = Field(primary_key=True, max_length=36)
    code: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    latitude: float
    longitude: float
    ships_orders: bool
    accepts_returns: bool
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def to_domain(self) -> Location:
        return Location(
            id=self.id,
            code=self.code,
            name=self.name,
            kind=LocationKind(self.kind),
            latitude=self.latitude,
            longitude=self.longitude,
            ships_orders=self.ships_orders,
            accepts_returns=self.accepts_returns,
        )


class SkuRow(SQLModel, table=True):
    __tablename__ = "sku"

    code: str = Field(primary_key=True, max_length=64)
    title: str = Field(max_length=200)
    unit_cost_cents: int
    weight_grams: int
    serialized: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def to_domain(self) -> Sku:
        return Sku(
            code=self.code,
            title=self.title,
            unit_cost_cents=self.unit_cost_cents,
            weight_grams=self.weight_grams,
            serialized=self.serialized,
        )


class StockLevelRow(SQLModel, table=True):
    """Current units per SKU and location; the checks make an oversell impossible to commit."""

    __tablename__ = "stock_level"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
        CheckConstraint(
            "in_transit >= 0 AND pending_inspection >= 0 AND in_repair >= 0",
            name="states_not_negative",
        ),
    )

    sku: str = Field(primary_key=True, max_length=64)
    location_code: str = Field(primary_key=True, max_length=64)
    on_hand: int = 0
    reserved: int = 0
    in_transit: int = 0
    pending_inspection: int = 0
    in_repair: int = 0

    def to_domain(self) -> StockLevel:
        return StockLevel(
            sku=self.sku,
            location_code=self.location_code,
            on_hand=self.on_hand,
            reserved=self.reserved,
            in_transit=self.in_transit,
            pending_inspection=self.pending_inspection,
            in_repair=self.in_repair,
        )


class StockMovementRow(SQLModel, table=True):
    """The append-only ledger: every change to a level, with its reason and source."""

    __tablename__ = "stock_movement"
    __table_args__ = (Index("ix_stock_movement_level", "sku", "location_code", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64)
    location_code: str = Field(max_length=64)
    on_hand_delta: int = 0
    reserved_delta: int = 0
    in_transit_delta: int = 0
    pending_inspection_delta: int = 0
    in_repair_delta: int = 0
    reason: str = Field(max_length=200)
    source_type: str = Field(max_length=32)
    source_id: str = Field(max_length=100)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def delta(self) -> StockDelta:
        return StockDelta(
            on_hand=self.on_hand_delta,
            reserved=self.reserved_delta,
            in_transit=self.in_transit_delta,
            pending_inspection=self.pending_inspection_delta,
            in_repair=self.in_repair_delta,
        )


class ReservationRow(SQLModel, table=True):
    """One holder's claim (an order, a work order). Its primary key makes a claim unique."""

    __tablename__ = "reservation"

    key: str = Field(primary_key=True, max_length=100)
    holder_type: str = Field(max_length=32)
    status: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReservationLineRow(SQLModel, table=True):
    __tablename__ = "reservation_line"

    key: str = Field(primary_key=True, foreign_key="reservation.key", max_length=100)
    sku: str = Field(primary_key=True, max_length=64)
    location_code: str = Field(primary_key=True, max_length=64)
    quantity: int
    status: str = Field(default=ReservationStatus.HELD.value, max_length=32)


class ChannelRow(SQLModel, table=True):
    __tablename__ = "channel"

    code: str = Field(primary_key=True, max_length=64)
    default_safety_stock: int = 0


class ChannelSafetyStockRow(SQLModel, table=True):
    __tablename__ = "channel_safety_stock"

    channel: str = Field(primary_key=True, foreign_key="channel.code", max_length=64)
    sku: str = Field(primary_key=True, max_length=64)
    units: int


TABLES: tuple[type[SQLModel], ...] = (
    LocationRow,
    SkuRow,
    StockLevelRow,
    StockMovementRow,
    ReservationRow,
    ReservationLineRow,
    ChannelRow,
    ChannelSafetyStockRow,
)


class SqlInventoryStore(SqlStore):
    """The inventory's store over its own database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, "inventory")


async def ensure_stock_level(session: AsyncSession, sku: str, location_code: str) -> None:
    """Creates the level row at zero if missing, without racing a concurrent creator."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(StockLevelRow)
        .values(sku=sku, location_code=location_code)
        .on_conflict_do_nothing(index_elements=["sku", "location_code"])
    )
    await session.exec(statement)  # type: ignore[call-overload]


async def apply_delta_atomically(
    session: AsyncSession, sku: str, location_code: str, delta: StockDelta
) -> StockLevel | None:
    """Applies `delta` in one conditional UPDATE; None when the level would break an invariant.

    The condition is evaluated on the row as it is when the update takes its lock
    (PostgreSQL re-checks it after waiting; SQLite has one writer at a time), so a read of
    "enough units" can never go stale between the check and the write.
    """
    t = StockLevelRow
    new_on_hand = col(t.on_hand) + delta.on_hand
    new_reserved = col(t.reserved) + delta.reserved
    statement = (
        update(t)
        .where(
            col(t.sku) == sku,
            col(t.location_code) == location_code,
            new_on_hand >= 0,
            new_reserved >= 0,
            new_reserved <= new_on_hand,
            col(t.in_transit) + delta.in_transit >= 0,
            col(t.pending_inspection) + delta.pending_inspection >= 0,
            col(t.in_repair) + delta.in_repair >= 0,
        )
        .values(
            on_hand=new_on_hand,
            reserved=new_reserved,
            in_transit=col(t.in_transit) + delta.in_transit,
            pending_inspection=col(t.pending_inspection) + delta.pending_inspection,
            in_repair=col(t.in_repair) + delta.in_repair,
        )
        .returning(
            t.on_hand,
            t.reserved,
            t.in_transit,
            t.pending_inspection,
            t.in_repair,  # type: ignore[arg-type]
        )
    )
    row = (await session.exec(statement)).first()  # type: ignore[call-overload]
    if row is None:
        return None
    return StockLevel(sku, location_code, *row)


async def sellable_units(session: AsyncSession, skus: Sequence[str]) -> dict[str, int]:
    """Available units per SKU summed over the locations that ship orders."""
    level, location = StockLevelRow, LocationRow
    statement = (
        select(level.sku, func.sum(col(level.on_hand) - col(level.reserved)))
        .join(location, col(location.code) == col(level.location_code))
        .where(col(level.sku).in_(skus), col(location.ships_orders).is_(True))
        .group_by(col(level.sku))
    )
    return {sku: int(units) for sku, units in (await session.exec(statement)).all()}


async def sourcing_rows(
    session: AsyncSession, skus: Sequence[str]
) -> list[tuple[LocationRow, str, int]]:
    """(location, sku, available) for every shipping location with units of the SKUs."""
    level, location = StockLevelRow, LocationRow
    available = col(level.on_hand) - col(level.reserved)
    statement = (
        select(location, level.sku, available)
        .join(level, col(location.code) == col(level.location_code))
        .where(col(level.sku).in_(skus), col(location.ships_orders).is_(True), available > 0)
        .order_by(col(location.code), col(level.sku))
    )
    return [(row, sku, int(units)) for row, sku, units in (await session.exec(statement)).all()]
