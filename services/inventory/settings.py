"""The inventory service's own settings, read once from the environment at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.inventory.domain.rules import MAX_MOVEMENTS_PAGE


@dataclass(frozen=True)
class InventorySettings:
    """Inventory reads no variable of its own yet (the kernel's `ServiceSettings` covers its
    database, broker and address); its bounds live here so tests and operators see one place."""

    # The most ledger entries one ListMovements page returns, however many are asked for.
    max_movements_page: int = MAX_MOVEMENTS_PAGE

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> InventorySettings:
        return cls()
