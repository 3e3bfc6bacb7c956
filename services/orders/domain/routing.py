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

Capacity: a location may declare how many orders it ships in a day, and the service tells the
plan how many of its shipments wait (its backlog). A location whose backlog has reached its
capacity is full (`services/kernel/capacity.py`): the plan is first sought among the others
alone, at any cost; only when they cannot serve the order do full locations take part, each
parcel from one then charged `backlog_cents_per_order` for every order of its backlog past a
day's capacity, so the least overloaded one wins. When no candidate declares a capacity the
plan is exactly the one without these rules. The backlog is read before the hold, so two
placements at once may both see a location one order under its capacity and both use it: a
location can go over its capacity by an order or two at the same moment (never over its stock,
which the hold guards).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from services.kernel.capacity import is_full
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
    # Orders it ships in a day (None: no limit), and its shipments allocated and not shipped.
    daily_capacity: int | None = None
    backlog: int = 0

    @property
    def full(self) -> bool:
        return is_full(self.backlog, self.daily_capacity)


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
    # What an order waiting a day longer costs, per order of backlog past a day's capacity: a
    # customer's patience, priced like a parcel's handling.
    backlog_cents_per_order: int = 300

    def shipping_cents(self, km: float) -> int:
        for up_to_km, cents in self.zones:
            if km <= up_to_km:
                return cents
        return self.zones[-1][1]

    def parcel_cents(self, candidate: Candidate, ship_to: tuple[float, float]) -> int:
        km = distance_km(candidate.latitude, candidate.longitude, *ship_to)
        return (
            self.shipping_cents(km)
            + self.handling_cents.get(candidate.kind, 300)
            + self.backlog_cents(candidate)
        )

    def backlog_cents(self, candidate: Candidate) -> int:
        """The charge for the orders already waiting past a day's work, this one included."""
        if candidate.daily_capacity is None:
            return 0
        beyond = candidate.backlog + 1 - candidate.daily_capacity
        return self.backlog_cents_per_order * max(0, beyond)


@dataclass(frozen=True)
class Parcel:
    location_code: str
    location_kind: str
    distance_km: float
    lines: tuple[tuple[str, int], ...]
    shipping_cents: int
    handling_cents: int
    extra_parcel_cents: int
    backlog_cents: int = 0
    # The location's declared capacity when the plan was made (None: no limit).
    daily_capacity: int | None = None

    @property
    def total_cents(self) -> int:
        return (
            self.shipping_cents + self.handling_cents + self.extra_parcel_cents + self.backlog_cents
        )


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
    """The cheapest plan for `lines` (sku -> units), or None when the stock cannot cover them.

    Full locations (backlog at their daily capacity) are used only when the others cannot
    serve the order; the explanation then says so, or says which full location the plan
    avoided. Invariant: with no capacity declared, the plan is `_cheapest` over all candidates.
    """
    model = model or CostModel()
    if all(c.daily_capacity is None for c in candidates):
        return _cheapest(lines, candidates, ship_to, policy, model)
    plan = _cheapest(lines, [c for c in candidates if not c.full], ship_to, policy, model)
    if plan is not None:
        unlimited = [replace(c, daily_capacity=None) for c in candidates]
        without = _cheapest(lines, unlimited, ship_to, policy, model)
        return _with_note(plan, _avoided(plan, without, candidates))
    plan = _cheapest(lines, candidates, ship_to, policy, model)
    return None if plan is None else _with_note(plan, _no_alternative(plan, candidates))


def _avoided(
    plan: RoutingPlan, without: RoutingPlan | None, candidates: Sequence[Candidate]
) -> str:
    """What capacity changed: the full locations the plan would have used without it."""
    used = {p.location_code for p in plan.parcels}
    by_code = {c.code: c for c in candidates}
    avoided = [
        by_code[p.location_code]
        for p in (without.parcels if without else ())
        if p.location_code not in used
    ]
    if not avoided:
        return ""
    return "Capacity changed the choice: " + ", ".join(
        f"{c.code} is at its daily capacity ({c.backlog} of {c.daily_capacity} orders waiting)"
        for c in avoided
    )


def _no_alternative(plan: RoutingPlan, candidates: Sequence[Candidate]) -> str:
    """Why a full location ships anyway: nothing else could serve the order."""
    by_code = {c.code: c for c in candidates}
    full = [by_code[p.location_code] for p in plan.parcels if by_code[p.location_code].full]
    return "Capacity could not change the choice: " + ", ".join(
        f"{c.code} is at its daily capacity ({c.backlog} of {c.daily_capacity} orders waiting) "
        "but no other location can serve the order"
        for c in full
    )


def _with_note(plan: RoutingPlan, note: str) -> RoutingPlan:
    return replace(plan, explanation=f"{plan.explanation}. {note}") if note else plan


def _cheapest(
    lines: Mapping[str, int],
    candidates: Sequence[Candidate],
    ship_to: tuple[float, float],
    policy: SplitPolicy,
    model: CostModel,
) -> RoutingPlan | None:
    """The cheapest plan over `candidates`, counting each one's backlog charge."""
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
                backlog_cents=model.backlog_cents(candidate),
                daily_capacity=candidate.daily_capacity,
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
