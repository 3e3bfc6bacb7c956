"""What the work orders' use cases ask of inventory, in their own terms; `inventory_client.py`
is the gRPC adapter, unit tests pass the inventory service itself over its in-memory store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from services.workorders.domain.model import Component


@dataclass(frozen=True)
class CatalogueSku:
    code: str
    unit_cost_cents: int
    serialized: bool


class Inventory(Protocol):
    """The inventory service: the catalogue, locations, and stock held or used by work."""

    async def catalogue(self, codes: Iterable[str]) -> dict[str, CatalogueSku]:
        """The known SKUs among `codes`."""
        ...

    async def location_exists(self, code: str) -> bool: ...

    async def reserve(self, key: str, location_code: str, lines: Sequence[Component]) -> bool:
        """Holds every line at the location under `key`, or none; False when stock is short."""
        ...

    async def release(self, key: str) -> None:
        """Gives back what `key` holds; a later hold under it is refused."""
        ...

    async def holds(self, key: str) -> bool:
        """Whether `key` holds units now."""
        ...

    async def short(self, location_code: str, lines: Sequence[Component]) -> list[str]:
        """The SKUs among `lines` with fewer units available at the location than asked."""
        ...

    async def consume(
        self, key: str, location_code: str, lines: Sequence[Component], reason: str
    ) -> None:
        """Takes the units off on hand (all or none, never what is reserved), once per `key`;
        INSUFFICIENT_STOCK (field `lines.<i>.quantity`, in SKU order) when short."""
        ...
