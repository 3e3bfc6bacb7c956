"""`python -m bench.routing`: how the cost of planning one order grows with the locations that
hold its SKUs and with the SKUs per order. Times the orders service's pure routing
(`plan_order`, ALLOW_SPLIT) in this process, no I/O: CPU per plan, median of repeats. Each
location holds each SKU of the order with probability 0.3, 0-5 units, so most orders split;
asserts nothing."""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence

from services.orders.domain.routing import Candidate, SplitPolicy, plan_order


def _candidates(locations: int, skus: list[str], rng: random.Random) -> list[Candidate]:
    return [
        Candidate(
            f"L{n}",
            rng.choice(("DISTRIBUTION_CENTER", "STORE", "RETURN_HUB")),
            rng.uniform(38, 60),
            rng.uniform(-9, 25),
            {sku: rng.randint(0, 5) for sku in skus if rng.random() < 0.3},
        )
        for n in range(locations)
    ]


def cpu_ms_per_plan(locations: int, skus_per_order: int, plans: int, seed: int) -> float:
    rng = random.Random(seed)
    times = []
    for _ in range(plans):
        skus = [f"S{n}" for n in range(skus_per_order)]
        candidates = _candidates(locations, skus, rng)
        lines = dict.fromkeys(skus, rng.randint(1, 2))
        started = time.process_time()
        plan_order(lines, candidates, (52.5, 13.4), SplitPolicy.ALLOW_SPLIT)
        times.append(time.process_time() - started)
    return statistics.median(times) * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.routing", description=__doc__)
    parser.add_argument("--locations", default="10,50,200")
    parser.add_argument("--skus", default="1,3,10")
    parser.add_argument("--plans", type=int, default=50)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    sku_levels = [int(x) for x in args.skus.split(",")]
    print("CPU ms per plan (median) | " + " | ".join(f"{s} SKUs" for s in sku_levels))
    for locations in (int(x) for x in args.locations.split(",")):
        row = [cpu_ms_per_plan(locations, s, args.plans, args.seed) for s in sku_levels]
        print(f"{locations} locations | " + " | ".join(f"{ms:.2f}" for ms in row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
