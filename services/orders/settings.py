"""The orders service's own settings, read once from the environment at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from services.orders.domain.routing import CostModel

DEFAULT_RECOVERY_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class OrdersSettings:
    # The routing knobs an operator sets without code (the README lists them).
    cost_model: CostModel = field(default_factory=CostModel)
    # How long a placement stays PLACING before recovery takes it for interrupted; longer than
    # any placement's gRPC deadlines, so one still in flight on another replica is left alone.
    recovery_after: timedelta = DEFAULT_RECOVERY_AFTER

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OrdersSettings:
        defaults = CostModel()
        cost_model = CostModel(
            extra_parcel_cents=int(
                env.get("OMS_ROUTING_EXTRA_PARCEL_CENTS", defaults.extra_parcel_cents)
            ),
            max_locations=int(env.get("OMS_ROUTING_MAX_LOCATIONS", defaults.max_locations)),
        )
        recovery_after = float(
            env.get("OMS_ORDERS_RECOVERY_AFTER_SECONDS", DEFAULT_RECOVERY_AFTER.total_seconds())
        )
        return cls(cost_model=cost_model, recovery_after=timedelta(seconds=recovery_after))
