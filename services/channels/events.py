"""What the channels service consumes: stock level changes (one by one, or a bulk import's in
one event), which owe the pushed channels their availability; a channel's rules changing in
inventory (ChannelChanged), which owes it its whole catalogue; shipments shipping, which owe
Shopify or Amazon a confirmation; orders placed and cancelled, whose shipments routed to a ShipBob
node are owed to it (or their cancellation). Each handler runs in the unit of work that records
the event as processed, so a redelivery owes nothing twice."""

from __future__ import annotations

from oms.events.v1.inventory_pb2 import ChannelChanged, StockImported, StockLevelChanged
from oms.events.v1.orders_pb2 import OrderCancelled, OrderPlaced, ShipmentShipped
from services.channels import availability_push, fulfillment_push, third_party
from services.channels.store import SqlChannelsStore
from services.kernel.events import Subscription


def subscriptions() -> list[Subscription[SqlChannelsStore]]:
    async def owe_availability(store: SqlChannelsStore, event: StockLevelChanged) -> None:
        await availability_push.owe(store, [event.sku])

    async def owe_resync(store: SqlChannelsStore, event: ChannelChanged) -> None:
        await availability_push.owe_resync(store, event.code)

    async def owe_imported(store: SqlChannelsStore, event: StockImported) -> None:
        await availability_push.owe(store, list(event.skus))

    # Whole streams, the other types passed over: what the broker test publishes to prove the
    # permissions reaches every consumer.
    return [
        Subscription(
            "channels-inventory",
            "oms.inventory.>",
            {
                StockLevelChanged: owe_availability,
                StockImported: owe_imported,
                ChannelChanged: owe_resync,
            },
        ),
        Subscription(
            "channels-orders",
            "oms.orders.>",
            {
                ShipmentShipped: fulfillment_push.owe,
                OrderPlaced: third_party.owe,
                OrderCancelled: third_party.owe_cancellation,
            },
        ),
    ]
