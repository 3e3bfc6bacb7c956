"""What every resolver sees: who is calling, the services' stubs and this request's loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from gateway.auth import VerifiedToken
from gateway.capacity import BacklogLoaders
from gateway.feed import InventoryFeed
from gateway.inventory.loaders import InventoryLoaders
from gateway.services import ServiceStubs
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from services.kernel.caller import Caller


@dataclass
class Context:
    stubs: ServiceStubs
    feed: InventoryFeed
    loaders: InventoryLoaders
    # Set once the caller has authenticated: per HTTP request before anything executes, per
    # WebSocket when its connection_init is accepted.
    principal: Caller | None = None
    # The token the principal came with: a WebSocket holds only while it does.
    token: VerifiedToken | None = None
    # The WebSocket's connection_init payload; strawberry fills it in.
    connection_params: dict[str, object] | None = None
    # The WebSocket upgrade's Authorization header, for clients that authenticate there.
    handshake_authorization: str | None = None
    # The W3C trace context the caller sent (`traceparent`, `tracestate`): the operation's span
    # continues its trace.
    caller_trace: dict[str, str] = field(default_factory=dict)
    # Made on first use, so their calls carry the authenticated caller.
    _backlogs: BacklogLoaders | None = None
    # Loaders made on first use by the modules that need them (never caching: see `create`).
    more_loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)

    @property
    def services(self) -> ServiceStubs:
        """The services' stubs, each call carrying who is calling (the services decide what
        the caller may see and do)."""
        return self.stubs.on_behalf_of(self.principal)

    @property
    def backlogs(self) -> BacklogLoaders:
        """This request's loaders of locations' backlogs."""
        if self._backlogs is None:
            self._backlogs = BacklogLoaders.over(self.services)
        return self._backlogs

    @classmethod
    def create(
        cls,
        services: ServiceStubs,
        feed: InventoryFeed,
        principal: Caller | None = None,
        *,
        long_lived: bool = False,
    ) -> Context:
        """A context with fresh loaders.

        A WebSocket keeps one context for as long as it is open, so its loaders batch but never
        cache: a cache would serve stale records and grow for hours.
        """
        loaders = InventoryLoaders.over(
            services[InventoryServiceStub], cache=not long_lived, model=feed.availability
        )
        return cls(services, feed, loaders, principal)
