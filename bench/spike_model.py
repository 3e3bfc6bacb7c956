"""The pure parts of `python -m bench.spike`: the season's daily return volumes, the generated
network, each location's day of inspection on the simulated clock, and the figures per policy.

The clock is a day counter the simulation advances; nothing here reads the wall clock.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.returns.domain.report import percentile

# The field's peak: 5.3x normal volume in the weeks after Black Friday (../shared/DOMAIN.md).
PEAK_FACTOR = 5.3
PEAK_DAYS = 14
# A unit counts as back on sale quickly when restocked within this many days of its request.
ON_SALE_WITHIN_DAYS = 5
# Days from a return's request to its arrival: dropped off at a hub near the customer the same
# day and scanned the next; sent to the distribution centre by carrier.
HUB_TRANSIT_DAYS = 1
DC_TRANSIT_DAYS = 3


def daily_volumes(
    baseline: int, days: int, peak_start: int, peak_days: int = PEAK_DAYS
) -> list[int]:
    """Returns requested each day of a season: `baseline` a day, and over the `peak_days` from
    `peak_start` a bump rising to PEAK_FACTOR x baseline at its middle and back (half a sine).

    Invariants: every day at least `baseline`; the highest day is round(PEAK_FACTOR x baseline)
    when the peak has an odd number of days (its middle day), never above it."""
    volumes = []
    for day in range(days):
        into = day - peak_start
        bump = math.sin(math.pi * (into + 0.5) / peak_days) if 0 <= into < peak_days else 0.0
        volumes.append(round(baseline * (1 + (PEAK_FACTOR - 1) * bump)))
    return volumes


@dataclass(frozen=True)
class Site:
    code: str
    kind: str  # RETURN_HUB, DISTRIBUTION_CENTER or STORE
    latitude: float
    longitude: float
    # Returns it really inspects in a day, whatever it declares to the OMS.
    inspections_per_day: int = 0


@dataclass(frozen=True)
class Network:
    centre: tuple[float, float]
    sites: tuple[Site, ...]

    @property
    def hubs(self) -> tuple[Site, ...]:
        return tuple(s for s in self.sites if s.kind == "RETURN_HUB")

    @property
    def dc(self) -> Site:
        return next(s for s in self.sites if s.kind == "DISTRIBUTION_CENTER")


def _offset(centre: tuple[float, float], km_north: float, km_east: float) -> tuple[float, float]:
    lat = centre[0] + km_north / 111.0
    lon = centre[1] + km_east / (111.0 * math.cos(math.radians(centre[0])))
    return round(lat, 5), round(lon, 5)


def generate_network(
    rng: random.Random,
    hubs: int,
    stores: int,
    hub_capacity: int,
    clerk_capacity: int,
    centre: tuple[float, float] = (52.52, 13.40),
) -> Network:
    """A region: hub 1 downtown, the other hubs 8-20 km out (all within a customer's reach),
    stores scattered, and a distribution centre about 250 km away with one clerk."""
    sites = [Site("DC", "DISTRIBUTION_CENTER", *_offset(centre, -200, 150), clerk_capacity)]
    for n in range(hubs):
        distance = 0.0 if n == 0 else rng.uniform(8, 20)
        angle = 2 * math.pi * n / max(1, hubs - 1)
        spot = _offset(centre, distance * math.sin(angle), distance * math.cos(angle))
        sites.append(Site(f"HUB-{n + 1}", "RETURN_HUB", *spot, hub_capacity))
    for n in range(stores):
        spot = _offset(centre, rng.uniform(-15, 15), rng.uniform(-15, 15))
        sites.append(Site(f"STORE-{n + 1}", "STORE", *spot))
    return Network(centre, tuple(sites))


def customer_spot(
    rng: random.Random, network: Network, downtown_share: float
) -> tuple[float, float]:
    """Where a returning customer is: downtown (within 3 km of hub 1) with `downtown_share`,
    else anywhere within 15 km of the centre."""
    reach = 3.0 if rng.random() < downtown_share else 15.0
    distance, angle = reach * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    return _offset(network.centre, distance * math.sin(angle), distance * math.cos(angle))


@dataclass
class Parcel:
    """One return on the simulated clock."""

    return_id: str
    destination: str
    requested_day: int
    arrival_day: int
    cost_cents: int
    restockable: bool
    received: bool = False
    inspected_day: int | None = None


@dataclass
class DayFigures:
    day: int
    requested: int
    # Received at a location and not yet inspected, at the end of the day, everywhere.
    waiting: int


def due_for_inspection(parcels: Sequence[Parcel], location: str, capacity: int) -> list[Parcel]:
    """What a location inspects today: its received parcels not yet inspected, in order of
    arrival (then request), at most `capacity`."""
    queue = [
        p for p in parcels if p.destination == location and p.received and p.inspected_day is None
    ]
    queue.sort(key=lambda p: (p.arrival_day, p.requested_day, p.return_id))
    return queue[:capacity]


@dataclass
class PolicyFigures:
    policy: str
    returns: int
    cost_cents: int
    days_p50: float
    days_p90: float
    days_max: int
    unfinished: int
    largest_backlog: int
    largest_backlog_day: int
    cleared_day: int | None
    on_sale_within_5_days: int
    restockable: int
    waiting_by_day: list[int] = field(default_factory=list)


def figures(policy: str, parcels: Sequence[Parcel], days: Sequence[DayFigures]) -> PolicyFigures:
    """A policy's figures: cost, request-to-refund days (the refund is issued at inspection),
    the largest end-of-day backlog and the first later day nothing received waited, and
    restockable units refunded within ON_SALE_WITHIN_DAYS of their request."""
    waits = [p.inspected_day - p.requested_day for p in parcels if p.inspected_day is not None]
    waiting = [d.waiting for d in days]
    largest = max(waiting, default=0)
    peak_day = waiting.index(largest) if waiting else 0
    cleared = next((d.day for d in days[peak_day:] if d.waiting == 0), None)
    return PolicyFigures(
        policy=policy,
        returns=len(parcels),
        cost_cents=sum(p.cost_cents for p in parcels),
        days_p50=percentile(waits, 50),
        days_p90=percentile(waits, 90),
        days_max=max(waits, default=0),
        unfinished=sum(1 for p in parcels if p.inspected_day is None),
        largest_backlog=largest,
        largest_backlog_day=days[peak_day].day if days else 0,
        cleared_day=cleared if largest else (days[0].day if days else None),
        on_sale_within_5_days=sum(
            1
            for p in parcels
            if p.restockable
            and p.inspected_day is not None
            and p.inspected_day - p.requested_day <= ON_SALE_WITHIN_DAYS
        ),
        restockable=sum(1 for p in parcels if p.restockable),
        waiting_by_day=waiting,
    )


def markdown_table(rows: Sequence[PolicyFigures]) -> str:
    header = (
        "| Policy | Returns | Handling cost | Days to refund p50 / p90 / max | Largest backlog "
        "(day) | Backlog cleared on day | Units back on sale within 5 days |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = [
        f"| {r.policy} | {r.returns} | ${r.cost_cents / 100:,.0f} | "
        f"{r.days_p50:.1f} / {r.days_p90:.1f} / {r.days_max} | "
        f"{r.largest_backlog} (day {r.largest_backlog_day}) | "
        f"{r.cleared_day if r.cleared_day is not None else 'not by the end'} | "
        f"{r.on_sale_within_5_days} of {r.restockable} "
        f"({100 * r.on_sale_within_5_days / max(1, r.restockable):.0f} %) |"
        for r in rows
    ]
    return header + "\n".join(lines) + "\n"
