"""What the channels' use cases ask of the orders service, in their own terms; `orders_client.py`
is the gRPC adapter."""

from __future__ import annotations

from typing import Protocol

from services.channels.domain.model import MappedOrder


class Orders(Protocol):
    async def place(self, channel_code: str, order: MappedOrder) -> str:
        """Places the order of the channel (once per external id: placing it again returns the
        first); its id. Raises DomainError when the orders service refuses it."""
        ...

    async def cancel(self, order_id: str) -> None:
        """Cancels the order (cancelling a cancelled one changes nothing); DomainError when it
        cannot be cancelled any more."""
        ...
