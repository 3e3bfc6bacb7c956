"""What the channels service consumes: stock level changes (one by one, or a bulk import's
in one event), which owe Shopify channels their
availability, shipments shipping, which owe Shopify a fulfillment, and orders placed, whose
shipments routed to a ShipBob node are owed to it. Each handler runs in the
unit of work that records the event as processed, so a redelivery owes nothing twice."""

from __future__ import annotations

from oms.events.v1.inventory_pb2 import StockImported, StockLevelChanged
from oms.events.v1.orders_pb2 import OrderPlaced, ShipmentShipped
from services.channels import availability_push, fulfillment_push, third_party
from services.channels.store import SqlChannelsStore
from services.kernel.events import Subscription


def subscriptions() -> list[Subscription[SqlChannelsStore]]:
    async def owe_availability(store: SqlChannelsStore, event: StockLevelChanged) -> None:
        await availability_push.owe(store, [event.sku])

    async def owe_imported(store: SqlChannelsStore, event: StockImported) -> None:
        await availability_push.owe(store, list(event.skus))

    # Whole streams, the other types passed over: what the broker test publishes to prove the
    # permissions reaches every consumer.
    return [
        Subscription(
            "channels-inventory",
            "oms.inventory.>",
            {StockLevelChanged: owe_availability, StockImported: owe_imported},
        ),
        Subscription(
            "channels-orders",
            "oms.orders.>",
            {ShipmentShipped: fulfillment_push.owe, OrderPlaced: third_party.owe},
        ),
    ]
