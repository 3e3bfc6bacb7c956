"""Pushes each Shopify and Amazon channel's availability to its platform after stock changes.

A StockLevelChanged event records "SKU owed to channel X" for every such channel, in the unit
of work that consumes the event (`owe`); the push worker, outside any unit of work, takes up to
250 owed SKUs per channel, asks inventory their availability for that channel (safety stock held
back), sets them through the channel's platform adapter, and clears the rows at the versions it
pushed only once the platform took them. A burst of changes to one SKU is one row pushed once
with the latest value; a channel whose platform is down waits with doubling backoff while the
others go on."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import timedelta

import grpc
from sqlmodel import col, select

from services.channels import push_store
from services.channels.backoff import wait_after
from services.channels.domain.model import Channel
from services.channels.inventory_client import InventoryClient
from services.channels.platforms import Platforms
from services.channels.shopify_admin import PlatformUnavailable
from services.channels.store import ChannelRow, SqlChannelsStore, _channel
from services.kernel import bounds
from services.kernel.caller import Caller
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.periodic import PeriodicWorker
from services.kernel.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# How often the worker looks for owed SKUs: the coalescing window, and most of the latency.
POLL = timedelta(milliseconds=100)


# Asked on every stock change the service consumes: built once (building it cost more than
# running it).
_PUSHED_CHANNELS = select(ChannelRow).where(
    col(ChannelRow.platform).in_([kind.value for kind in Platforms.KINDS])
)


async def pushed_channels(store: SqlChannelsStore) -> list[Channel]:
    """The channels whose platform is told of availability."""
    return [_channel(row) for row in (await store.session.exec(_PUSHED_CHANNELS)).all()]


async def owe(store: SqlChannelsStore, skus: Sequence[str]) -> None:
    """Every pushed channel is owed these SKUs' availability (inside the caller's unit of work)."""
    for channel in await pushed_channels(store):
        await push_store.mark_pending(store.session, channel.code, skus)


async def owe_resync(store: SqlChannelsStore, channel_code: str) -> None:
    """A pushed channel whose rules changed in inventory is owed its whole catalogue; the
    worker asks inventory for it outside this unit of work (`resync_owed`)."""
    if any(c.code == channel_code for c in await pushed_channels(store)):
        await push_store.owe_resync(store.session, channel_code)


class AvailabilityPush:
    def __init__(
        self,
        uow: UnitOfWork[SqlChannelsStore],
        inventory: InventoryClient,
        platforms: Platforms,
    ) -> None:
        self.uow = uow
        self._inventory = inventory
        self._platforms = platforms
        # Per channel: failures in a row and the monotonic time before which it is not tried.
        self._failures: dict[str, int] = {}
        self._not_before: dict[str, float] = {}

    async def resync(self, channel_code: str = "") -> int:
        """Owes every SKU of the catalogue to the channel (every pushed channel when none
        is named); how many SKUs. NOT_FOUND for a channel that is not connected.

        Without a pushed channel it asks inventory nothing: listing a catalogue of 100,000 SKUs
        outlasts the call's deadline, and the start-up resync retried it every few seconds
        (docs/benchmarks.md, "Scale")."""
        async with self.uow.read() as store:
            if not await pushed_channels(store) and not channel_code:
                return 0
        skus = await self._inventory.all_skus()
        async with self.uow.write() as store:
            channels = await pushed_channels(store)
            codes = [c.code for c in channels if c.code == channel_code or not channel_code]
            if channel_code and not codes:
                raise DomainError(ErrorCode.NOT_FOUND, f"no pushed channel {channel_code}", "code")
            for code in codes:
                await push_store.mark_pending(store.session, code, skus)
        return len(skus)

    async def resync_owed(self) -> None:
        """Owes every SKU to each channel whose rules changed, then clears what it did: the
        catalogue asked of inventory once for all of them. A channel no longer pushed is owed
        nothing, and its row is cleared too (it would otherwise fail every round)."""
        async with self.uow.read() as store:
            owed = await push_store.resyncs_owed(store.session)
        if not owed:
            return
        skus = await self._inventory.all_skus()
        async with self.uow.write() as store:
            pushed = {channel.code for channel in await pushed_channels(store)}
            for code, version in owed.items():
                if code in pushed:
                    await push_store.mark_pending(store.session, code, skus)
                await push_store.clear_resync(store.session, code, version)

    async def resync_on_demand(self, channel_code: str, caller: Caller) -> int:
        """The back office's resync of one channel (after its shop was edited by hand):
        FORBIDDEN to storefronts and scanners, whatever the gateway let through."""
        if not caller.runs_the_business:
            raise DomainError(ErrorCode.FORBIDDEN, "resyncing a channel is the back office's")
        return await self.resync(bounds.require_code(channel_code, "code", "a channel code"))

    async def push_owed(self) -> None:
        """One round: every owed channel not backing off, at once, so one down platform never
        holds up another."""
        async with self.uow.read() as store:
            owed = await push_store.channels_owed(store.session)
        due = [code for code in owed if self._not_before.get(code, 0.0) <= time.monotonic()]
        await asyncio.gather(*(self._push_channel(code) for code in due))

    async def _push_channel(self, code: str) -> None:
        async with self.uow.read() as store:
            channel = await store.channel(code)
            batch = await push_store.pending(store.session, code)
        if channel is None or not batch:
            return
        try:
            available = await self._inventory.availability(code, list(batch))
            await self._platforms.of(channel).push_availability(channel, available)
        except Exception as error:  # any fault backs this channel off; the others go on
            expected = isinstance(error, PlatformUnavailable | grpc.aio.AioRpcError)
            failures = self._failures.get(code, 0) + 1
            self._failures[code] = failures
            wait = wait_after(failures).total_seconds()
            self._not_before[code] = time.monotonic() + wait
            log.warning(
                "availability push to %s postponed %.1fs: %s",
                code,
                wait,
                error,
                exc_info=not expected,
            )
            return
        self._failures.pop(code, None)
        self._not_before.pop(code, None)
        async with self.uow.write() as store:
            await push_store.clear_pushed(store.session, code, batch)


def push_worker(push: AvailabilityPush) -> PeriodicWorker:
    return PeriodicWorker("availability push", push.push_owed, POLL)


def rules_resync_worker(push: AvailabilityPush) -> PeriodicWorker:
    """Resyncs the channels whose safety stock or backorder rule changed, within the poll."""
    return PeriodicWorker("availability rules resync", push.resync_owed, POLL)


RESYNC_EVERY = timedelta(hours=1)
RESYNC_RETRY = timedelta(seconds=10)


def resync_worker(push: AvailabilityPush) -> PeriodicWorker:
    """Owes the whole catalogue to every pushed channel at start-up (what changed while the
    service was down gets pushed), retried every 10 s until inventory answers, then hourly in
    case a shop was edited by hand."""
    last: list[float] = []

    async def resync_when_due() -> None:
        if last and time.monotonic() - last[-1] < RESYNC_EVERY.total_seconds():
            return
        await push.resync()
        last[:] = [time.monotonic()]

    return PeriodicWorker("availability resync", resync_when_due, RESYNC_RETRY)
