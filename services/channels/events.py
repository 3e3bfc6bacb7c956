"""What the channels service consumes: stock level changes, which owe the pushed channels their
availability; a channel's rules changing in inventory, which owes it its whole catalogue;
shipments shipping, which owe Shopify or Amazon a confirmation; orders placed and cancelled,
whose shipments routed to a ShipBob node are owed to it (or their cancellation). Each handler
runs in the unit of work that records the event as processed, so a redelivery owes nothing
twice."""

from __future__ import annotations

from oms.events.v1.inventory_pb2 import ChannelRulesChanged, StockLevelChanged
from oms.events.v1.orders_pb2 import OrderCancelled, OrderPlaced, ShipmentShipped
from services.channels import availability_push, fulfillment_push, third_party
from services.channels.store import SqlChannelsStore
from services.kernel.events import Subscription


def subscriptions() -> list[Subscription[SqlChannelsStore]]:
    async def owe_availability(store: SqlChannelsStore, event: StockLevelChanged) -> None:
        await availability_push.owe(store, [event.sku])

    async def owe_resync(store: SqlChannelsStore, event: ChannelRulesChanged) -> None:
        await availability_push.owe_resync(store, event.channel_code)

    # Whole streams, the other types passed over: what the broker test publishes to prove the
    # permissions reaches every consumer.
    return [
        Subscription(
            "channels-inventory",
            "oms.inventory.>",
            {StockLevelChanged: owe_availability, ChannelRulesChanged: owe_resync},
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
