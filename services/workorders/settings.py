"""The work orders service's own settings, read once from the environment at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from services.kernel import bounds
from services.workorders.domain.rules import DEFAULT_REFURBISH_OPERATIONS

# $30 an hour: about what a repair or kitting technician costs with overheads (the wage alone
# is nearer $20-25); an assumption for operators to replace with their own figure.
DEFAULT_LABOR_RATE_CENTS_PER_HOUR = 3000


@dataclass(frozen=True)
class WorkOrdersSettings:
    # What the repair bench does to a returned unit, in order.
    refurbish_operations: tuple[str, ...] = DEFAULT_REFURBISH_OPERATIONS
    # What an hour of labour costs, everywhere and at the locations named otherwise.
    labor_rate_cents_per_hour: int = DEFAULT_LABOR_RATE_CENTS_PER_HOUR
    labor_rates: Mapping[str, int] = field(default_factory=dict)

    def labor_rate(self, location_code: str) -> int:
        return self.labor_rates.get(location_code, self.labor_rate_cents_per_hour)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WorkOrdersSettings:
        configured = env.get("OMS_REFURBISH_OPERATIONS", "")
        operations = (
            tuple(name.strip() for name in configured.split(","))
            if configured.strip()
            else DEFAULT_REFURBISH_OPERATIONS
        )
        rate = env.get("OMS_LABOR_RATE_CENTS_PER_HOUR", "").strip()
        return cls(
            refurbish_operations=operations,
            labor_rate_cents_per_hour=_rate(rate, "OMS_LABOR_RATE_CENTS_PER_HOUR")
            if rate
            else DEFAULT_LABOR_RATE_CENTS_PER_HOUR,
            labor_rates=_rates(env.get("OMS_LABOR_RATES", "")),
        )


def _rate(value: str, name: str) -> int:
    try:
        rate = int(value)
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a whole number of cents") from None
    if not 0 <= rate <= bounds.MAX_CENTS:
        raise ValueError(f"{name}: {rate} is not within 0..{bounds.MAX_CENTS}")
    return rate


def _rates(value: str) -> dict[str, int]:
    """`HUB-BER=2800,DC-EAST=3500`: a rate per location code."""
    rates = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        code, sep, rate = item.partition("=")
        if not sep or not code.strip():
            raise ValueError(f"OMS_LABOR_RATES: {item!r} is not LOCATION=CENTS")
        rates[code.strip()] = _rate(rate.strip(), f"OMS_LABOR_RATES {code.strip()}")
    return rates
