"""The worker that polls each Amazon channel's new and updated orders (getOrders from the
channel's watermark, page by page, then getOrderItems for the orders not recorded yet), records
them like a Shopify delivery and places them. Each channel is polled on its own, under its own
deadline: an Amazon that is down or slow holds up no other channel."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from services.channels.amazon_api import AmazonUnavailable, SellingPartnerApi, SellingPartnerApis
from services.channels.domain import amazon
from services.channels.domain.model import AmazonAccount, MappedOrder, ShipTo
from services.channels.service import ChannelsService, receive_order
from services.channels.store import ChannelsStore
from services.kernel.bounds import MAX_LINES
from services.kernel.db import utcnow
from services.kernel.errors import DomainError
from services.kernel.periodic import PeriodicWorker

log = logging.getLogger(__name__)

# A channel never polled asks for the orders updated since a day before its first poll.
FIRST_LOOK_BACK = timedelta(days=1)
# One channel's whole poll (pages, items, backoff) must end in this; the next round resumes.
POLL_DEADLINE_SECONDS = 300.0


class AmazonPoller:
    def __init__(self, service: ChannelsService, backoff_seconds: float = 1.0) -> None:
        self._service = service
        self._apis = SellingPartnerApis(backoff_seconds)

    async def poll_all(self) -> None:
        async with self._service.uow.read() as store:
            accounts = await store.amazon_accounts()
        await asyncio.gather(*(self._poll_within_deadline(a) for a in accounts))

    async def close(self) -> None:
        await self._apis.close()

    async def _poll_within_deadline(self, account: AmazonAccount) -> None:
        try:
            async with asyncio.timeout(POLL_DEADLINE_SECONDS):
                await self.poll(account)
        except Exception as error:  # any fault skips this channel's round; the others go on
            expected = isinstance(error, AmazonUnavailable | DomainError | TimeoutError)
            log.warning(
                "Amazon channel %s not polled: %s",
                account.channel_code,
                error,
                exc_info=not expected,
            )

    async def poll(self, account: AmazonAccount) -> None:
        """One getOrders query, all its pages. Each page's orders are recorded in one unit of
        work, and the last page's with the new watermark: a crash mid-way asks again from the
        old one, and orders already recorded are skipped."""
        api = self._apis.of(account)
        since = account.watermark or utcnow() - FIRST_LOOK_BACK
        updated_after = since.astimezone(UTC).isoformat().replace("+00:00", "Z")
        next_token, latest = "", since
        while True:
            page = await api.get_orders(account.marketplace_id, updated_after, next_token)
            polled, next_token = amazon.polled_orders(page)
            readable = [p for p in polled if isinstance(p, amazon.PolledOrder)]
            latest = max([latest, *(p.last_update for p in readable)])
            unreadable = [p for p in polled if isinstance(p, amazon.UnreadableOrder)]
            await self._record(
                account.channel_code, readable, unreadable, api, None if next_token else latest
            )
            if not next_token:
                return

    async def _record(
        self,
        channel_code: str,
        polled: list[amazon.PolledOrder],
        unreadable: list[amazon.UnreadableOrder],
        api: SellingPartnerApi,
        watermark: datetime | None,
    ) -> None:
        async with self._service.uow.read() as store:
            new = [
                p
                for p in polled
                if p.to_place
                and await store.order_by_external_id(channel_code, p.amazon_order_id) is None
            ]
        # Items are asked for outside any unit of work: no transaction waits on Amazon.
        mapped = []
        for p in new:
            try:
                mapped.append(amazon.map_order(p, await all_items(api, p.amazon_order_id)))
            except DomainError as error:
                unreadable.append(amazon.unreadable(p.amazon_order_id, error))
        recorded = []
        async with self._service.uow.write() as store:
            for order in mapped:
                if await receive_order(store, channel_code, order):
                    recorded.append(order.external_id)
            for bad in unreadable:
                await _park(store, channel_code, bad)
            if watermark is not None:
                await store.advance_watermark(channel_code, watermark)
        for external_id in recorded:
            async with self._service.uow.read() as store:
                found = await store.order_by_external_id(channel_code, external_id)
            if found is not None:
                await self._service.advance(found.id)


async def all_items(api: SellingPartnerApi, amazon_order_id: str) -> list[dict[str, object]]:
    """Every item of the order, page by page (bounded: an order has at most MAX_LINES)."""
    items: list[dict[str, object]] = []
    next_token = ""
    while True:
        page, next_token = amazon.order_items(
            await api.get_order_items(amazon_order_id, next_token)
        )
        items += page
        if not next_token or len(items) > MAX_LINES:
            return items


async def _park(store: ChannelsStore, channel_code: str, bad: amazon.UnreadableOrder) -> None:
    """Records an order that cannot be read as an exception with the reason, once: the back
    office sees it, and the channel's later orders are not held up by it."""
    if not bad.amazon_order_id:
        log.warning("Amazon channel %s: an order without an id skipped: %s", channel_code, bad)
        return
    order = MappedOrder(bad.amazon_order_id, "", ShipTo(), ())
    await receive_order(store, channel_code, order, bad.problem)


def amazon_poll_worker(poller: AmazonPoller, interval: timedelta) -> PeriodicWorker:
    """Polls every Amazon channel on start and then every `interval` (getOrders' default plan
    refills one call a minute)."""
    return PeriodicWorker("Amazon order polling", poller.poll_all, interval)
