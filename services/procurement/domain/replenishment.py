"""Replenishment maths: what to buy per SKU and location from demand, lead time, what is on hand
and on its way — including units on their way back as returns.

    target           = ceil(daily demand x lead time + safety stock)        (reorder point)
    safety stock     = z(service level) x sigma(daily demand) x sqrt(lead time)
    expected returns = (requested + pending inspection) x s_inspect + in repair x s_repair
    suggested        = max(0, target - (on hand + in transit + expected returns - reserved)),
                       rounded up to the supplier's pack size

(DOMAIN.md, rules of thumb: reorder point and safety stock; count expected restocks from
returns as incoming supply and forecast on gross demand, never on sales net of returns.)
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from services.procurement.domain.model import PlanExplanation, PlanLine, Position, Yields

FORMULA = (
    "suggested = max(0, ceil(daily demand x lead time + z x sigma x sqrt(lead time)) - "
    "(on hand + in transit + expected returns - reserved)), rounded up to the pack size"
)


@dataclass(frozen=True)
class Policy:
    """The plan's settings; see `settings.py` for where each default comes from."""

    service_level: float
    demand_days: int
    default_lead_time_days: float
    # The share of returned units that come back sellable before there is history, and how
    # many units of history weigh as much as the prior.
    inspection_prior: float
    repair_prior: float
    prior_weight: float


@dataclass(frozen=True)
class LeadTime:
    days: float
    # OBSERVED, DECLARED or DEFAULT.
    source: str


def daily_demand(units_by_day: Mapping[date, int], today: date, days: int) -> list[int]:
    """Units demanded on each of the `days` days up to and including `today`, oldest first;
    a day without orders counts as zero (it is part of the variability)."""
    first = today - timedelta(days=days - 1)
    return [units_by_day.get(first + timedelta(days=n), 0) for n in range(days)]


def sellable_share(sellable: float, seen: float, prior: float, weight: float) -> float:
    """The share of units that came back sellable, starting at `prior` and moving towards what
    history shows as it grows: (sellable + prior x weight) / (seen + weight), a beta-binomial
    estimate in which the prior counts as `weight` units. Always within 0..1."""
    share = (sellable + prior * weight) / (seen + weight) if seen + weight > 0 else prior
    return min(1.0, max(0.0, share))


def expected_returns(
    position: Position, yields: Yields, policy: Policy
) -> tuple[float, float, float, int]:
    """The shares (requested, at inspection, in repair) and the units expected back sellable.

    A unit requested for return is weighted as one pending inspection: the returns service
    refuses more units than were shipped, and we have no history yet of parcels never sent.
    """
    repair = sellable_share(
        yields.repaired_sellable, yields.repaired, policy.repair_prior, policy.prior_weight
    )
    # A unit sent to the bench counts as sellable in the share that repairs come back so.
    sellable_at_inspection = yields.restocked + yields.refurbished * repair
    inspection = sellable_share(
        sellable_at_inspection, yields.inspected, policy.inspection_prior, policy.prior_weight
    )
    units = (
        position.returns_requested * inspection
        + position.pending_inspection * inspection
        + position.in_repair * repair
    )
    return inspection, inspection, repair, math.floor(units + 0.5)


def plan_line(
    sku: str,
    location_code: str,
    demand: Sequence[int],
    position: Position,
    lead_time: LeadTime,
    pack_size: int,
    yields: Yields,
    policy: Policy,
    supplier_code: str = "",
) -> PlanLine:
    """One line of the plan with the figures that explain it (see the module's formula).

    Invariants: the suggestion is never negative; it is a multiple of `pack_size` when one is
    set; more expected returns never raise it, more demand never lowers it.
    """
    mean = statistics.fmean(demand) if demand else 0.0
    sigma = statistics.pstdev(demand) if len(demand) > 1 else 0.0
    z = statistics.NormalDist().inv_cdf(policy.service_level)
    safety = max(0.0, z * sigma * math.sqrt(lead_time.days))
    target = math.ceil(mean * lead_time.days + safety - 1e-9)
    requested_share, inspection_share, repair_share, expected = expected_returns(
        position, yields, policy
    )
    net = position.on_hand + position.in_transit + expected - position.reserved
    suggested = max(0, target - net)
    if pack_size > 1 and suggested:
        suggested = math.ceil(suggested / pack_size) * pack_size
    return PlanLine(
        sku=sku,
        location_code=location_code,
        on_hand=position.on_hand,
        in_transit=position.in_transit,
        expected_returns=expected,
        suggested_quantity=suggested,
        supplier_code=supplier_code,
        explanation=PlanExplanation(
            daily_demand=round(mean, 3),
            demand_std_dev=round(sigma, 3),
            demand_days=len(demand),
            lead_time_days=round(lead_time.days, 2),
            lead_time_source=lead_time.source,
            service_level=policy.service_level,
            safety_stock=round(safety, 2),
            target=target,
            reserved=position.reserved,
            returns_requested=position.returns_requested,
            returns_pending_inspection=position.pending_inspection,
            returns_in_repair=position.in_repair,
            requested_sellable_share=round(requested_share, 3),
            inspection_sellable_share=round(inspection_share, 3),
            repair_sellable_share=round(repair_share, 3),
            pack_size=pack_size,
            formula=FORMULA,
        ),
    )


def lead_time(
    declared_days: int | None,
    observed_days: float | None,
    observed_receipts: int,
    min_receipts: int,
    default_days: float,
) -> LeadTime:
    """The lead time the plan uses: the observed one once `min_receipts` receipts show it, else
    the supplier's declared one, else `default_days` for a SKU no supplier is known for."""
    if observed_days is not None and observed_receipts >= min_receipts:
        return LeadTime(observed_days, "OBSERVED")
    if declared_days is not None:
        return LeadTime(float(declared_days), "DECLARED")
    return LeadTime(default_days, "DEFAULT")
