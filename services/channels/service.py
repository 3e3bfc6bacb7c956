"""Channel use cases: connecting a channel, receiving Shopify's webhooks, placing the orders they
bring with the orders service, parking what it refuses, retrying, and each channel's status.

A delivery is one unit of work: the webhook id (so a redelivery does nothing), the platform's
order as PENDING (once per order id) and the events commit together, or not at all. Placing it
is a step of its own, after the commit and outside any unit of work: the orders service places
once per (channel, order id), so this step may run again at any time — right after the delivery,
and from `placement_worker` for every order left PENDING (or CANCELLING) by a crash or an
outage. A refusal by the orders service (an unknown SKU, short stock, an address it cannot
place) parks the order as EXCEPTION, visible to the back office until it retries it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta

from oms.events.v1 import channels_pb2 as events
from services.channels.domain import shopify, wholesale
from services.channels.domain.model import (
    Channel,
    ChannelOrder,
    ChannelOrderStatus,
    ChannelStatus,
    MappedOrder,
    NewChannel,
    Platform,
    Problem,
    WholesaleImport,
)
from services.channels.ports import Orders
from services.channels.store import ChannelsStore
from services.kernel import bounds
from services.kernel.db import utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# What a parked order's problem may say: the orders service's refusals, never a fault.
PARKING_CODES = frozenset(ErrorCode) - {ErrorCode.FORBIDDEN}


class ChannelsService:
    def __init__(self, uow: UnitOfWork[ChannelsStore], orders: Orders) -> None:
        self.uow = uow
        self._orders = orders
        self._placing: set[asyncio.Task[None]] = set()

    async def connect(self, new: NewChannel) -> Channel:
        """Connects a channel code to its platform account (again: updates it; a secret left
        out is kept). One channel per platform account: another code for it is INVALID_STATE."""
        new = _require_new_channel(new)
        async with self.uow.write() as store:
            other = await store.channel_of_account(new.platform, new.account)
            if other is not None and other.code != new.code:
                raise DomainError(
                    ErrorCode.INVALID_STATE,
                    f"{new.account} is connected as channel {other.code}",
                    "account",
                )
            channel = await store.connect(new)
            store.record(
                events.ChannelConnected(
                    code=channel.code, platform=channel.platform.value, account=channel.account
                )
            )
        return channel

    async def receive_shopify(
        self,
        topic: str,
        shop_domain: str,
        webhook_id: str,
        signature: str,
        triggered_at: str,
        body: bytes,
        now: datetime | None = None,
    ) -> tuple[str, bool]:
        """Takes one Shopify delivery: (channel code, whether it was a duplicate).

        Refused with UNAUTHENTICATED, changing nothing, when the shop is not connected, the
        signature does not verify or the delivery is older than the freshness window."""
        async with self.uow.read() as store:
            channel = await store.channel_of_account(Platform.SHOPIFY, shop_domain.strip())
        if channel is None or not shopify.signature_verifies(
            body, channel.webhook_secret, signature
        ):
            raise DomainError(ErrorCode.UNAUTHENTICATED, "the webhook does not verify")
        if not shopify.is_fresh(triggered_at, now or utcnow()):
            raise DomainError(ErrorCode.UNAUTHENTICATED, "the webhook is stale", "triggered_at")
        if topic not in shopify.TOPICS:
            raise DomainError(ErrorCode.INVALID_INPUT, f"topic {topic!r} is not taken", "topic")
        webhook_id = bounds.require_code(webhook_id, "webhook_id", "the webhook id")
        payload = shopify.parse_body(body)
        async with self.uow.write() as store:
            if not await store.record_delivery(channel.code, webhook_id, topic):
                return channel.code, True
            follow_up = await _apply(store, channel.code, topic, payload)
        if follow_up is not None:
            await self.advance(follow_up)
        return channel.code, False

    async def advance(self, channel_order_id: str) -> ChannelOrder | None:
        """Places a PENDING order or cancels a CANCELLING one with the orders service, and
        records how it went. Safe to run again: both calls are idempotent there. A transport
        fault leaves the order as it was, for the worker's next round."""
        async with self.uow.read() as store:
            found = await store.order(channel_order_id)
        if found is None:
            return None
        try:
            if found.status is ChannelOrderStatus.PENDING:
                order_id = await self._orders.place(found.channel_code, found.order)
                return await self._placed(found, order_id)
            if found.status is ChannelOrderStatus.CANCELLING:
                await self._orders.cancel(found.order_id)
                return await self._cancelled(found)
        except DomainError as refusal:
            return await self._parked(found, refusal)
        except Exception:
            log.warning("channel order %s not advanced yet", channel_order_id, exc_info=True)
        return found

    async def retry(self, channel_order_id: str) -> ChannelOrder:
        """Places a parked order again (after its SKU was created, stock arrived...). Retrying
        an order that is not parked is INVALID_STATE."""
        async with self.uow.write() as store:
            found = await store.lock_order(channel_order_id)
            if found is None:
                raise DomainError(ErrorCode.NOT_FOUND, f"no channel order {channel_order_id}", "id")
            if found.status is not ChannelOrderStatus.EXCEPTION:
                raise DomainError(ErrorCode.INVALID_STATE, f"the order is {found.status}", "id")
            await store.update_order(found.id, ChannelOrderStatus.PENDING, problem=found.problem)
        advanced = await self.advance(channel_order_id)
        assert advanced is not None  # orders are never deleted
        return advanced

    async def import_wholesale(self, channel_code: str, csv: str) -> WholesaleImport:
        """Records a wholesale file's orders in one unit of work — all of them or, when a row
        cannot be read, none — and places the new ones after answering: a file's placements
        may take longer than its caller waits (the placement worker places what a stop left).
        A PO imported before is left as it was, so importing a file again places nothing twice.
        """
        orders = wholesale.wholesale_orders(csv)
        async with self.uow.write() as store:
            channel = await store.channel(channel_code)
            if channel is None or channel.platform is not Platform.WHOLESALE:
                raise DomainError(
                    ErrorCode.NOT_FOUND, f"no wholesale channel {channel_code}", "channel"
                )
            new = {o.external_id for o in orders if await receive_order(store, channel_code, o)}
            found = [await store.order_by_external_id(channel_code, o.external_id) for o in orders]
        recorded = [x for x in found if x is not None]
        self._place_later([x.id for x in recorded if x.order.external_id in new])
        return WholesaleImport(len(new), len(orders) - len(new), recorded)

    def _place_later(self, channel_order_ids: list[str]) -> None:
        async def place_all() -> None:
            for channel_order_id in channel_order_ids:
                await self.advance(channel_order_id)

        placing = asyncio.create_task(place_all())
        # Held until done: the event loop keeps only a weak reference to a task.
        self._placing.add(placing)
        placing.add_done_callback(self._placing.discard)

    async def exceptions(self, channel_code: str = "") -> list[ChannelOrder]:
        async with self.uow.read() as store:
            return await store.orders_in((ChannelOrderStatus.EXCEPTION,), channel_code)

    async def status(self, code: str) -> ChannelStatus:
        async with self.uow.read() as store:
            channel = await store.channel(code)
            if channel is None:
                raise DomainError(ErrorCode.NOT_FOUND, f"no channel {code}", "code")
            received, placed, waiting, refunds, last = await store.counts(code)
            pending, pushed = await store.push_status(code)
            failed, oldest_failed = await store.failed_fulfillments(code)
        return ChannelStatus(
            channel,
            received,
            placed,
            waiting,
            refunds,
            last,
            pending,
            pushed,
            failed,
            tuple(oldest_failed),
        )

    async def advance_stale(self, older_than: timedelta) -> int:
        """Advances orders left PENDING or CANCELLING for longer than `older_than`."""
        async with self.uow.read() as store:
            stale = await store.orders_in(
                (ChannelOrderStatus.PENDING, ChannelOrderStatus.CANCELLING),
                older_than=utcnow() - older_than,
            )
        for found in stale:
            await self.advance(found.id)
        return len(stale)

    async def _placed(self, found: ChannelOrder, order_id: str) -> ChannelOrder:
        async with self.uow.write() as store:
            now = await store.lock_order(found.id)
            assert now is not None
            if now.status is ChannelOrderStatus.CANCELLED:
                # Cancelled on the platform while the placement was on its way: undo it.
                return await store.update_order(
                    found.id, ChannelOrderStatus.CANCELLING, order_id=order_id, attempted=True
                )
            if now.status is not ChannelOrderStatus.PENDING:
                return now
            placed = await store.update_order(
                found.id, ChannelOrderStatus.PLACED, order_id=order_id, attempted=True
            )
            store.record(
                events.ChannelOrderPlaced(
                    channel_order_id=found.id,
                    channel_code=found.channel_code,
                    external_id=found.order.external_id,
                    order_id=order_id,
                )
            )
        return placed

    async def _parked(self, found: ChannelOrder, refusal: DomainError) -> ChannelOrder:
        problem = Problem(refusal.code.value, refusal.field or "", refusal.message)
        async with self.uow.write() as store:
            now = await store.lock_order(found.id)
            assert now is not None
            if now.status is not found.status:
                return now
            if found.status is ChannelOrderStatus.CANCELLING:
                # The order shipped meanwhile (INVALID_STATE): it stays placed, with the reason.
                return await store.update_order(
                    found.id, ChannelOrderStatus.PLACED, problem=problem, attempted=True
                )
            parked = await store.update_order(
                found.id, ChannelOrderStatus.EXCEPTION, problem=problem, attempted=True
            )
            store.record(
                events.ChannelOrderParked(
                    channel_order_id=found.id,
                    channel_code=found.channel_code,
                    external_id=found.order.external_id,
                    problem_code=problem.code,
                    problem=problem.message,
                )
            )
        return parked

    async def _cancelled(self, found: ChannelOrder) -> ChannelOrder:
        async with self.uow.write() as store:
            cancelled = await store.update_order(found.id, ChannelOrderStatus.CANCELLED)
            store.record(_cancelled_event(cancelled))
        return cancelled


async def _apply(
    store: ChannelsStore, channel_code: str, topic: str, payload: dict[str, object]
) -> str | None:
    """Applies a verified, first delivery; the channel order to advance after the commit."""
    if topic == "orders/create":
        order = shopify.map_order(payload)
        await receive_order(store, channel_code, order)
        found = await store.order_by_external_id(channel_code, order.external_id)
        return found.id if found else None
    if topic == "orders/cancelled":
        return await _cancel(store, channel_code, shopify.order_id_of(payload))
    refund = shopify.map_refund(payload)
    if await store.add_refund(channel_code, refund):
        store.record(
            events.ChannelRefundReceived(
                channel_code=channel_code,
                refund_id=refund.refund_id,
                external_order_id=refund.external_order_id,
                amount_cents=refund.amount_cents,
            )
        )
    return None


async def receive_order(
    store: ChannelsStore, channel_code: str, order: MappedOrder, problem: Problem | None = None
) -> str | None:
    """Records a platform's order once, with its event (and, with a `problem`, parked as an
    exception with ChannelOrderParked); its id, or None when the channel has it already."""
    channel_order_id = str(uuid.uuid4())
    if not await store.add_order(channel_order_id, channel_code, order, problem):
        return None
    store.record(
        events.ChannelOrderReceived(
            channel_order_id=channel_order_id,
            channel_code=channel_code,
            external_id=order.external_id,
        )
    )
    if problem is not None:
        store.record(
            events.ChannelOrderParked(
                channel_order_id=channel_order_id,
                channel_code=channel_code,
                external_id=order.external_id,
                problem_code=problem.code,
                problem=problem.message,
            )
        )
    return channel_order_id


async def _cancel(store: ChannelsStore, channel_code: str, external_id: str) -> str | None:
    """A placed order is cancelled with the orders service; one not placed yet never will be."""
    found = await store.order_by_external_id(channel_code, external_id)
    if found is None:
        return None
    if found.status is ChannelOrderStatus.PLACED:
        await store.update_order(found.id, ChannelOrderStatus.CANCELLING)
        return found.id
    if found.status in (ChannelOrderStatus.PENDING, ChannelOrderStatus.EXCEPTION):
        cancelled = await store.update_order(found.id, ChannelOrderStatus.CANCELLED)
        store.record(_cancelled_event(cancelled))
    return None


def _cancelled_event(order: ChannelOrder) -> events.ChannelOrderCancelled:
    return events.ChannelOrderCancelled(
        channel_order_id=order.id,
        channel_code=order.channel_code,
        external_id=order.order.external_id,
        order_id=order.order_id,
    )


def _require_new_channel(new: NewChannel) -> NewChannel:
    code = bounds.require_code(new.code, "code", "a channel code")
    account = bounds.require_text(new.account, "account", "the account", 255)
    if new.platform is Platform.SHOPIFY and not account.endswith(".myshopify.com"):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "a Shopify account is its brand.myshopify.com domain",
            "account",
        )
    secrets = ("webhook_secret", "api_base_url", "access_token")
    amazon = ("marketplace_id", "lwa_client_id", "lwa_client_secret")
    for name in secrets + amazon:
        given = getattr(new, name)
        if given is not None:
            bounds.require_text(given, name, name.replace("_", " "), 255, required=False)
    if new.platform is not Platform.AMAZON and any(getattr(new, x) is not None for x in amazon):
        raise DomainError(ErrorCode.INVALID_INPUT, "only Amazon has a marketplace", "platform")
    # Amazon's seller ids are upper case; Shopify's domains lower case.
    account = account if new.platform is Platform.AMAZON else account.lower()
    return NewChannel(
        code,
        new.platform,
        account,
        new.webhook_secret,
        new.api_base_url,
        new.access_token,
        new.marketplace_id,
        new.lwa_client_id,
        new.lwa_client_secret,
    )
