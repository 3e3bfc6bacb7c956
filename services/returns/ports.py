"""What the returns use cases ask of the services they call, in the returns' own terms; the
gRPC clients (orders_client.py, inventory_client.py) are the adapters, unit tests pass fakes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from services.returns.domain.model import CatalogueSku, ReturnSite, ShippedOrder


class Orders(Protocol):
    """The orders service."""

    async def shipped_order(self, order_id: str) -> ShippedOrder:
        """The order with its shipped parcels; NOT_FOUND (on `order_id`) when unknown."""
        ...

    async def find_order(self, channel: str, external_id: str) -> str:
        """The id of the order placed under (channel, external id); NOT_FOUND when none."""
        ...


class Inventory(Protocol):
    """The inventory service: locations and the catalogue."""

    async def return_sites(self) -> list[ReturnSite]:
        """Every location that accepts returns."""
        ...

    async def catalogue(self, codes: Iterable[str]) -> dict[str, CatalogueSku]:
        """The known SKUs among `codes`."""
        ...

    async def location_exists(self, code: str) -> bool:
        """Whether any location, returns or not, has this code."""
        ...
