"""The tables and queries of the third-party warehouse nodes (ShipBob): each node's connection,
its last inventory pull, the orders owed to it per shipment and each shipment's status history
at the node (no other service's data).

An owed order is one row per shipment, inserted once in the unit of work that consumes the
OrderPlaced that routed it there; the worker moves it to CREATED, FAILED or (by the webhook)
SHIPPED. A history entry is keyed by (shipment, status), so a retry or a redelivery adds none."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Index, delete, func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.channels.domain.shipbob import NewNode, Node, NodeOrderStatus
from services.channels.push_store import MAX_LINES_JSON
from services.kernel.db import UTCDateTime, insert_ignoring_conflict, utcnow

ORDER_BATCH = 50
# What the back office sees of one node: its failures and its last pull, capped.
MAX_FAILURES_SHOWN = 50
MAX_LEVELS_SHOWN = 500
MAX_REASON = 500


class FulfillmentNodeRow(SQLModel, table=True):
    __tablename__ = "fulfillment_node"

    location_code: str = Field(primary_key=True, max_length=64)
    shipbob_channel_id: str = Field(max_length=20)
    fulfillment_center_id: str = Field(max_length=20)
    # Kept to call ShipBob and verify its webhooks; never returned by any RPC.
    api_token: str = Field(default="", max_length=255)
    webhook_secret: str = Field(default="", max_length=255)
    api_base_url: str = Field(default="", max_length=255)
    connected_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_pulled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NodeLevelRow(SQLModel, table=True):
    """The node's last pull: on-hand units by SKU at its fulfillment centre."""

    __tablename__ = "fulfillment_node_level"

    location_code: str = Field(primary_key=True, max_length=64)
    sku: str = Field(primary_key=True, max_length=64)
    on_hand: int


class NodeOrderRow(SQLModel, table=True):
    __tablename__ = "fulfillment_node_order"
    __table_args__ = (Index("ix_fulfillment_node_order_due", "status", "next_attempt_at"),)

    shipment_id: str = Field(primary_key=True, max_length=36)
    location_code: str = Field(max_length=64)
    order_id: str = Field(max_length=36)
    order_number: str = Field(default="", max_length=64)
    lines: str = Field(default="{}", max_length=MAX_LINES_JSON)
    status: str = Field(max_length=16)
    reason: str = Field(default="", max_length=MAX_REASON)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    carrier: str = Field(default="", max_length=64)
    tracking_number: str = Field(default="", max_length=128)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NodeOrderHistoryRow(SQLModel, table=True):
    __tablename__ = "fulfillment_node_history"

    shipment_id: str = Field(primary_key=True, max_length=36)
    status: str = Field(primary_key=True, max_length=16)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    detail: str = Field(default="", max_length=MAX_REASON)


NODE_TABLES: tuple[type[SQLModel], ...] = (
    FulfillmentNodeRow,
    NodeLevelRow,
    NodeOrderRow,
    NodeOrderHistoryRow,
)


def _node(row: FulfillmentNodeRow) -> Node:
    return Node(
        row.location_code,
        row.shipbob_channel_id,
        row.fulfillment_center_id,
        row.api_token,
        row.webhook_secret,
        row.api_base_url,
        row.connected_at,
    )


async def connect(session: AsyncSession, new: NewNode) -> Node:
    """Creates or updates the node by location code; a secret left out keeps the stored one."""
    row = await session.get(FulfillmentNodeRow, new.location_code, with_for_update=True)
    row = row or FulfillmentNodeRow(
        location_code=new.location_code,
        shipbob_channel_id=new.shipbob_channel_id,
        fulfillment_center_id=new.fulfillment_center_id,
    )
    row.shipbob_channel_id = new.shipbob_channel_id
    row.fulfillment_center_id = new.fulfillment_center_id
    for name in ("api_token", "webhook_secret", "api_base_url"):
        given = getattr(new, name)
        if given is not None:
            setattr(row, name, given)
    session.add(row)
    await session.flush()
    return _node(row)


async def node(session: AsyncSession, location_code: str) -> Node | None:
    row = await session.get(FulfillmentNodeRow, location_code)
    return _node(row) if row else None


async def nodes(session: AsyncSession) -> list[Node]:
    """Every connected node by location code (a handful: one per 3PL account and centre)."""
    statement = select(FulfillmentNodeRow).order_by(col(FulfillmentNodeRow.location_code))
    return [_node(row) for row in (await session.exec(statement.limit(200))).all()]


async def owe_order(
    session: AsyncSession,
    shipment_id: str,
    location_code: str,
    order_id: str,
    order_number: str,
    lines: Mapping[str, int],
) -> bool:
    """Records the order owed to the node for a shipment, once; False when recorded before."""
    values: dict[str, object] = {
        "shipment_id": shipment_id,
        "location_code": location_code,
        "order_id": order_id,
        "order_number": order_number[:64],
        "lines": json.dumps(dict(lines)),
        "status": NodeOrderStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "updated_at": utcnow(),
    }
    return await insert_ignoring_conflict(session, NodeOrderRow, values)


async def owe_cancellation(session: AsyncSession, order_id: str) -> None:
    """The order was cancelled here: each of its shipments ShipBob has, or may have (one still
    PENDING may be on its way there right now), is owed a cancellation. Shipped, failed and
    cancelled ones are left as they are."""
    statement = select(NodeOrderRow).where(
        NodeOrderRow.order_id == order_id,
        col(NodeOrderRow.status).in_(
            [NodeOrderStatus.PENDING.value, NodeOrderStatus.CREATED.value]
        ),
    )
    for row in (await session.exec(statement.with_for_update())).all():
        row.status, row.reason, row.attempts = NodeOrderStatus.CANCELLING.value, "", 0
        row.next_attempt_at = row.updated_at = utcnow()
        session.add(row)
        await note(session, row.shipment_id, NodeOrderStatus.CANCELLING, "cancelled here")


async def orders_due(
    session: AsyncSession, status: NodeOrderStatus = NodeOrderStatus.PENDING
) -> list[NodeOrderRow]:
    """Rows in `status` due another attempt: orders to create (PENDING) or to cancel."""
    statement = (
        select(NodeOrderRow)
        .where(
            NodeOrderRow.status == status.value,
            NodeOrderRow.next_attempt_at <= utcnow(),
        )
        .order_by(col(NodeOrderRow.next_attempt_at))
        .limit(ORDER_BATCH)
    )
    return list((await session.exec(statement)).all())


def lines_of(row: NodeOrderRow) -> dict[str, int]:
    lines: dict[str, int] = json.loads(row.lines)
    return lines


async def order_outcome(
    session: AsyncSession,
    shipment_id: str,
    status: NodeOrderStatus,
    retry_at: datetime,
    reason: str = "",
    attempted: NodeOrderStatus = NodeOrderStatus.PENDING,
) -> None:
    """One attempt's outcome: a row still in the status attempted (PENDING: a creation,
    CANCELLING: a cancellation) moves on, or waits until `retry_at` when `status` is that same
    one; the status history notes where it went once."""
    row = await session.get(NodeOrderRow, shipment_id, with_for_update=True)
    assert row is not None, shipment_id  # never deleted
    if row.status != attempted.value:
        return  # moved on meanwhile (shipped by a webhook, or cancelled while on its way)
    row.status, row.reason = status.value, reason[:MAX_REASON]
    row.attempts += 1
    row.next_attempt_at = retry_at
    row.updated_at = utcnow()
    session.add(row)
    if status is not attempted:
        await note(session, shipment_id, status, reason)


async def note(
    session: AsyncSession, shipment_id: str, status: NodeOrderStatus, detail: str = ""
) -> bool:
    """Adds the status to the shipment's history, once."""
    values: dict[str, object] = {
        "shipment_id": shipment_id,
        "status": status.value,
        "at": utcnow(),
        "detail": detail[:MAX_REASON],
    }
    return await insert_ignoring_conflict(session, NodeOrderHistoryRow, values)


async def lock_order(session: AsyncSession, shipment_id: str) -> NodeOrderRow | None:
    return await session.get(NodeOrderRow, shipment_id, with_for_update=True)


async def mark_shipped(
    session: AsyncSession, shipment_id: str, tracking_number: str, carrier: str
) -> None:
    row = await session.get(NodeOrderRow, shipment_id, with_for_update=True)
    assert row is not None, shipment_id  # locked by the caller
    if row.status != NodeOrderStatus.CREATED.value:
        await note(session, shipment_id, NodeOrderStatus.CREATED, "implied by the shipment")
    row.status = NodeOrderStatus.SHIPPED.value
    row.tracking_number, row.carrier = tracking_number, carrier
    row.updated_at = utcnow()
    session.add(row)
    await note(session, shipment_id, NodeOrderStatus.SHIPPED, f"{carrier} {tracking_number}")


async def store_pull(session: AsyncSession, location_code: str, levels: Mapping[str, int]) -> None:
    """Replaces the node's last pull with these levels."""
    await session.exec(delete(NodeLevelRow).where(col(NodeLevelRow.location_code) == location_code))
    for sku, units in levels.items():
        session.add(NodeLevelRow(location_code=location_code, sku=sku, on_hand=units))
    row = await session.get(FulfillmentNodeRow, location_code, with_for_update=True)
    assert row is not None, location_code  # nodes are never deleted
    row.last_pulled_at = utcnow()
    session.add(row)
    await session.flush()


async def last_pull(session: AsyncSession, location_code: str) -> dict[str, int]:
    statement = (
        select(NodeLevelRow.sku, NodeLevelRow.on_hand)
        .where(NodeLevelRow.location_code == location_code)
        .order_by(col(NodeLevelRow.sku))
        .limit(MAX_LEVELS_SHOWN)
    )
    return dict((await session.exec(statement)).all())


async def last_pulled_at(session: AsyncSession, location_code: str) -> datetime | None:
    row = await session.get(FulfillmentNodeRow, location_code)
    return row.last_pulled_at if row else None


async def order_counts(session: AsyncSession, location_code: str) -> dict[str, int]:
    statement = (
        select(NodeOrderRow.status, func.count())
        .where(NodeOrderRow.location_code == location_code)
        .group_by(NodeOrderRow.status)
    )
    return dict((await session.exec(statement)).all())


async def failures(session: AsyncSession, location_code: str) -> list[NodeOrderRow]:
    statement = (
        select(NodeOrderRow)
        .where(
            NodeOrderRow.location_code == location_code,
            NodeOrderRow.status == NodeOrderStatus.FAILED.value,
        )
        .order_by(col(NodeOrderRow.updated_at).desc())
        .limit(MAX_FAILURES_SHOWN)
    )
    return list((await session.exec(statement)).all())


async def trackings(
    session: AsyncSession, shipment_ids: Sequence[str]
) -> list[tuple[NodeOrderRow, list[NodeOrderHistoryRow]]]:
    """The node orders of these shipments with their history, oldest entry first."""
    found = (
        await session.exec(
            select(NodeOrderRow).where(col(NodeOrderRow.shipment_id).in_(shipment_ids))
        )
    ).all()
    history = (
        await session.exec(
            select(NodeOrderHistoryRow)
            .where(col(NodeOrderHistoryRow.shipment_id).in_(shipment_ids))
            .order_by(col(NodeOrderHistoryRow.at))
        )
    ).all()
    return [(row, [h for h in history if h.shipment_id == row.shipment_id]) for row in found]
