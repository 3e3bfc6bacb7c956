"""The tables and queries of the outbound side: SKUs whose availability a channel is owed, the
channels owed their whole catalogue, when each channel was last pushed to, and the fulfillments
owed to Shopify and Amazon (no other service's data).

A pending push is one row per (channel, SKU) with a version that every change bumps: a burst of
changes leaves one row, and the worker clears a row only at the version it pushed, so a change
that lands while a push is on its way is pushed again."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Index, and_, delete, func, or_, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.channels.domain.model import ChannelFulfillment, FulfillmentStatus
from services.channels.platform_errors import MAX_REASON
from services.kernel.bounds import MAX_LINES
from services.kernel.db import UTCDateTime, dialect_insert, insert_ignoring_conflict, utcnow

# The most SKUs one push asks inventory and Shopify about (Shopify takes 250 per mutation).
PUSH_BATCH = 250
FULFILLMENT_BATCH = 50
# The failed fulfillments a channel's status lists (all of them are counted).
FAILED_SHOWN = 20
# A shipment's lines as JSON: at most MAX_LINES SKUs of 64 characters and their quantities.
MAX_LINES_JSON = MAX_LINES * 96


class PendingPushRow(SQLModel, table=True):
    __tablename__ = "pending_push"

    channel_code: str = Field(primary_key=True, max_length=64)
    sku: str = Field(primary_key=True, max_length=64)
    version: int = 1
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ResyncOwedRow(SQLModel, table=True):
    """A channel owed its whole catalogue again (its safety stock or backorder rule changed in
    inventory): one row per channel, its version bumped by every further change, so a change
    that lands while a resync is on its way is resynced again."""

    __tablename__ = "channel_resync_owed"

    channel_code: str = Field(primary_key=True, max_length=64)
    version: int = 1


class AvailabilitySyncRow(SQLModel, table=True):
    __tablename__ = "availability_sync"

    channel_code: str = Field(primary_key=True, max_length=64)
    last_pushed_at: datetime = Field(sa_type=UTCDateTime)


class FulfillmentRow(SQLModel, table=True):
    __tablename__ = "channel_fulfillment"
    __table_args__ = (Index("ix_channel_fulfillment_created", "created", "next_attempt_at"),)

    shipment_id: str = Field(primary_key=True, max_length=36)
    channel_code: str = Field(max_length=64)
    external_order_id: str = Field(max_length=64)
    tracking_number: str = Field(default="", max_length=128)
    # Units by SKU as JSON, and when the shipment was owed: what Amazon is told.
    lines: str = Field(default="{}", max_length=MAX_LINES_JSON)
    shipped_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created: bool = False
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The platform's reason when it refused the shipment for good (FAILED): not sent again until
    # the back office retries it, which clears this.
    failure: str | None = Field(default=None, max_length=MAX_REASON)


PUSH_TABLES: tuple[type[SQLModel], ...] = (
    PendingPushRow,
    ResyncOwedRow,
    AvailabilitySyncRow,
    FulfillmentRow,
)


async def owe_resync(session: AsyncSession, channel_code: str) -> None:
    values = {"channel_code": channel_code, "version": 1}
    if not await insert_ignoring_conflict(session, ResyncOwedRow, values):
        await session.exec(
            update(ResyncOwedRow)
            .where(col(ResyncOwedRow.channel_code) == channel_code)
            .values(version=ResyncOwedRow.version + 1)
        )


async def resyncs_owed(session: AsyncSession) -> dict[str, int]:
    """Channel -> version of the resync it is owed."""
    rows = (await session.exec(select(ResyncOwedRow).limit(PUSH_BATCH))).all()
    return {row.channel_code: row.version for row in rows}


async def clear_resync(session: AsyncSession, channel_code: str, version: int) -> None:
    """Only at the version resynced: a change since then leaves the row owed."""
    await session.exec(
        delete(ResyncOwedRow).where(
            col(ResyncOwedRow.channel_code) == channel_code,
            col(ResyncOwedRow.version) == version,
        )
    )


async def mark_pending(session: AsyncSession, channel_code: str, skus: Sequence[str]) -> None:
    """The channel is owed these SKUs' availability: new rows, or a bumped version."""
    if not skus:
        return
    now = utcnow()
    rows = [
        {"channel_code": channel_code, "sku": sku, "version": 1, "changed_at": now}
        for sku in dict.fromkeys(skus)  # once each: a statement may not update a row twice
    ]
    connection = await session.connection()
    await connection.execute(_mark_pending(connection.dialect.name), rows)


@functools.cache
def _mark_pending(dialect: str) -> Any:
    """One upsert per SKU, built once per dialect (an insert, then an update when it was there,
    cost two statements a SKU on every stock change)."""
    statement = dialect_insert(dialect)(PendingPushRow.__table__)  # type: ignore[attr-defined]
    table, proposed = statement.table, statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[table.c.channel_code, table.c.sku],
        set_={"version": table.c.version + 1, "changed_at": proposed.changed_at},
    )


async def pending(session: AsyncSession, channel_code: str) -> dict[str, int]:
    """Up to a batch of the channel's owed SKUs, oldest change first: SKU -> version."""
    statement = (
        select(PendingPushRow.sku, PendingPushRow.version)
        .where(PendingPushRow.channel_code == channel_code)
        .order_by(col(PendingPushRow.changed_at))
        .limit(PUSH_BATCH)
    )
    return dict((await session.exec(statement)).all())


async def channels_owed(session: AsyncSession) -> list[str]:
    statement = select(PendingPushRow.channel_code).distinct()
    return list((await session.exec(statement)).all())


async def clear_pushed(session: AsyncSession, channel_code: str, pushed: dict[str, int]) -> None:
    """Clears the rows still at the version pushed, and notes the sync's time."""
    if pushed:
        matches = [
            and_(col(PendingPushRow.sku) == sku, col(PendingPushRow.version) == version)
            for sku, version in pushed.items()
        ]
        await session.exec(
            delete(PendingPushRow).where(
                col(PendingPushRow.channel_code) == channel_code, or_(*matches)
            )
        )
    row = await session.get(AvailabilitySyncRow, channel_code, with_for_update=True)
    row = row or AvailabilitySyncRow(channel_code=channel_code, last_pushed_at=utcnow())
    row.last_pushed_at = utcnow()
    session.add(row)


async def push_status(session: AsyncSession, channel_code: str) -> tuple[int, datetime | None]:
    """(SKUs owed to the channel, the last successful push)."""
    count = (
        await session.exec(select(func.count()).where(PendingPushRow.channel_code == channel_code))
    ).one()
    synced = await session.get(AvailabilitySyncRow, channel_code)
    return count, synced.last_pushed_at if synced else None


async def owe_fulfillment(
    session: AsyncSession,
    shipment_id: str,
    channel_code: str,
    external_order_id: str,
    tracking_number: str,
    lines: Mapping[str, int],
) -> bool:
    """Records the fulfillment owed for a shipment, once; False when it was recorded before."""
    values: dict[str, object] = {
        "shipment_id": shipment_id,
        "channel_code": channel_code,
        "external_order_id": external_order_id,
        "tracking_number": tracking_number,
        "lines": json.dumps(dict(lines)),
        "shipped_at": utcnow(),
        "created": False,
        "attempts": 0,
        "next_attempt_at": utcnow(),
    }
    return await insert_ignoring_conflict(session, FulfillmentRow, values)


def shipped_lines(row: FulfillmentRow) -> dict[str, int]:
    lines: dict[str, int] = json.loads(row.lines)
    return lines


async def fulfillments_due(session: AsyncSession) -> list[FulfillmentRow]:
    statement = (
        select(FulfillmentRow)
        .where(
            col(FulfillmentRow.created).is_(False),
            col(FulfillmentRow.failure).is_(None),
            FulfillmentRow.next_attempt_at <= utcnow(),
        )
        .order_by(col(FulfillmentRow.next_attempt_at))
        .limit(FULFILLMENT_BATCH)
    )
    return list((await session.exec(statement)).all())


async def fulfillment_outcome(
    session: AsyncSession,
    shipment_id: str,
    created: bool,
    retry_at: datetime,
    failure: str | None = None,
) -> None:
    """One attempt's outcome: taken, to be tried again at `retry_at`, or refused for good."""
    row = await session.get(FulfillmentRow, shipment_id, with_for_update=True)
    assert row is not None, shipment_id  # never deleted
    row.created = row.created or created
    row.failure = None if row.created else failure
    row.attempts += 1
    row.next_attempt_at = retry_at
    session.add(row)


def fulfillment_of(row: FulfillmentRow) -> ChannelFulfillment:
    status = (
        FulfillmentStatus.CREATED
        if row.created
        else FulfillmentStatus.FAILED
        if row.failure is not None
        else FulfillmentStatus.PENDING
    )
    return ChannelFulfillment(
        row.shipment_id,
        row.channel_code,
        row.external_order_id,
        row.tracking_number,
        status,
        row.attempts,
        row.failure or "",
    )


async def failed_fulfillments(
    session: AsyncSession, channel_code: str
) -> tuple[int, list[ChannelFulfillment]]:
    """How many of the channel's shipments its platform refused for good, and the oldest few."""
    failed = (
        FulfillmentRow.channel_code == channel_code,
        col(FulfillmentRow.created).is_(False),
        col(FulfillmentRow.failure).is_not(None),
    )
    count = (await session.exec(select(func.count()).where(*failed))).one()
    oldest = select(FulfillmentRow).where(*failed).order_by(col(FulfillmentRow.next_attempt_at))
    rows = (await session.exec(oldest.limit(FAILED_SHOWN))).all()
    return count, [fulfillment_of(row) for row in rows]


async def locked_fulfillment(session: AsyncSession, shipment_id: str) -> FulfillmentRow | None:
    return await session.get(FulfillmentRow, shipment_id, with_for_update=True)


def send_again(session: AsyncSession, row: FulfillmentRow) -> None:
    """A failed fulfillment is pending again, due now."""
    row.failure = None
    row.next_attempt_at = utcnow()
    session.add(row)
