"""What orders consume: backorders inventory filled when a receipt landed, each allocated in the
unit of work that records the event as applied, so a redelivery allocates nothing twice."""

from __future__ import annotations

from oms.events.v1.inventory_pb2 import BackorderFilled
from services.kernel.events import Subscription
from services.orders.service import allocate_backorder
from services.orders.store import OrdersStore

# Only this event: the inventory stream also carries every stock level change, which orders
# has no use for.
BACKORDER_FILLED = "oms.inventory.backorder_filled"


async def on_backorder_filled(store: OrdersStore, event: BackorderFilled) -> None:
    held = [(x.sku, x.location_code, x.quantity) for x in event.held if x.quantity > 0]
    await allocate_backorder(store, event.key, held)


def subscriptions() -> list[Subscription[OrdersStore]]:
    return [
        Subscription("orders-backorders", BACKORDER_FILLED, {BackorderFilled: on_backorder_filled})
    ]
