"""The throughput phases, sent by wrk: placeOrder, adjustStock and availability at a concurrency.

The bodies are the contract's documents with the seeded network's values; the bench's Python
client afterwards checks a sample of the placed orders."""

from __future__ import annotations

import asyncio

from bench.network import CHANNEL, order_input
from bench.phases import Bench
from bench.report import PhaseResult
from bench.wrk import UNIQUE, WrkRun, graphql_body, run_wrk
from tests.support.contract import operation

# Distinct bodies written for wrk to go round; enough that consecutive orders differ.
TEMPLATES = 2000


async def wrk_place_orders(bench: Bench, concurrency: int, seconds: float) -> PhaseResult:
    """placeOrder from `concurrency` connections, each order its own externalId; then the
    sampled orders are read back (storefront `Order`) and each must carry its externalId."""
    document = operation("PlaceOrder")
    bodies = [
        graphql_body(document, {"input": order_input(bench.rng, bench.network, UNIQUE)})
        for _ in range(TEMPLATES)
    ]
    run = await _wrk(
        bench,
        f"placeOrder c={concurrency}",
        bench.storefront,
        bodies,
        concurrency,
        seconds,
        unique_prefix=f"bench-{bench.run_id}-c{concurrency}-",
    )
    missing = await _missing_orders(bench, run)
    repeated = len(run.samples) - len({external for _id, external in run.samples})
    run.result.errors += missing + repeated
    checked = (
        f"{len(run.samples)} sampled orders read back, {missing} missing or wrong, "
        f"{repeated} externalIds repeated"
    )
    run.result.note = "; ".join(filter(None, [run.result.note, checked]))
    return run.result


async def wrk_adjust_stock(bench: Bench, concurrency: int, seconds: float) -> PhaseResult:
    """adjustStock, one unit on one stock row per request, from `concurrency` connections."""
    document = operation("AdjustStock")
    stock = bench.network.stock
    bodies = []
    for _ in range(TEMPLATES):
        sku, location, _units = stock[bench.rng.randrange(len(stock))]
        change = {"sku": sku, "locationCode": location, "delta": 1, "reason": "bench"}
        bodies.append(graphql_body(document, {"input": change}))
    run = await _wrk(
        bench, f"adjustStock c={concurrency}", bench.admin, bodies, concurrency, seconds
    )
    return run.result


async def wrk_availability(bench: Bench, concurrency: int, seconds: float) -> PhaseResult:
    """availability of 5 random SKUs on the storefront's channel."""
    document = operation("Availability")
    codes = [sku["code"] for sku in bench.network.skus]
    bodies = [
        graphql_body(
            document, {"skus": bench.rng.sample(codes, min(5, len(codes))), "channel": CHANNEL}
        )
        for _ in range(TEMPLATES)
    ]
    run = await _wrk(
        bench, f"availability c={concurrency}", bench.storefront, bodies, concurrency, seconds
    )
    return run.result


async def _wrk(
    bench: Bench,
    name: str,
    token: str,
    bodies: list[str],
    concurrency: int,
    seconds: float,
    unique_prefix: str = "",
) -> WrkRun:
    # wrk blocks; off the loop so that nothing else of the bench's stalls meanwhile.
    return await asyncio.to_thread(
        run_wrk,
        name,
        bench.client.base_url,
        token,
        bodies,
        connections=concurrency,
        seconds=seconds,
        unique_prefix=unique_prefix,
    )


async def _missing_orders(bench: Bench, run: WrkRun) -> int:
    """How many sampled (id, externalId) pairs the storefront cannot read back as they were."""
    document, missing = operation("Order"), 0
    for order_id, external_id in run.samples:
        answer = await bench.client.call(bench.storefront, document, id=order_id)
        order = (answer.data or {}).get("order")
        if not order or order.get("externalId") != external_id or not order.get("lines"):
            missing += 1
    return missing
