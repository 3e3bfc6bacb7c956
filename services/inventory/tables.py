"""The inventory service's tables (no other service's data); only its SQL store touches them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index
from sqlmodel import Field, SQLModel

from services.inventory.domain.model import (
    Discrepancy,
    DiscrepancyStatus,
    Location,
    LocationKind,
    ReservationStatus,
    Sku,
    StockDelta,
    StockLevel,
)
from services.kernel.db import UTCDateTime, utcnow


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
    # None: no limit (revision 0002).
    daily_ship_capacity: int | None = None
    daily_inspection_capacity: int | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def to_domain(self) -> Location:
        return Location(
            **self.model_dump(exclude={"updated_at"}) | {"kind": LocationKind(self.kind)}
        )


class SkuRow(SQLModel, table=True):
    __tablename__ = "sku"

    code: str = Field(primary_key=True, max_length=64)
    title: str = Field(max_length=200)
    unit_cost_cents: int
    weight_grams: int
    serialized: bool = False
    made_from_sku: str | None = Field(default=None, max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def to_domain(self) -> Sku:
        return Sku(
            code=self.code,
            title=self.title,
            unit_cost_cents=self.unit_cost_cents,
            weight_grams=self.weight_grams,
            serialized=self.serialized,
            made_from_sku=self.made_from_sku or "",
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
        CheckConstraint("promised >= 0", name="promised_not_negative"),
        # A location's levels by SKU, a page at a time (revision 0009).
        Index("ix_stock_level_location_sku", "location_code", "sku"),
    )

    sku: str = Field(primary_key=True, max_length=64)
    location_code: str = Field(primary_key=True, max_length=64)
    on_hand: int = 0
    reserved: int = 0
    in_transit: int = 0
    pending_inspection: int = 0
    in_repair: int = 0
    # Backorders' units of in transit (revision 0005).
    promised: int = 0
    # Held back from sale by a count's open discrepancy (revision 0006).
    on_hold: bool = False
    # One more with every update of the row, published with each change (revision 0007).
    version: int = Field(default=0, sa_type=BigInteger)

    def to_domain(self) -> StockLevel:
        return StockLevel(
            sku=self.sku,
            location_code=self.location_code,
            on_hand=self.on_hand,
            reserved=self.reserved,
            in_transit=self.in_transit,
            pending_inspection=self.pending_inspection,
            in_repair=self.in_repair,
            promised=self.promised,
            on_hold=self.on_hold,
            version=self.version,
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
    promised_delta: int = 0
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
            promised=self.promised_delta,
        )


class StockAdjustmentRow(SQLModel, table=True):
    """An adjustment made under an idempotency key: its primary key makes the key claimable
    once (revision 0003)."""

    __tablename__ = "stock_adjustment"

    key: str = Field(primary_key=True, max_length=128)
    sku: str = Field(max_length=64)
    location_code: str = Field(max_length=64)
    delta: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


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
    # Of a HELD line's quantity, the units still promised against purchase orders (revision
    # 0005): a receipt turns them into held units.
    promised: int = 0


class ChannelRow(SQLModel, table=True):
    __tablename__ = "channel"

    code: str = Field(primary_key=True, max_length=64)
    default_safety_stock: int = 0
    allow_backorders: bool = False


class ChannelSafetyStockRow(SQLModel, table=True):
    __tablename__ = "channel_safety_stock"

    channel: str = Field(primary_key=True, foreign_key="channel.code", max_length=64)
    sku: str = Field(primary_key=True, max_length=64)
    units: int


class SupplyRow(SQLModel, table=True):
    """A purchase order line's units still to come to its location, and when (revision 0005)."""

    __tablename__ = "supply"
    __table_args__ = (Index("ix_supply_level", "sku", "location_code"),)

    purchase_order_id: str = Field(primary_key=True, max_length=36)
    sku: str = Field(primary_key=True, max_length=64)
    location_code: str = Field(max_length=64)
    units: int
    expected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StockDiscrepancyRow(SQLModel, table=True):
    """A SKU a count found different from our on hand at a location (revision 0006); at most
    one OPEN per level, which the reconciling unit of work keeps under the level's row lock."""

    __tablename__ = "stock_discrepancy"
    __table_args__ = (
        Index("ix_stock_discrepancy_level", "sku", "location_code", "status"),
        Index("ix_stock_discrepancy_location", "location_code", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64)
    location_code: str = Field(max_length=64)
    ours: int
    theirs: int
    difference: int
    value_cents: int = Field(sa_type=BigInteger)
    source: str = Field(max_length=64)
    counted_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(max_length=16)
    holds: bool = False
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def to_domain(self) -> Discrepancy:
        return Discrepancy(
            **self.model_dump(exclude={"id", "status"}),
            id=self.id or 0,
            status=DiscrepancyStatus(self.status),
        )


class StockImportRecordRow(SQLModel, table=True):
    """A bulk stock import made under an idempotency key, with what it did: its primary key
    makes the key claimable once (revision 0008)."""

    __tablename__ = "stock_import"

    key: str = Field(primary_key=True, max_length=128)
    rows: int = 0
    levels_changed: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


TABLES: tuple[type[SQLModel], ...] = (
    LocationRow,
    SkuRow,
    StockLevelRow,
    StockMovementRow,
    StockAdjustmentRow,
    ReservationRow,
    ReservationLineRow,
    ChannelRow,
    ChannelSafetyStockRow,
    SupplyRow,
    StockDiscrepancyRow,
    StockImportRecordRow,
)
