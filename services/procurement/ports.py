"""What procurement's use cases ask of inventory, in their own terms; `inventory_client.py` is
the gRPC adapter, unit tests pass the inventory service itself over its in-memory store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Stock:
    """One stock level's figures the plan needs."""

    on_hand: int = 0
    reserved: int = 0
    pending_inspection: int = 0
    in_repair: int = 0


class Inventory(Protocol):
    """The inventory service: the catalogue, locations and stock levels."""

    async def unit_costs(self, codes: Iterable[str]) -> dict[str, int]:
        """The unit cost of each SKU among `codes` the catalogue holds."""
        ...

    async def location_exists(self, code: str) -> bool: ...

    async def stock(self, location_codes: Sequence[str]) -> dict[tuple[str, str], Stock]:
        """Every level at these locations (empty: everywhere), by (SKU, location)."""
        ...
