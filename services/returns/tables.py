"""The returns service's tables: returns, their requested lines, inspected units and refunds
(no other service's data). Schema migrations are written against these definitions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Integer
from sqlmodel import Field, SQLModel

from services.kernel.db import UTCDateTime, utcnow

# Money that may outgrow 32 bits: BIGINT on PostgreSQL; SQLite's INTEGER holds 64 bits already.
MONEY = BigInteger().with_variant(Integer(), "sqlite")


class ReturnRow(SQLModel, table=True):
    __tablename__ = "returns"
    __table_args__ = (
        Index("ix_returns_queue", "status", "destination_code", "received_at"),
        Index("ix_returns_requested_at", "requested_at"),
        # The list of returns, newest first, of one hub or in one status (revision 0005).
        Index("ix_returns_destination_requested", "destination_code", "requested_at", "id"),
        Index("ix_returns_status_requested", "status", "requested_at", "id"),
        # One return per order and idempotency key (revision 0002); returns without a key
        # (NULL) never collide.
        Index("one_return_per_key", "order_id", "idempotency_key", unique=True),
        # One return per platform return id (revision 0003).
        Index("one_return_per_platform_id", "platform_code", "platform_return_id", unique=True),
    )

    id: str = Field(primary_key=True, max_length=36)
    order_id: str = Field(index=True, max_length=36)
    placed_by: str = Field(default="", max_length=128)
    status: str = Field(max_length=32)
    destination_code: str = Field(max_length=64)
    destination_kind: str = Field(max_length=32)
    # 64-bit (revision 0002): labour per unit times the units of a large return.
    estimated_cost_cents: int = Field(sa_type=MONEY)
    centralized_cost_cents: int = Field(sa_type=MONEY)
    customer_latitude: float
    customer_longitude: float
    fraud_flags: list[str] = Field(default_factory=list, sa_type=JSON)
    notes: str = Field(default="", max_length=2000)
    measured_weight_grams: int | None = None
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    inspected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    idempotency_key: str | None = Field(default=None, max_length=128)
    # The destination's daily inspection capacity when routed, and the hours it expected then.
    destination_capacity: int | None = None
    expected_inspection_hours: float | None = None
    # Revision 0003: the returns platform connection that started it, the platform's return id
    # and the label's carrier tracking number (None / "" for a return requested here).
    platform_code: str | None = Field(default=None, max_length=64)
    platform_return_id: str | None = Field(default=None, max_length=128)
    tracking_number: str = Field(
        default="", max_length=128, sa_column_kwargs={"server_default": ""}
    )


class ReturnLineRow(SQLModel, table=True):
    """A requested line, with what the order shipped of its SKU as of the request: inspection
    checks the parcel against this snapshot and needs no other service."""

    __tablename__ = "return_line"
    __table_args__ = (CheckConstraint("quantity >= 1", name="return_line_quantity_positive"),)

    return_id: str = Field(primary_key=True, foreign_key="returns.id", max_length=36)
    line_number: int = Field(primary_key=True)
    sku: str = Field(max_length=64)
    quantity: int
    reason: str = Field(max_length=32)
    unit_price_cents: int
    unit_weight_grams: int
    serialized: bool
    shipped_quantity: int
    shipped_serials: list[str] = Field(default_factory=list, sa_type=JSON)


class InspectedUnitRow(SQLModel, table=True):
    __tablename__ = "inspected_unit"

    return_id: str = Field(primary_key=True, foreign_key="returns.id", max_length=36)
    unit_number: int = Field(primary_key=True)
    # The requested line the unit answers; None for a unit never asked for.
    line_number: int | None = None
    sku: str = Field(max_length=64)
    grade: str = Field(max_length=32)
    serial_number: str = Field(default="", max_length=128)
    # Empty on a rejected return: nothing is disposed of.
    disposition: str = Field(default="", max_length=32)
    settled: bool = False
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RefundRow(SQLModel, table=True):
    """One refund per return; the ledger of what was paid back. `next_attempt_at` is both the
    retry schedule and the lease of an attempt in flight (None: not retried automatically)."""

    __tablename__ = "refund"
    __table_args__ = (
        CheckConstraint("amount_cents >= 0", name="refund_amount_not_negative"),
        Index("ix_refund_due", "status", "next_attempt_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    return_id: str = Field(unique=True, foreign_key="returns.id", max_length=36)
    order_id: str = Field(max_length=36)
    # 64-bit (revision 0002): the paid price of every unit of a large return.
    amount_cents: int = Field(sa_type=MONEY)
    currency: str = Field(max_length=3)
    provider: str = Field(max_length=32)
    status: str = Field(max_length=32)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    issued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReturnsPlatformRow(SQLModel, table=True):
    """A returns platform account (revision 0003); the secret and token are never read back
    out of the service."""

    __tablename__ = "returns_platform"

    code: str = Field(primary_key=True, max_length=64)
    platform: str = Field(max_length=32)
    channel: str = Field(max_length=64)
    webhook_secret: str = Field(max_length=200)
    api_base_url: str = Field(max_length=500)
    access_token: str = Field(max_length=500)
    connected_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PlatformUpdateRow(SQLModel, table=True):
    """What a platform told us about a return, and what we owe it or told it (revision 0003):
    an OUT row is written PENDING in the unit of work of the return's change (an outbox), and
    the notifier sends it with retries; `next_attempt_at` is its schedule and its lease. An
    inbound return we could not map is kept here PARKED, without a return. One row per
    connection and `key`, so a redelivery or a second attempt records nothing twice."""

    __tablename__ = "platform_update"
    __table_args__ = (
        Index("one_platform_update_per_key", "connection_code", "key", unique=True),
        Index("ix_platform_update_due", "status", "next_attempt_at"),
        Index("ix_platform_update_return", "return_id"),
    )

    id: str = Field(primary_key=True, max_length=36)
    connection_code: str = Field(max_length=64)
    key: str = Field(max_length=200)
    return_id: str | None = Field(default=None, max_length=36)
    platform_return_id: str = Field(default="", max_length=128)
    direction: str = Field(max_length=8)
    kind: str = Field(max_length=64)
    status: str = Field(max_length=16)
    detail: str = Field(default="", max_length=500)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=500)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


TABLES: tuple[type[SQLModel], ...] = (
    ReturnRow,
    ReturnLineRow,
    InspectedUnitRow,
    RefundRow,
    ReturnsPlatformRow,
    PlatformUpdateRow,
)
