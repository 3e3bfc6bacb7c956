"""The channels' store: the port its use cases call, and its tables and queries over SQL (no
other service's data)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import JSON, Index, UniqueConstraint, func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.channels.domain.model import (
    AmazonAccount,
    Channel,
    ChannelFulfillment,
    ChannelOrder,
    ChannelOrderStatus,
    Line,
    MappedOrder,
    NewChannel,
    Platform,
    Problem,
    Refund,
    ShipTo,
)
from services.channels.node_store import NODE_TABLES
from services.channels.push_store import PUSH_TABLES, failed_fulfillments, push_status
from services.kernel.db import UTCDateTime, insert_ignoring_conflict, utcnow
from services.kernel.unit_of_work import SqlStore, Store

PRODUCER = "channels"


class ChannelsStore(Store, Protocol):
    """What the channels' use cases ask of their storage, in one unit of work."""

    async def connect(self, new: NewChannel) -> Channel:
        """Creates or updates the channel by code; a secret left out keeps the stored one."""
        ...

    async def channel(self, code: str) -> Channel | None: ...

    async def channel_of_account(self, platform: Platform, account: str) -> Channel | None: ...

    async def record_delivery(self, channel_code: str, webhook_id: str, topic: str) -> bool:
        """Records a webhook delivery; False when it was recorded before."""
        ...

    async def add_order(
        self,
        channel_order_id: str,
        channel_code: str,
        order: MappedOrder,
        problem: Problem | None = None,
    ) -> bool:
        """Records a platform's order as PENDING (with a problem: as an EXCEPTION, one that
        cannot be placed as read); False when the channel has it already."""
        ...

    async def order(self, channel_order_id: str) -> ChannelOrder | None: ...

    async def lock_order(self, channel_order_id: str) -> ChannelOrder | None: ...

    async def order_by_external_id(
        self, channel_code: str, external_id: str
    ) -> ChannelOrder | None: ...

    async def update_order(
        self,
        channel_order_id: str,
        status: ChannelOrderStatus,
        order_id: str | None = None,
        problem: Problem | None = None,
        attempted: bool = False,
    ) -> ChannelOrder: ...

    async def orders_in(
        self,
        statuses: Sequence[ChannelOrderStatus],
        channel_code: str = "",
        older_than: datetime | None = None,
    ) -> list[ChannelOrder]:
        """Orders in the statuses (of one channel, when named), oldest first, at most 200."""
        ...

    async def add_refund(self, channel_code: str, refund: Refund) -> bool:
        """Records a refund; False when it was recorded before."""
        ...

    async def counts(self, channel_code: str) -> tuple[int, int, int, int, datetime | None]:
        """(orders received, placed, exceptions waiting, refunds, last delivery time)."""
        ...

    async def push_status(self, channel_code: str) -> tuple[int, datetime | None]:
        """(SKUs owed to the channel, the last availability push it took)."""
        ...

    async def failed_fulfillments(self, channel_code: str) -> tuple[int, list[ChannelFulfillment]]:
        """(shipments the channel's platform refused for good, the oldest few of them)."""
        ...

    async def amazon_accounts(self) -> list[AmazonAccount]: ...

    async def advance_watermark(self, channel_code: str, last_update: datetime) -> None:
        """Moves the channel's polling watermark forward to `last_update` (never back)."""
        ...


class ChannelRow(SQLModel, table=True):
    __tablename__ = "channel_connection"
    __table_args__ = (UniqueConstraint("platform", "account", name="one_channel_per_account"),)

    code: str = Field(primary_key=True, max_length=64)
    platform: str = Field(max_length=16)
    account: str = Field(max_length=255)
    # Kept to verify deliveries and call the platform; never returned by any RPC.
    webhook_secret: str = Field(default="", max_length=255)
    api_base_url: str = Field(default="", max_length=255)
    access_token: str = Field(default="", max_length=255)
    connected_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookDeliveryRow(SQLModel, table=True):
    __tablename__ = "webhook_delivery"

    channel_code: str = Field(primary_key=True, max_length=64)
    webhook_id: str = Field(primary_key=True, max_length=64)
    topic: str = Field(max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChannelOrderRow(SQLModel, table=True):
    __tablename__ = "channel_order"
    __table_args__ = (
        UniqueConstraint("channel_code", "external_id", name="one_order_per_platform_id"),
        Index("ix_channel_order_status_updated", "status", "updated_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    channel_code: str = Field(max_length=64)
    external_id: str = Field(max_length=64)
    status: str = Field(max_length=16)
    email: str = Field(default="", max_length=320)
    ship_to: dict[str, Any] = Field(sa_type=JSON)
    lines: list[list[Any]] = Field(sa_type=JSON)
    ship_complete: bool = False
    requested_ship_date: date | None = None
    order_id: str = Field(default="", max_length=36)
    problem_code: str = Field(default="", max_length=32)
    problem_field: str = Field(default="", max_length=128)
    problem: str = Field(default="", max_length=1000)
    attempts: int = 0
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChannelRefundRow(SQLModel, table=True):
    __tablename__ = "channel_refund"

    channel_code: str = Field(primary_key=True, max_length=64)
    refund_id: str = Field(primary_key=True, max_length=64)
    external_order_id: str = Field(max_length=64)
    amount_cents: int
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AmazonAccountRow(SQLModel, table=True):
    __tablename__ = "amazon_account"

    channel_code: str = Field(primary_key=True, max_length=64)
    marketplace_id: str = Field(default="", max_length=32)
    lwa_client_id: str = Field(default="", max_length=255)
    # Kept to ask Login with Amazon for access tokens; never returned by any RPC.
    lwa_client_secret: str = Field(default="", max_length=255)
    # The latest LastUpdateDate of the orders recorded: the next poll asks from there.
    watermark: datetime | None = Field(default=None, sa_type=UTCDateTime)


TABLES: tuple[type[SQLModel], ...] = (
    ChannelRow,
    AmazonAccountRow,
    WebhookDeliveryRow,
    ChannelOrderRow,
    ChannelRefundRow,
    *PUSH_TABLES,
    *NODE_TABLES,
)


def _channel(row: ChannelRow) -> Channel:
    return Channel(
        row.code,
        Platform(row.platform),
        row.account,
        row.webhook_secret,
        row.api_base_url,
        row.access_token,
        row.connected_at,
    )


def _order(row: ChannelOrderRow) -> ChannelOrder:
    problem = (
        Problem(row.problem_code, row.problem_field, row.problem) if row.problem_code else None
    )
    return ChannelOrder(
        id=row.id,
        channel_code=row.channel_code,
        status=ChannelOrderStatus(row.status),
        order=MappedOrder(
            row.external_id,
            row.email,
            ShipTo(**row.ship_to),
            tuple(Line(sku, quantity, price) for sku, quantity, price in row.lines),
            row.ship_complete,
            row.requested_ship_date,
        ),
        order_id=row.order_id,
        problem=problem,
        attempts=row.attempts,
        received_at=row.received_at,
        updated_at=row.updated_at,
    )


class SqlChannelsStore(SqlStore):
    """The channels' store over their own database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, PRODUCER)

    async def connect(self, new: NewChannel) -> Channel:
        row = await self.session.get(ChannelRow, new.code, with_for_update=True)
        if row is None:
            row = ChannelRow(code=new.code, platform=new.platform.value, account=new.account)
        row.platform, row.account = new.platform.value, new.account
        for name in ("webhook_secret", "api_base_url", "access_token"):
            given = getattr(new, name)
            if given is not None:
                setattr(row, name, given)
        self.session.add(row)
        if new.platform is Platform.AMAZON:
            await self._connect_amazon(new)
        await self.session.flush()
        return _channel(row)

    async def _connect_amazon(self, new: NewChannel) -> None:
        row = await self.session.get(AmazonAccountRow, new.code, with_for_update=True)
        row = row or AmazonAccountRow(channel_code=new.code)
        for name in ("marketplace_id", "lwa_client_id", "lwa_client_secret"):
            given = getattr(new, name)
            if given is not None:
                setattr(row, name, given)
        self.session.add(row)

    async def amazon_account(self, code: str) -> AmazonAccount | None:
        found = await self.amazon_accounts(code)
        return found[0] if found else None

    async def amazon_accounts(self, code: str = "") -> list[AmazonAccount]:
        statement = select(ChannelRow, AmazonAccountRow).where(
            ChannelRow.code == AmazonAccountRow.channel_code,
            ChannelRow.platform == Platform.AMAZON.value,
        )
        if code:
            statement = statement.where(ChannelRow.code == code)
        return [
            AmazonAccount(
                channel.code,
                channel.account,
                amazon.marketplace_id,
                amazon.lwa_client_id,
                amazon.lwa_client_secret,
                channel.access_token,
                channel.api_base_url,
                amazon.watermark,
            )
            for channel, amazon in (await self.session.exec(statement)).all()
        ]

    async def advance_watermark(self, channel_code: str, last_update: datetime) -> None:
        row = await self.session.get(AmazonAccountRow, channel_code, with_for_update=True)
        assert row is not None, channel_code  # connected before it is polled
        if row.watermark is None or row.watermark < last_update:
            row.watermark = last_update
            self.session.add(row)
            await self.session.flush()

    async def channel(self, code: str) -> Channel | None:
        row = await self.session.get(ChannelRow, code)
        return _channel(row) if row else None

    async def channel_of_account(self, platform: Platform, account: str) -> Channel | None:
        statement = select(ChannelRow).where(
            ChannelRow.platform == platform.value, ChannelRow.account == account
        )
        row = (await self.session.exec(statement)).first()
        return _channel(row) if row else None

    async def record_delivery(self, channel_code: str, webhook_id: str, topic: str) -> bool:
        values: dict[str, object] = {
            "channel_code": channel_code,
            "webhook_id": webhook_id,
            "topic": topic,
        }
        return await insert_ignoring_conflict(self.session, WebhookDeliveryRow, values)

    async def add_order(
        self,
        channel_order_id: str,
        channel_code: str,
        order: MappedOrder,
        problem: Problem | None = None,
    ) -> bool:
        return await insert_ignoring_conflict(
            self.session,
            ChannelOrderRow,
            {
                "id": channel_order_id,
                "channel_code": channel_code,
                "external_id": order.external_id,
                "status": (
                    ChannelOrderStatus.EXCEPTION if problem else ChannelOrderStatus.PENDING
                ).value,
                "email": order.email,
                "ship_to": vars(order.ship_to).copy(),
                "lines": [[x.sku, x.quantity, x.unit_price_cents] for x in order.lines],
                "ship_complete": order.ship_complete,
                "requested_ship_date": order.requested_ship_date,
                "problem_code": problem.code if problem else "",
                "problem_field": problem.field[:128] if problem else "",
                "problem": problem.message[:1000] if problem else "",
                "received_at": utcnow(),
                "updated_at": utcnow(),
            },
        )

    async def order(self, channel_order_id: str) -> ChannelOrder | None:
        row = await self.session.get(ChannelOrderRow, channel_order_id)
        return _order(row) if row else None

    async def lock_order(self, channel_order_id: str) -> ChannelOrder | None:
        row = await self.session.get(ChannelOrderRow, channel_order_id, with_for_update=True)
        return _order(row) if row else None

    async def order_by_external_id(
        self, channel_code: str, external_id: str
    ) -> ChannelOrder | None:
        statement = (
            select(ChannelOrderRow)
            .where(
                ChannelOrderRow.channel_code == channel_code,
                ChannelOrderRow.external_id == external_id,
            )
            .with_for_update()
        )
        row = (await self.session.exec(statement)).first()
        return _order(row) if row else None

    async def update_order(
        self,
        channel_order_id: str,
        status: ChannelOrderStatus,
        order_id: str | None = None,
        problem: Problem | None = None,
        attempted: bool = False,
    ) -> ChannelOrder:
        row = await self.session.get(ChannelOrderRow, channel_order_id, with_for_update=True)
        assert row is not None, channel_order_id  # locked by the caller in this unit of work
        row.status = status.value
        if order_id is not None:
            row.order_id = order_id
        row.problem_code = problem.code if problem else ""
        row.problem_field = problem.field[:128] if problem else ""
        row.problem = problem.message[:1000] if problem else ""
        row.attempts += 1 if attempted else 0
        row.updated_at = utcnow()
        self.session.add(row)
        await self.session.flush()
        return _order(row)

    async def orders_in(
        self,
        statuses: Sequence[ChannelOrderStatus],
        channel_code: str = "",
        older_than: datetime | None = None,
    ) -> list[ChannelOrder]:
        statement = select(ChannelOrderRow).where(
            col(ChannelOrderRow.status).in_([s.value for s in statuses])
        )
        if channel_code:
            statement = statement.where(ChannelOrderRow.channel_code == channel_code)
        if older_than is not None:
            statement = statement.where(ChannelOrderRow.updated_at < older_than)
        statement = statement.order_by(col(ChannelOrderRow.received_at)).limit(200)
        return [_order(row) for row in (await self.session.exec(statement)).all()]

    async def add_refund(self, channel_code: str, refund: Refund) -> bool:
        values = {
            "channel_code": channel_code,
            "refund_id": refund.refund_id,
            "external_order_id": refund.external_order_id,
            "amount_cents": refund.amount_cents,
        }
        return await insert_ignoring_conflict(self.session, ChannelRefundRow, values)

    async def counts(self, channel_code: str) -> tuple[int, int, int, int, datetime | None]:
        by_status = dict(
            (
                await self.session.exec(
                    select(ChannelOrderRow.status, func.count())
                    .where(ChannelOrderRow.channel_code == channel_code)
                    .group_by(ChannelOrderRow.status)
                )
            ).all()
        )
        refunds = (
            await self.session.exec(
                select(func.count()).where(ChannelRefundRow.channel_code == channel_code)
            )
        ).one()
        last = (
            await self.session.exec(
                select(func.max(WebhookDeliveryRow.received_at)).where(
                    WebhookDeliveryRow.channel_code == channel_code
                )
            )
        ).one()
        placed = by_status.get(ChannelOrderStatus.PLACED.value, 0)
        return (
            sum(by_status.values()),
            placed,
            by_status.get(ChannelOrderStatus.EXCEPTION.value, 0),
            refunds,
            last,
        )

    async def push_status(self, channel_code: str) -> tuple[int, datetime | None]:
        return await push_status(self.session, channel_code)

    async def failed_fulfillments(self, channel_code: str) -> tuple[int, list[ChannelFulfillment]]:
        return await failed_fulfillments(self.session, channel_code)
