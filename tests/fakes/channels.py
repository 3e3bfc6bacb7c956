"""The channels' store in memory, and the orders port over the orders service itself (its own
use cases over its in-memory store and inventory, reached through the same request the gRPC
adapter sends), so channel tests place orders by the orders service's rules, not a copy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from services.channels.domain.model import (
    AmazonAccount,
    Channel,
    ChannelFulfillment,
    ChannelOrder,
    ChannelOrderStatus,
    MappedOrder,
    NewChannel,
    Platform,
    Problem,
    Refund,
)
from services.channels.orders_client import place_order_request
from services.channels.store import ChannelsStore
from services.kernel.db import utcnow
from services.orders.bootstrap import bootstrap as orders_bootstrap
from services.orders.grpc_api import new_order_from_proto
from services.orders.service import OrdersService
from tests.fakes import orders as orders_fakes
from tests.fakes.kernel import MemoryData, MemoryStore, MemoryUnitOfWork


@dataclass
class ChannelsData(MemoryData):
    channels: dict[str, Channel] = field(default_factory=dict)
    # (channel code, webhook id) -> topic
    deliveries: dict[tuple[str, str], str] = field(default_factory=dict)
    delivered_at: list[tuple[str, datetime]] = field(default_factory=list)
    orders: dict[str, ChannelOrder] = field(default_factory=dict)
    refunds: dict[tuple[str, str], Refund] = field(default_factory=dict)
    amazon: dict[str, AmazonAccount] = field(default_factory=dict)


class MemoryChannelsStore(MemoryStore[ChannelsData]):
    """Units of work run one at a time in memory, so a lock is only a read."""

    async def connect(self, new: NewChannel) -> Channel:
        known = self.data.channels.get(new.code)
        kept = {
            name: getattr(new, name) if getattr(new, name) is not None else getattr(known, name, "")
            for name in ("webhook_secret", "api_base_url", "access_token")
        }
        channel = Channel(
            code=new.code,
            platform=new.platform,
            account=new.account,
            connected_at=known.connected_at if known else utcnow(),
            **kept,
        )
        self.data.channels[new.code] = channel
        if new.platform.value == "AMAZON":
            self._connect_amazon(new, channel)
        return channel

    def _connect_amazon(self, new: NewChannel, channel: Channel) -> None:
        known = self.data.amazon.get(new.code)
        kept = {
            name: getattr(new, name) if getattr(new, name) is not None else getattr(known, name, "")
            for name in ("marketplace_id", "lwa_client_id", "lwa_client_secret")
        }
        self.data.amazon[new.code] = AmazonAccount(
            channel_code=new.code,
            seller_id=new.account,
            refresh_token=channel.access_token,
            api_base_url=channel.api_base_url,
            watermark=known.watermark if known else None,
            **kept,
        )

    async def amazon_accounts(self) -> list[AmazonAccount]:
        return list(self.data.amazon.values())

    async def advance_watermark(self, channel_code: str, last_update: datetime) -> None:
        known = self.data.amazon[channel_code]
        if known.watermark is None or known.watermark < last_update:
            self.data.amazon[channel_code] = replace(known, watermark=last_update)

    async def channel(self, code: str) -> Channel | None:
        return self.data.channels.get(code)

    async def channel_of_account(self, platform: Platform, account: str) -> Channel | None:
        return next(
            (
                c
                for c in self.data.channels.values()
                if (c.platform, c.account) == (platform, account)
            ),
            None,
        )

    async def record_delivery(self, channel_code: str, webhook_id: str, topic: str) -> bool:
        if (channel_code, webhook_id) in self.data.deliveries:
            return False
        self.data.deliveries[(channel_code, webhook_id)] = topic
        self.data.delivered_at.append((channel_code, utcnow()))
        return True

    async def add_order(
        self,
        channel_order_id: str,
        channel_code: str,
        order: MappedOrder,
        problem: Problem | None = None,
    ) -> bool:
        if await self.order_by_external_id(channel_code, order.external_id) is not None:
            return False
        now = utcnow()
        self.data.orders[channel_order_id] = ChannelOrder(
            id=channel_order_id,
            channel_code=channel_code,
            status=ChannelOrderStatus.EXCEPTION if problem else ChannelOrderStatus.PENDING,
            order=order,
            order_id="",
            problem=problem,
            attempts=0,
            received_at=now,
            updated_at=now,
        )
        return True

    async def order(self, channel_order_id: str) -> ChannelOrder | None:
        return self.data.orders.get(channel_order_id)

    async def lock_order(self, channel_order_id: str) -> ChannelOrder | None:
        return await self.order(channel_order_id)

    async def order_by_external_id(
        self, channel_code: str, external_id: str
    ) -> ChannelOrder | None:
        return next(
            (
                o
                for o in self.data.orders.values()
                if (o.channel_code, o.order.external_id) == (channel_code, external_id)
            ),
            None,
        )

    async def update_order(
        self,
        channel_order_id: str,
        status: ChannelOrderStatus,
        order_id: str | None = None,
        problem: Problem | None = None,
        attempted: bool = False,
    ) -> ChannelOrder:
        found = self.data.orders[channel_order_id]
        updated = replace(
            found,
            status=status,
            order_id=found.order_id if order_id is None else order_id,
            problem=problem,
            attempts=found.attempts + (1 if attempted else 0),
            updated_at=utcnow(),
        )
        self.data.orders[channel_order_id] = updated
        return updated

    async def orders_in(
        self,
        statuses: Sequence[ChannelOrderStatus],
        channel_code: str = "",
        older_than: datetime | None = None,
    ) -> list[ChannelOrder]:
        found = [
            o
            for o in self.data.orders.values()
            if o.status in statuses
            and (not channel_code or o.channel_code == channel_code)
            and (older_than is None or o.updated_at < older_than)
        ]
        return sorted(found, key=lambda o: o.received_at)[:200]

    async def add_refund(self, channel_code: str, refund: Refund) -> bool:
        key = (channel_code, refund.refund_id)
        if key in self.data.refunds:
            return False
        self.data.refunds[key] = refund
        return True

    async def counts(self, channel_code: str) -> tuple[int, int, int, int, datetime | None]:
        mine = [o for o in self.data.orders.values() if o.channel_code == channel_code]
        times = [at for code, at in self.data.delivered_at if code == channel_code]
        return (
            len(mine),
            sum(1 for o in mine if o.status is ChannelOrderStatus.PLACED),
            sum(1 for o in mine if o.status is ChannelOrderStatus.EXCEPTION),
            sum(1 for code, _ in self.data.refunds if code == channel_code),
            max(times, default=None),
        )

    async def push_status(self, channel_code: str) -> tuple[int, datetime | None]:
        return 0, None  # the pushes are tested against a real database

    async def failed_fulfillments(self, channel_code: str) -> tuple[int, list[ChannelFulfillment]]:
        return 0, []  # so are the fulfillments


def memory_uow() -> MemoryUnitOfWork[ChannelsStore, ChannelsData]:
    return MemoryUnitOfWork(ChannelsData(), MemoryChannelsStore)


class OrdersOverService:
    """The orders port over the orders service's use cases and an in-memory inventory with
    `on_hand` units; `reachable = False` stands for an outage (the call never arrives)."""

    def __init__(
        self,
        locations: Mapping[str, orders_fakes.Location],
        on_hand: Mapping[tuple[str, str], int],
    ) -> None:
        self.inventory = orders_fakes.MemoryInventory(locations, on_hand)
        self.uow = orders_fakes.memory_uow()
        self.service: OrdersService = orders_bootstrap(self.uow, self.inventory)
        self.reachable = True
        self.calls = 0

    async def place(self, channel_code: str, order: MappedOrder) -> str:
        self._arrive()
        new = await new_order_from_proto(place_order_request(channel_code, order), placed_by="")
        return (await self.service.place(new)).id

    async def cancel(self, order_id: str) -> None:
        self._arrive()
        await self.service.cancel(order_id)

    def _arrive(self) -> None:
        self.calls += 1
        if not self.reachable:
            raise orders_fakes.Unreachable("orders")
