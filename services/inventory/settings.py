"""The inventory service's own settings, read once from the environment at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from services.inventory.domain.model import DriftThreshold
from services.inventory.domain.rules import MAX_MOVEMENTS_PAGE


@dataclass(frozen=True)
class InventorySettings:
    """Inventory's own variables (the kernel's `ServiceSettings` covers its database, broker
    and address); its bounds live here so tests and operators see one place."""

    # The most ledger entries one ListMovements page returns, however many are asked for.
    max_movements_page: int = MAX_MOVEMENTS_PAGE
    # How far a count may differ from on hand before the level is held back from sale.
    drift_threshold: DriftThreshold = field(default_factory=DriftThreshold)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> InventorySettings:
        """OMS_INVENTORY_DRIFT_HOLD_UNITS (default 25) and OMS_INVENTORY_DRIFT_HOLD_PERCENT
        (default 10), each at least 1: a ValueError names a bad one."""
        default = DriftThreshold()
        return cls(
            drift_threshold=DriftThreshold(
                units=_positive(env, "OMS_INVENTORY_DRIFT_HOLD_UNITS", default.units),
                percent=_positive(env, "OMS_INVENTORY_DRIFT_HOLD_PERCENT", default.percent),
            )
        )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)
