"""Routing: properties that hold for any network, and the cases an operator reasons about."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from services.orders.domain.routing import (
    Candidate,
    CostModel,
    RoutingPlan,
    SplitPolicy,
    plan_order,
)

BERLIN = (52.52, 13.40)
HUB_NEAR_BERLIN = Candidate("HUB-BER", "RETURN_HUB", 52.50, 13.45, {"TEE": 1})
DC_MUNICH = Candidate("DC-MUC", "DISTRIBUTION_CENTER", 48.14, 11.58, {"TEE": 100, "CAP": 100})


def test_a_unit_at_a_hub_near_the_customer_ships_before_one_across_the_country() -> None:
    plan = plan_order({"TEE": 1}, [DC_MUNICH, HUB_NEAR_BERLIN], BERLIN, SplitPolicy.ALLOW_SPLIT)
    assert plan is not None
    assert [p.location_code for p in plan.parcels] == ["HUB-BER"]
    assert "HUB-BER" in plan.explanation


def test_splitting_happens_only_when_it_saves_money() -> None:
    # The hub has the tee, the far DC has both: one parcel from the DC beats hub + DC.
    plan = plan_order(
        {"TEE": 1, "CAP": 1}, [DC_MUNICH, HUB_NEAR_BERLIN], BERLIN, SplitPolicy.ALLOW_SPLIT
    )
    assert plan is not None and [p.location_code for p in plan.parcels] == ["DC-MUC"]
    # From across the continent the single parcel costs more than two local ones.
    dc_lisbon = Candidate("DC-LIS", "DISTRIBUTION_CENTER", 38.72, -9.14, {"TEE": 100, "CAP": 100})
    store = Candidate("STORE-BER", "STORE", 52.51, 13.39, {"CAP": 1})
    plan = plan_order(
        {"TEE": 1, "CAP": 1}, [dc_lisbon, HUB_NEAR_BERLIN, store], BERLIN, SplitPolicy.ALLOW_SPLIT
    )
    assert plan is not None and sorted(p.location_code for p in plan.parcels) == [
        "HUB-BER",
        "STORE-BER",
    ]
    assert plan.parcels[1].extra_parcel_cents == CostModel().extra_parcel_cents


def test_ship_complete_refuses_when_no_single_location_has_everything() -> None:
    a = Candidate("A", "STORE", 52.5, 13.4, {"TEE": 1})
    b = Candidate("B", "STORE", 52.5, 13.4, {"CAP": 1})
    assert plan_order({"TEE": 1, "CAP": 1}, [a, b], BERLIN, SplitPolicy.SHIP_COMPLETE) is None
    assert plan_order({"TEE": 1, "CAP": 1}, [a, b], BERLIN, SplitPolicy.ALLOW_SPLIT) is not None


def test_short_stock_gives_no_plan() -> None:
    assert plan_order({"TEE": 2}, [HUB_NEAR_BERLIN], BERLIN, SplitPolicy.ALLOW_SPLIT) is None
    assert plan_order({"TEE": 1}, [], BERLIN, SplitPolicy.ALLOW_SPLIT) is None


def test_ties_break_by_location_code() -> None:
    a = Candidate("B-STORE", "STORE", 52.5, 13.4, {"TEE": 5})
    b = Candidate("A-STORE", "STORE", 52.5, 13.4, {"TEE": 5})
    for order in ([a, b], [b, a]):
        plan = plan_order({"TEE": 1}, order, BERLIN, SplitPolicy.ALLOW_SPLIT)
        assert plan is not None and plan.parcels[0].location_code == "A-STORE"


def test_a_large_network_is_routed_by_the_greedy_fallback() -> None:
    network = [
        Candidate(
            f"L{i:04d}",
            "STORE",
            40 + (i % 20),
            -5 + (i // 20) % 30,
            {f"S{j}": (i + j) % 3 for j in range(20)},
        )
        for i in range(1000)
    ]
    lines = {f"S{j}": 2 for j in range(20)}
    plan = plan_order(lines, network, BERLIN, SplitPolicy.ALLOW_SPLIT)
    assert plan is not None and plan.algorithm == "greedy"
    by_code = {c.code: c for c in network}
    planned: dict[str, int] = {}
    for parcel in plan.parcels:
        for sku, units in parcel.lines:
            assert units <= by_code[parcel.location_code].available[sku]
            planned[sku] = planned.get(sku, 0) + units
    assert planned == lines and len(plan.parcels) <= CostModel().max_locations


SKUS = ("A", "B", "C")
KINDS = ("DISTRIBUTION_CENTER", "STORE", "RETURN_HUB", "THIRD_PARTY_WAREHOUSE")


def location(code: str, available: dict[str, int]) -> st.SearchStrategy[Candidate]:
    return st.builds(
        Candidate,
        code=st.just(code),
        kind=st.sampled_from(KINDS),
        latitude=st.floats(35, 60),
        longitude=st.floats(-10, 30),
        available=st.just(available),
    )


@st.composite
def fillable(draw: st.DrawFn) -> tuple[dict[str, int], list[Candidate]]:
    """A network of one location up to as many as an order may split over, and an order its
    stock covers: a plan always exists (a larger network could need more parcels than allowed)."""
    size = draw(st.integers(1, CostModel().max_locations))
    stock = [
        {sku: draw(st.integers(0, 4)) for sku in SKUS if draw(st.booleans())} for _ in range(size)
    ]
    totals = {sku: sum(place.get(sku, 0) for place in stock) for sku in SKUS}
    held = [sku for sku in SKUS if totals[sku] > 0]
    if not held:  # nothing in stock anywhere: the first location gets a unit
        stock[0]["A"], totals["A"], held = 1, 1, ["A"]
    wanted = draw(st.lists(st.sampled_from(held), min_size=1, unique=True))
    order = {sku: draw(st.integers(1, totals[sku])) for sku in wanted}
    return order, [draw(location(f"L{i}", place)) for i, place in enumerate(stock)]


@st.composite
def only_split(draw: st.DrawFn) -> tuple[dict[str, int], list[Candidate]]:
    """An order of two or three SKUs that the network covers, while every location lacks one
    of them: only a plan over several locations fills it."""
    wanted = draw(st.lists(st.sampled_from(SKUS), min_size=2, max_size=3, unique=True))
    order = {sku: draw(st.integers(1, 3)) for sku in wanted}
    stock = [{sku: order[sku] + draw(st.integers(0, 2))} for sku in wanted]
    for _ in range(draw(st.integers(0, 3))):
        missing = draw(st.sampled_from(wanted))
        stock.append({sku: draw(st.integers(0, 4)) for sku in wanted if sku != missing})
    order_of_places = draw(st.permutations(stock))
    return order, [draw(location(f"L{i}", place)) for i, place in enumerate(order_of_places)]


policies = st.sampled_from(list(SplitPolicy))


def brute_force_cost(
    lines: dict[str, int],
    network: list[Candidate],
    ship_to: tuple[float, float],
    model: CostModel,
) -> int | None:
    """The cheapest feasible location set by trying every one: the exact search's reference."""
    costs = {c.code: model.parcel_cents(c, ship_to) for c in network}
    best: int | None = None
    for size in range(1, min(model.max_locations, len(network)) + 1):
        for subset in itertools.combinations(network, size):
            if all(sum(c.available.get(s, 0) for c in subset) >= q for s, q in lines.items()):
                cost = sum(costs[c.code] for c in subset) + model.extra_parcel_cents * (size - 1)
                best = cost if best is None else min(best, cost)
    return best


def assert_fills_within_stock(
    plan: RoutingPlan, lines: dict[str, int], network: list[Candidate], model: CostModel
) -> None:
    by_code = {c.code: c for c in network}
    planned: dict[str, int] = {}
    for parcel in plan.parcels:
        for sku, units in parcel.lines:
            assert 0 < units <= by_code[parcel.location_code].available.get(sku, 0)
            planned[sku] = planned.get(sku, 0) + units
    assert planned == lines
    assert len({p.location_code for p in plan.parcels}) == len(plan.parcels)
    assert len(plan.parcels) <= model.max_locations


def best_single_cents(
    lines: dict[str, int], network: list[Candidate], model: CostModel
) -> int | None:
    singles = [c for c in network if all(c.available.get(s, 0) >= q for s, q in lines.items())]
    return min((model.parcel_cents(c, BERLIN) for c in singles), default=None)


@settings(max_examples=300, deadline=None)
@given(case=fillable(), policy=policies)
def test_a_fillable_order_is_planned_within_stock_at_the_cheapest_cost(
    case: tuple[dict[str, int], list[Candidate]], policy: SplitPolicy
) -> None:
    lines, network = case
    model = CostModel()
    plan = plan_order(lines, network, BERLIN, policy, model)
    single = best_single_cents(lines, network, model)
    if policy is SplitPolicy.SHIP_COMPLETE:
        assert (plan is None) == (single is None)
        if plan is not None:
            assert len(plan.parcels) == 1 and plan.total_cents == single
        return
    # Allowed to split, a fillable order always gets the plan brute force finds cheapest.
    assert plan is not None and plan.algorithm == "exact"
    assert_fills_within_stock(plan, lines, network, model)
    assert plan.total_cents == brute_force_cost(lines, network, BERLIN, model)
    if single is not None:
        assert plan.total_cents <= single


@settings(max_examples=200, deadline=None)
@given(case=only_split())
def test_an_order_no_single_location_covers_is_split_at_the_cheapest_cost(
    case: tuple[dict[str, int], list[Candidate]],
) -> None:
    lines, network = case
    model = CostModel()
    assert best_single_cents(lines, network, model) is None
    assert plan_order(lines, network, BERLIN, SplitPolicy.SHIP_COMPLETE, model) is None
    plan = plan_order(lines, network, BERLIN, SplitPolicy.ALLOW_SPLIT, model)
    optimum = brute_force_cost(lines, network, BERLIN, model)
    assert plan is not None and optimum is not None and len(plan.parcels) >= 2
    assert_fills_within_stock(plan, lines, network, model)
    assert plan.total_cents == optimum


@settings(max_examples=200, deadline=None)
@given(case=fillable(), budget=st.integers(1, 4))
def test_when_the_search_runs_out_of_nodes_the_greedy_plan_is_still_valid(
    case: tuple[dict[str, int], list[Candidate]], budget: int
) -> None:
    lines, network = case
    model = CostModel(node_budget=budget)
    plan = plan_order(lines, network, BERLIN, SplitPolicy.ALLOW_SPLIT, model)
    optimum = brute_force_cost(lines, network, BERLIN, model)
    single = best_single_cents(lines, network, model)
    if plan is None:
        # Greedy may miss a plan only when no single location could fill it either.
        assert single is None
        return
    assert_fills_within_stock(plan, lines, network, model)
    assert optimum is not None and plan.total_cents >= optimum
    if single is not None:
        assert plan.total_cents <= single


def test_a_search_cut_short_says_it_fell_back_to_greedy() -> None:
    network = [Candidate(f"L{i}", "STORE", 52.5, 13.4 + i / 100, {"A": 1}) for i in range(6)]
    plan = plan_order({"A": 3}, network, BERLIN, SplitPolicy.ALLOW_SPLIT, CostModel(node_budget=2))
    assert plan is not None and plan.algorithm == "greedy"
    assert sum(q for p in plan.parcels for _, q in p.lines) == 3
    exact = plan_order({"A": 3}, network, BERLIN, SplitPolicy.ALLOW_SPLIT)
    assert exact is not None and exact.algorithm == "exact"
