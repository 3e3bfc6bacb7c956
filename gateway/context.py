"""What every resolver sees: who is calling, the service stubs and this request's loaders."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.auth import Principal
from gateway.feed import InventoryFeed
from gateway.inventory.loaders import InventoryLoaders
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from oms.returns.v1.returns_pb2_grpc import ReturnsServiceStub


@dataclass
class Context:
    inventory: InventoryServiceStub
    orders: OrdersServiceStub
    feed: InventoryFeed
    loaders: InventoryLoaders
    # Set once the caller has authenticated: per HTTP request before anything executes, per
    # WebSocket when its connection_init is accepted.
    principal: Principal | None = None
    # The WebSocket's connection_init payload; strawberry fills it in.
    connection_params: dict[str, object] | None = None
    # None only in a gateway (or a test) configured without the returns service.
    returns: ReturnsServiceStub | None = None

    @classmethod
    def create(
        cls,
        inventory: InventoryServiceStub,
        orders: OrdersServiceStub,
        feed: InventoryFeed,
        principal: Principal | None = None,
        *,
        returns: ReturnsServiceStub | None = None,
        long_lived: bool = False,
    ) -> Context:
        """A context with fresh loaders.

        A WebSocket keeps one context for as long as it is open, so its loaders batch but never
        cache: a cache would serve stale records and grow for hours.
        """
        loaders = InventoryLoaders.over(inventory, cache=not long_lived)
        return cls(inventory, orders, feed, loaders, principal, returns=returns)
