"""The work orders service's own settings, read once from the environment at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.workorders.domain.rules import DEFAULT_REFURBISH_OPERATIONS


@dataclass(frozen=True)
class WorkOrdersSettings:
    # What the repair bench does to a returned unit, in order.
    refurbish_operations: tuple[str, ...] = DEFAULT_REFURBISH_OPERATIONS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WorkOrdersSettings:
        configured = env.get("OMS_REFURBISH_OPERATIONS", "")
        if not configured.strip():
            return cls()
        return cls(refurbish_operations=tuple(name.strip() for name in configured.split(",")))
