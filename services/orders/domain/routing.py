"""Routing: which locations ship which units of an order, at the lowest cost the network allows.

Cost of a plan = for each parcel (one per location used): shipping by great-circle distance
from the location to the ship-to (a zone table) + handling for the location's kind; plus a
charge for every parcel after the first, so the plan splits only when splitting saves money.

Invariants (property-tested): a plan never takes more units from a location than it has
available; every ordered unit is planned exactly once; SHIP_COMPLETE plans use one location;
no plan costs more than the best single-location plan; ties break deterministically (fewer
parcels, then location codes).

Search: an exact branch-and-bound over locations in ascending parcel cost, bounded by the best
single-location plan, for orders whose candidate set is small; past `exact_candidate_limit`
candidates or when the search exhausts `node_budget`, a greedy set cover (the location with the
lowest cost per still-needed unit first), then whichever of it and the best single-location plan
is cheaper. The greedy result is labelled so an operator can tell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from services.kernel.geo import distance_km


class SplitPolicy(StrEnum):
    ALLOW_SPLIT = "ALLOW_SPLIT"
    SHIP_COMPLETE = "SHIP_COMPLETE"


@dataclass(frozen=True)
class Candidate:
    """A location that ships orders, with the units of the order's SKUs it has available."""

    code: str
    kind: str
    latitude: float
    longitude: float
    available: Mapping[str, int]


def _default_zones() -> tuple[tuple[float, int], ...]:
    # (up to km, parcel price in cents): a regional carrier's zone chart, roughly.
    return ((50, 450), (200, 650), (600, 900), (1500, 1300), (float("inf"), 1900))


def _default_handling() -> dict[str, int]:
    # Pick-and-pack labour per parcel: a DC is fastest; a store picks between customers.
    return {
        "DISTRIBUTION_CENTER": 150,
        "THIRD_PARTY_WAREHOUSE": 250,
        "RETURN_HUB": 200,
        "STORE": 350,
    }


@dataclass(frozen=True)
class CostModel:
    """The knobs an operator tunes. Money in cents."""

    zones: tuple[tuple[float, int], ...] = field(default_factory=_default_zones)
    handling_cents: Mapping[str, int] = field(default_factory=_default_handling)
    extra_parcel_cents: int = 400
    # Commercial OMSs cap splits (Salesforce: at most 5 locations).
    max_locations: int = 5
    exact_candidate_limit: int = 40
    node_budget: int = 20_000

    def shipping_cents(self, km: float) -> int:
        for up_to_km, cents in self.zones:
            if km <= up_to_km:
                return cents
        return self.zones[-1][1]

    def parcel_cents(self, candidate: Candidate, ship_to: tuple[float, float]) -> int:
        km = distance_km(candidate.latitude, candidate.longitude, *ship_to)
        return self.shipping_cents(km) + self.handling_cents.get(candidate.kind, 300)


@dataclass(frozen=True)
class Parcel:
    location_code: str
    location_kind: str
    distance_km: float
    lines: tuple[tuple[str, int], ...]
    shipping_cents: int
    handling_cents: int
    extra_parcel_cents: int

    @property
    def total_cents(self) -> int:
        return self.shipping_cents + self.handling_cents + self.extra_parcel_cents


@dataclass(frozen=True)
class RoutingPlan:
    parcels: tuple[Parcel, ...]
    algorithm: str  # "exact" or "greedy"
    candidates_considered: int
    explanation: str

    @property
    def total_cents(self) -> int:
        return sum(p.total_cents for p in self.parcels)


def plan_order(
    lines: Mapping[str, int],
    candidates: Sequence[Candidate],
    ship_to: tuple[float, float],
    policy: SplitPolicy,
    model: CostModel | None = None,
) -> RoutingPlan | None:
    """The cheapest plan for `lines` (sku -> units), or None when the stock cannot cover them."""
    model = model or CostModel()
    need = {sku: qty for sku, qty in lines.items() if qty > 0}
    useful = [c for c in candidates if any(c.available.get(sku, 0) > 0 for sku in need)]
    costs = {c.code: model.parcel_cents(c, ship_to) for c in useful}
    ordered = sorted(useful, key=lambda c: (costs[c.code], c.code))

    single = _best_single(need, ordered, costs)
    choice: tuple[str, ...] | None = (single,) if single else None
    algorithm = "exact"
    if policy is SplitPolicy.ALLOW_SPLIT and model.max_locations > 1:
        if len(ordered) <= model.exact_candidate_limit:
            search = _BranchAndBound(need, ordered, costs, model, choice)
            choice = search.run()
            if search.exhausted:
                algorithm = "greedy"
                choice = _cheaper(choice, _greedy(need, ordered, costs, model), costs, model)
        else:
            algorithm = "greedy"
            choice = _cheaper(choice, _greedy(need, ordered, costs, model), costs, model)
    if choice is None:
        return None
    return _build_plan(
        need, [c for c in ordered if c.code in choice], ship_to, model, algorithm, len(ordered)
    )


def _covers(need: Mapping[str, int], candidate: Candidate) -> bool:
    return all(candidate.available.get(sku, 0) >= qty for sku, qty in need.items())


def _best_single(
    need: Mapping[str, int], ordered: Sequence[Candidate], costs: Mapping[str, int]
) -> str | None:
    # `ordered` is sorted by (cost, code), so the first that covers is the best.
    return next((c.code for c in ordered if _covers(need, c)), None)


def _plan_cost(codes: Sequence[str], costs: Mapping[str, int], model: CostModel) -> int:
    return sum(costs[c] for c in codes) + model.extra_parcel_cents * max(0, len(codes) - 1)


def _rank(
    codes: Sequence[str], costs: Mapping[str, int], model: CostModel
) -> tuple[int, int, tuple[str, ...]]:
    return (_plan_cost(codes, costs, model), len(codes), tuple(sorted(codes)))


def _cheaper(
    a: tuple[str, ...] | None,
    b: tuple[str, ...] | None,
    costs: Mapping[str, int],
    model: CostModel,
) -> tuple[str, ...] | None:
    if a is None or b is None:
        return a or b
    return a if _rank(a, costs, model) <= _rank(b, costs, model) else b


def _take(need: Mapping[str, int], candidate: Candidate) -> dict[str, int]:
    """What is still needed after this location gives all it can."""
    rest = {}
    for sku, qty in need.items():
        left = qty - min(qty, candidate.available.get(sku, 0))
        if left:
            rest[sku] = left
    return rest


class _BranchAndBound:
    """Exact search over location sets, cheapest parcels first, pruned by the best plan so far."""

    def __init__(
        self,
        need: Mapping[str, int],
        ordered: Sequence[Candidate],
        costs: Mapping[str, int],
        model: CostModel,
        incumbent: tuple[str, ...] | None,
    ) -> None:
        self._need, self._ordered, self._costs, self._model = need, ordered, costs, model
        self.best = incumbent
        self._best_rank = _rank(incumbent, costs, model) if incumbent else None
        self._nodes = 0
        self.exhausted = False

    def run(self) -> tuple[str, ...] | None:
        self._search(0, (), dict(self._need), 0)
        return self.best

    def _search(self, start: int, chosen: tuple[str, ...], need: dict[str, int], cost: int) -> None:
        if not need:
            rank = _rank(chosen, self._costs, self._model)
            if self._best_rank is None or rank < self._best_rank:
                self.best, self._best_rank = chosen, rank
            return
        if len(chosen) >= self._model.max_locations:
            return
        extra = self._model.extra_parcel_cents if chosen else 0
        for index in range(start, len(self._ordered)):
            self._nodes += 1
            if self._nodes > self._model.node_budget:
                self.exhausted = True
                return
            candidate = self._ordered[index]
            next_cost = cost + self._costs[candidate.code] + extra
            if self._best_rank is not None and next_cost > self._best_rank[0]:
                break  # every later location costs at least as much
            rest = _take(need, candidate)
            if rest == need:
                continue  # it holds nothing still needed
            self._search(index + 1, (*chosen, candidate.code), rest, next_cost)
            if self.exhausted:
                return


def _cost_per_unit(
    candidate: Candidate, remaining: Mapping[str, int], costs: Mapping[str, int]
) -> tuple[float, str]:
    units = sum(min(q, candidate.available.get(s, 0)) for s, q in remaining.items())
    return ((costs[candidate.code] / units) if units else float("inf"), candidate.code)


def _greedy(
    need: Mapping[str, int],
    ordered: Sequence[Candidate],
    costs: Mapping[str, int],
    model: CostModel,
) -> tuple[str, ...] | None:
    chosen: list[str] = []
    remaining = dict(need)
    pool = list(ordered)
    while remaining and len(chosen) < model.max_locations and pool:
        best = min(pool, key=lambda c: _cost_per_unit(c, remaining, costs))
        if _cost_per_unit(best, remaining, costs)[0] == float("inf"):
            break
        chosen.append(best.code)
        pool.remove(best)
        remaining = _take(remaining, best)
    return tuple(chosen) if not remaining else None


def _build_plan(
    need: Mapping[str, int],
    chosen: Sequence[Candidate],
    ship_to: tuple[float, float],
    model: CostModel,
    algorithm: str,
    considered: int,
) -> RoutingPlan:
    """Assigns units to the chosen locations, cheapest first, and prices each parcel."""
    by_cost = sorted(chosen, key=lambda c: (model.parcel_cents(c, ship_to), c.code))
    remaining = dict(need)
    parcels: list[Parcel] = []
    for candidate in by_cost:
        lines = []
        for sku in sorted(remaining):
            units = min(remaining[sku], candidate.available.get(sku, 0))
            if units:
                lines.append((sku, units))
                remaining[sku] -= units
        remaining = {s: q for s, q in remaining.items() if q}
        if not lines:
            continue
        km = distance_km(candidate.latitude, candidate.longitude, *ship_to)
        parcels.append(
            Parcel(
                location_code=candidate.code,
                location_kind=candidate.kind,
                distance_km=round(km, 1),
                lines=tuple(lines),
                shipping_cents=model.shipping_cents(km),
                handling_cents=model.handling_cents.get(candidate.kind, 300),
                extra_parcel_cents=model.extra_parcel_cents if parcels else 0,
            )
        )
    return RoutingPlan(tuple(parcels), algorithm, considered, _explain(parcels, considered))


def _explain(parcels: Sequence[Parcel], considered: int) -> str:
    where = "; ".join(
        f"{p.location_code} ({p.location_kind.lower()}, {p.distance_km:.0f} km): "
        f"{p.total_cents} cents for {sum(q for _, q in p.lines)} unit(s)"
        for p in parcels
    )
    kind = "one parcel" if len(parcels) == 1 else f"{len(parcels)} parcels"
    return f"Cheapest plan among {considered} location(s) holding stock: {kind}. {where}"
