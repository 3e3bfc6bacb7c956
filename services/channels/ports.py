"""What the channels' use cases ask of the orders service and of the sales platforms, in their own
terms; `orders_client.py` and `platforms.py` are the adapters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.channels.domain.model import Channel, MappedOrder
from services.channels.domain.shipbob import Recipient


class Orders(Protocol):
    async def place(self, channel_code: str, order: MappedOrder) -> str:
        """Places the order of the channel (once per external id: placing it again returns the
        first); its id. Raises DomainError when the orders service refuses it."""
        ...

    async def cancel(self, order_id: str) -> None:
        """Cancels the order (cancelling a cancelled one changes nothing); DomainError when it
        cannot be cancelled any more."""
        ...


@dataclass(frozen=True)
class ShippedShipment:
    """A shipment of a channel's order, as the platform is told of it: units by SKU."""

    shipment_id: str
    external_order_id: str
    tracking_number: str
    shipped_at: datetime
    lines: Mapping[str, int]


class SalesPlatform(Protocol):
    """The outbound side of one kind of platform. Both raise PlatformUnavailable when the
    platform did not take it, and the caller tries again later."""

    async def push_availability(self, channel: Channel, available: Mapping[str, int]) -> None:
        """Sets each SKU's sellable quantity on the channel (absolute values)."""
        ...

    async def confirm_shipment(self, channel: Channel, shipment: ShippedShipment) -> None:
        """Tells the channel the shipment left with its tracking number."""
        ...


class ShipmentOrders(Protocol):
    """What the third-party nodes ask of the orders service about one shipment."""

    async def destination(self, order_id: str, shipment_id: str) -> tuple[Recipient, str] | None:
        """Whom the shipment goes to and the order's number; None once it is cancelled."""
        ...

    async def ship(self, shipment_id: str, tracking_number: str) -> None:
        """Ships the shipment (shipping a shipped one changes nothing); DomainError when the
        orders service refuses."""
        ...


class Locations(Protocol):
    async def kind_of(self, location_code: str) -> str | None:
        """The location's kind (THIRD_PARTY_WAREHOUSE...), None when there is no such location."""
        ...


class CountReconciler(Protocol):
    """Turns a node's count into stock discrepancies (inventory's ReconcileCount)."""

    async def reconcile(
        self,
        location_code: str,
        source: str,
        lines: Sequence[tuple[str, int]],
        complete: bool,
    ) -> None:
        """`lines` are (SKU, units counted); `complete` says a SKU left out was counted as 0."""
        ...
