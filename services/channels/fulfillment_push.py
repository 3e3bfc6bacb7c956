"""Tells Shopify (a fulfillment) or Amazon (a shipment confirmation) that a shipment of one of
its orders shipped, with the tracking number: recorded once per shipment in the unit of work that
consumes ShipmentShipped (`owe`), sent by the worker through the channel's platform adapter
outside any unit of work, retried with doubling backoff while the platform is down, set aside
as FAILED with the platform's reason when it refuses it for good (until `retry`), marked created
only once the platform took it (and `ShopifyAdmin.fulfill` checks Shopify's own
fulfillments first, so a lost answer retried does not fulfil twice)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import select

from oms.events.v1.orders_pb2 import ShipmentShipped
from services.channels import push_store
from services.channels.backoff import wait_after
from services.channels.domain.model import ChannelFulfillment, FulfillmentStatus
from services.channels.platform_errors import PlatformRefused, PlatformUnavailable
from services.channels.platforms import Platforms
from services.channels.ports import ShippedShipment
from services.channels.store import ChannelOrderRow, SqlChannelsStore
from services.kernel import bounds
from services.kernel.caller import Caller
from services.kernel.db import utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.periodic import PeriodicWorker
from services.kernel.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

POLL = timedelta(milliseconds=250)


async def owe(store: SqlChannelsStore, event: ShipmentShipped) -> None:
    """A shipment of an order a Shopify or Amazon channel sent is owed to it; others pass."""
    statement = select(ChannelOrderRow).where(ChannelOrderRow.order_id == event.order_id)
    row = (await store.session.exec(statement)).first()
    if row is None:
        return
    channel = await store.channel(row.channel_code)
    if channel is None or channel.platform not in Platforms.KINDS:
        return
    lines: dict[str, int] = {}
    for line in event.shipment.lines:
        lines[line.sku] = lines.get(line.sku, 0) + line.quantity
    await push_store.owe_fulfillment(
        store.session,
        event.shipment.shipment_id,
        channel.code,
        row.external_id,
        event.tracking_number,
        lines,
    )


class FulfillmentPush:
    def __init__(self, uow: UnitOfWork[SqlChannelsStore], platforms: Platforms) -> None:
        self.uow = uow
        self._platforms = platforms

    async def create_due(self) -> None:
        async with self.uow.read() as store:
            due = await push_store.fulfillments_due(store.session)
        for owed in due:
            async with self.uow.read() as store:
                channel = await store.channel(owed.channel_code)
            if channel is None:
                continue
            try:
                shipment = ShippedShipment(
                    owed.shipment_id,
                    owed.external_order_id,
                    owed.tracking_number,
                    owed.shipped_at,
                    push_store.shipped_lines(owed),
                )
                await self._platforms.of(channel).confirm_shipment(channel, shipment)
                created, retry_at, failure = True, utcnow(), None
            except PlatformRefused as refusal:  # for good: set aside for the back office
                created, retry_at, failure = False, utcnow(), refusal.reason
                log.warning("fulfillment of shipment %s refused: %s", owed.shipment_id, refusal)
            except Exception as error:  # any fault postpones this one; the others go on
                created, retry_at, failure = False, utcnow() + wait_after(owed.attempts + 1), None
                log.warning(
                    "fulfillment of shipment %s postponed: %s",
                    owed.shipment_id,
                    error,
                    exc_info=not isinstance(error, PlatformUnavailable),
                )
            async with self.uow.write() as store:
                await push_store.fulfillment_outcome(
                    store.session, owed.shipment_id, created, retry_at, failure
                )

    async def retry(self, shipment_id: str, caller: Caller) -> ChannelFulfillment:
        """The back office sends a shipment its platform refused again (after mending what
        the platform refused): NOT_FOUND when no platform is owed it, INVALID_STATE when it
        is not FAILED, FORBIDDEN to storefronts and scanners."""
        if not caller.runs_the_business:
            raise DomainError(ErrorCode.FORBIDDEN, "retrying a fulfillment is the back office's")
        shipment_id = bounds.require_code(shipment_id, "shipment_id", "a shipment id")
        async with self.uow.write() as store:
            row = await push_store.locked_fulfillment(store.session, shipment_id)
            if row is None:
                raise DomainError(
                    ErrorCode.NOT_FOUND, f"no fulfillment owed for {shipment_id}", "shipment_id"
                )
            status = push_store.fulfillment_of(row).status
            if status is not FulfillmentStatus.FAILED:
                raise DomainError(
                    ErrorCode.INVALID_STATE,
                    f"the fulfillment of {shipment_id} is {status.value}, not FAILED",
                    "shipment_id",
                )
            push_store.send_again(store.session, row)
            return push_store.fulfillment_of(row)


def fulfillment_worker(push: FulfillmentPush) -> PeriodicWorker:
    return PeriodicWorker("fulfillment push", push.create_due, POLL)
