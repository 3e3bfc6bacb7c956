"""The procurement service's own settings, read once from the environment at start-up.

Where each default comes from (the README's procurement section repeats them):
- service level 95% (z = 1.645): the textbook starting point for a cycle service level; an
  assumption for operators to replace (DOMAIN.md gives the safety-stock formula, not a level).
- demand window 28 days: four whole weeks, so each weekday counts equally in the variability.
- lead time 14 days for a SKU no supplier lists: the middle of DOMAIN.md's 10-21 day restock
  time through a central warehouse; an assumption.
- observed lead time used from 3 receipts on: fewer say more about one shipment than the
  supplier.
- sellable share at inspection 0.85 before history: DOMAIN.md puts fraudulent returns at
  10-15% (NRF / Appriss); we take the rest, rounded down for damaged units.
- sellable share of repairs 0.80 before history: an assumption (DOMAIN.md has no figure).
- prior weight 20 units: history outweighs the prior once a SKU has more than 20 units of it.
- invoice tolerance 0: a three-way match pays only what was ordered and received, at the
  ordered price (DOMAIN.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from services.procurement.domain.matching import Tolerance
from services.procurement.domain.replenishment import Policy

DEFAULT_POLICY = Policy(
    service_level=0.95,
    demand_days=28,
    default_lead_time_days=14.0,
    inspection_prior=0.85,
    repair_prior=0.80,
    prior_weight=20.0,
)
DEFAULT_MIN_LEAD_TIME_RECEIPTS = 3


@dataclass(frozen=True)
class ProcurementSettings:
    policy: Policy = DEFAULT_POLICY
    tolerance: Tolerance = field(default_factory=Tolerance)
    min_lead_time_receipts: int = DEFAULT_MIN_LEAD_TIME_RECEIPTS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ProcurementSettings:
        level = _number(env, "OMS_REPLENISHMENT_SERVICE_LEVEL", DEFAULT_POLICY.service_level)
        if not 0.5 <= level < 1:
            raise ValueError("OMS_REPLENISHMENT_SERVICE_LEVEL: must be within 0.5..0.9999")
        days = int(_number(env, "OMS_REPLENISHMENT_DEMAND_DAYS", DEFAULT_POLICY.demand_days))
        if not 1 <= days <= 366:
            raise ValueError("OMS_REPLENISHMENT_DEMAND_DAYS: must be within 1..366")
        price_bps = int(_number(env, "OMS_INVOICE_PRICE_TOLERANCE_BPS", 0))
        units = int(_number(env, "OMS_INVOICE_QUANTITY_TOLERANCE_UNITS", 0))
        if not 0 <= price_bps <= 10_000 or not 0 <= units <= 100_000:
            raise ValueError("OMS_INVOICE_*_TOLERANCE_*: must be within 0..10000")
        return cls(
            policy=Policy(
                service_level=level,
                demand_days=days,
                default_lead_time_days=DEFAULT_POLICY.default_lead_time_days,
                inspection_prior=DEFAULT_POLICY.inspection_prior,
                repair_prior=DEFAULT_POLICY.repair_prior,
                prior_weight=DEFAULT_POLICY.prior_weight,
            ),
            tolerance=Tolerance(price_bps=price_bps, quantity_units=units),
        )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a number") from None
