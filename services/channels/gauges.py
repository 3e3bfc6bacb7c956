"""The channels service's figures for its metrics, per sales channel: the SKUs whose stock is
owed to it, how long since its last successful push (its sync lag), and the shipments its
platform refused for good."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.channels.push_store import AvailabilitySyncRow, FulfillmentRow, PendingPushRow
from services.kernel.metrics import Reading, age_seconds, declared

FAMILIES = (
    ("oms_channel_pending_pushes", "SKUs whose availability is owed to a sales channel"),
    ("oms_channel_last_push_age_seconds", "Seconds since a sales channel last took a push"),
    ("oms_channel_failed_fulfillments", "Shipments a sales channel's platform refused for good"),
)


async def read_gauges(session: AsyncSession) -> list[Reading]:
    now = datetime.now(UTC)
    owed = await session.exec(
        select(PendingPushRow.channel_code, func.count()).group_by(col(PendingPushRow.channel_code))
    )
    readings = [
        Reading(
            "oms_channel_pending_pushes",
            "SKUs whose availability is owed to a sales channel",
            count,
            {"channel": channel},
        )
        for channel, count in owed.all()
    ]
    for synced in (await session.exec(select(AvailabilitySyncRow))).all():
        readings.append(
            Reading(
                "oms_channel_last_push_age_seconds",
                "Seconds since a sales channel last took a push of availability",
                age_seconds(synced.last_pushed_at, now),
                {"channel": synced.channel_code},
            )
        )
    failed = await session.exec(
        select(FulfillmentRow.channel_code, func.count())
        .where(col(FulfillmentRow.created).is_(False), col(FulfillmentRow.failure).is_not(None))
        .group_by(col(FulfillmentRow.channel_code))
    )
    readings += [
        Reading(
            "oms_channel_failed_fulfillments",
            "Shipments a sales channel's platform refused for good",
            count,
            {"channel": channel},
        )
        for channel, count in failed.all()
    ]
    return [*readings, *(declared(name, help) for name, help in FAMILIES)]
