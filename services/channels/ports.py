"""What the channels' use cases ask of the orders service and of the sales platforms, in their own
terms; `orders_client.py` and `platforms.py` are the adapters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.channels.domain.model import Channel, MappedOrder


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
