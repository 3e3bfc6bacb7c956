"""`python -m bench.channels_push`: how long a stock change takes to reach a Shopify shop.

Starts OMS on a fresh data dir and a fake Shopify Admin API (tests/support/shopify_admin.py) in
this process, connects a Shopify channel to it, then makes stock changes one at a time through
the gateway (`adjustStock`) and times each from just before the request until the shop holds the
new value. Prints p50 and p99; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.report import PhaseResult, run_on_oms
from bench.system import RunningOms
from launcher.ports import free_port
from services.kernel.caller import Role
from tests.support.contract import operation
from tests.support.graphql import GraphQLClient
from tests.support.shopify_admin import TOKEN, FakeShopifyAdmin

CHANNEL = "shopify-bench"
LOCATION = "DC-BENCH"
SEEDED = 100
# How often the bench looks at the fake shop: far below the push worker's 100 ms round.
LOOK_EVERY = 0.002
WAIT_LIMIT = 30.0
CHANNEL_DOCUMENT = """
mutation($input: ChannelInput!) { upsertChannel(input: $input) { userErrors { message } } }"""


async def _must(client: GraphQLClient, token: str, document: str, **variables: object) -> None:
    answer = await client.call(token, document, **variables)
    if answer.errors or answer.user_errors:
        raise RuntimeError(f"set-up refused: {answer.errors or answer.user_errors}")


async def _shows(shop: FakeShopifyAdmin, sku: str, units: int) -> float:
    """Waits until the shop holds `units` of `sku`; the moment it was seen (perf_counter)."""
    deadline = time.perf_counter() + WAIT_LIMIT
    while shop.available_of(sku) != units:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the shop never showed {units} of {sku}")
        await asyncio.sleep(LOOK_EVERY)
    return time.perf_counter()


async def set_up(
    client: GraphQLClient, admin: str, shop: FakeShopifyAdmin, skus: list[str]
) -> None:
    """One DC with SEEDED units of each SKU, and the channel connected to the fake shop."""
    location = {"code": LOCATION, "name": LOCATION, "kind": "DISTRIBUTION_CENTER"}
    await _must(
        client,
        admin,
        operation("UpsertLocation"),
        input=location | {"latitude": 38.7, "longitude": -9.1},
    )
    for sku in skus:
        await _must(
            client,
            admin,
            operation("UpsertSku"),
            input={"code": sku, "title": sku, "unitCostCents": 1000, "weightGrams": 500},
        )
    await _must(client, admin, CHANNEL_DOCUMENT, input={"code": CHANNEL, "defaultSafetyStock": 0})
    connection = {
        "code": CHANNEL,
        "platform": "SHOPIFY",
        "account": "bench.myshopify.com",
        "apiBaseUrl": shop.base_url,
        "accessToken": TOKEN,
    }
    await _must(client, admin, operation("ConnectChannel"), input=connection)
    for sku in skus:
        change = {"sku": sku, "locationCode": LOCATION, "delta": SEEDED, "reason": "seed"}
        await _must(client, admin, operation("AdjustStock"), input=change)
    for sku in skus:
        await _shows(shop, sku, SEEDED)


async def changes(
    client: GraphQLClient,
    admin: str,
    shop: FakeShopifyAdmin,
    skus: list[str],
    count: int,
    seed: int,
) -> PhaseResult:
    """`count` changes of ±1 unit to a random SKU, each timed until the shop shows it."""
    rng, held = random.Random(seed), dict.fromkeys(skus, SEEDED)
    result = PhaseResult("stock change → Shopify", note="adjustStock sent → the shop holds it")
    started = time.perf_counter()
    for _ in range(count):
        sku, delta = rng.choice(skus), rng.choice((-1, 1))
        held[sku] += delta
        sent = time.perf_counter()
        change = {"sku": sku, "locationCode": LOCATION, "delta": delta, "reason": "count"}
        await _must(client, admin, operation("AdjustStock"), input=change)
        result.latencies.append(await _shows(shop, sku, held[sku]) - sent)
    result.count, result.seconds = count, time.perf_counter() - started
    return result


async def measure(oms: RunningOms, args: argparse.Namespace) -> list[PhaseResult]:
    shop = FakeShopifyAdmin(free_port())
    skus = [f"PUSH-{n:03d}" for n in range(args.skus)]
    shop.sells(*skus)
    await shop.start()
    client = oms.client(connections=4)
    admin = client.token(Role.ADMIN, subject="bench-admin")
    try:
        await set_up(client, admin, shop, skus)
        result = await changes(client, admin, shop, skus, args.changes, args.seed)
        result.note += f"; {len(shop.set_calls)} inventorySetQuantities calls in all"
        return [result]
    finally:
        await client.close()
        await shop.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.channels_push", description=__doc__)
    parser.add_argument("--changes", type=int, default=300, help="stock changes timed")
    parser.add_argument("--skus", type=int, default=20)
    parser.add_argument("--data-dir", type=Path, help="default: a fresh temporary directory")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--seed", type=int, default=7)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    run_on_oms(build_parser().parse_args(argv), "oms-bench-push-", measure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
