"""The returns policy: the knobs an operator sets without code (settings.py reads them)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from services.returns.domain.rules import ReturnCostModel


def channel_key(channel: str) -> str:
    """`"web-eu"` → `"WEB_EU"`: how a channel is spelt in `OMS_RETURN_WINDOW_DAYS_<CHANNEL>`."""
    return re.sub(r"[^A-Z0-9]", "_", channel.upper())


@dataclass(frozen=True)
class ReturnsPolicy:
    """How long units may be returned, how light a parcel may weigh, what routes cost, and the
    currency refunds are paid in."""

    window_days: int = 30
    # Per channel_key(channel): overrides of window_days.
    window_days_by_channel: Mapping[str, int] = field(default_factory=dict)
    weight_tolerance: float = 0.3
    cost_model: ReturnCostModel = field(default_factory=ReturnCostModel)
    currency: str = "EUR"

    def window(self, channel: str) -> timedelta:
        days = self.window_days_by_channel.get(channel_key(channel), self.window_days)
        return timedelta(days=days)
