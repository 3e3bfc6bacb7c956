"""Routing: properties that hold for any network, and the cases an operator reasons about."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from services.orders.domain.routing import Candidate, CostModel, SplitPolicy, plan_order

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


skus = st.sampled_from(["A", "B", "C"])
candidates = st.lists(
    st.builds(
        Candidate,
        code=st.sampled_from([f"L{i}" for i in range(7)]),
        kind=st.sampled_from(
            ["DISTRIBUTION_CENTER", "STORE", "RETURN_HUB", "THIRD_PARTY_WAREHOUSE"]
        ),
        latitude=st.floats(35, 60),
        longitude=st.floats(-10, 30),
        available=st.dictionaries(skus, st.integers(0, 4)),
    ),
    max_size=7,
    unique_by=lambda c: c.code,
)
orders = st.dictionaries(skus, st.integers(1, 5), min_size=1)
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


@settings(max_examples=300, deadline=None)
@given(lines=orders, network=candidates, policy=policies)
def test_plans_respect_stock_plan_each_unit_once_and_never_lose_to_one_location(
    lines: dict[str, int], network: list[Candidate], policy: SplitPolicy
) -> None:
    model = CostModel()
    plan = plan_order(lines, network, BERLIN, policy, model)
    singles = [c for c in network if all(c.available.get(s, 0) >= q for s, q in lines.items())]
    if plan is None:
        assert not singles
        if policy is SplitPolicy.ALLOW_SPLIT:
            assert brute_force_cost(lines, network, BERLIN, model) is None
        return
    by_code = {c.code: c for c in network}
    planned: dict[str, int] = {}
    for parcel in plan.parcels:
        for sku, units in parcel.lines:
            assert 0 < units <= by_code[parcel.location_code].available.get(sku, 0)
            planned[sku] = planned.get(sku, 0) + units
    assert planned == lines
    assert len({p.location_code for p in plan.parcels}) == len(plan.parcels)
    if policy is SplitPolicy.SHIP_COMPLETE:
        assert len(plan.parcels) == 1
    if singles:
        best_single = min(model.parcel_cents(c, BERLIN) for c in singles)
        assert plan.total_cents <= best_single
    if policy is SplitPolicy.ALLOW_SPLIT and plan.algorithm == "exact":
        assert plan.total_cents == brute_force_cost(lines, network, BERLIN, model)
