"""`python -m bench.returns`: a returns spike through the gateway, as after Black Friday.

Starts OMS on a fresh data dir, ships orders from a far distribution centre to customers near
several return hubs, then sends a burst of returns through request, the hub's scan and inspection
at a fixed concurrency. Reports returns per second end to end, each step's latency, how long the
hubs' backlog takes to drain after the last scan, and when inventory shows every unit's outcome.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from bench.cpu import cpu_seconds, used_since
from bench.load import run_load
from bench.network import CITIES
from bench.phases import settle
from bench.report import PhaseResult, machine, print_cpu_table, print_table, write_json
from bench.system import RunningOms, running_oms
from services.kernel.caller import Role
from tests.support.contract import operation
from tests.support.graphql import Answer, GraphQLClient
from tests.support.inputs import (
    AddressInput,
    LocationInput,
    OrderLineInput,
    PlaceOrderInput,
    SkuInput,
    StockAdjustmentInput,
)

SETUP_CONCURRENCY = 16
CATCH_UP_LIMIT_SECONDS = 300.0
# The field's peak: 5.3x normal volume in the weeks after Black Friday (../shared/DOMAIN.md).
PEAK_FACTOR = 5.3
DC_CITY = "Lisbon"
HUB_CITIES = ("Berlin", "Paris", "Milan", "Warsaw", "Hamburg", "Vienna", "Amsterdam", "Prague")
# What inspection finds: (grade, measured share of the expected weight, share of returns).
# About 10 % are not what was sold (DOMAIN.md: 10-15 %): here a parcel at a tenth of its weight.
OUTCOMES = (
    ("NEW", 1.0, 60),
    ("LIKE_NEW", 1.0, 15),
    ("GOOD", 1.0, 10),
    ("DAMAGED", 1.0, 5),
    ("NEW", 0.1, 10),
)
REPORT = """
query { returnsReport { returns handlingCostCents centralizedCostCents savingCents
  requestToRefundHoursP50 receiptToRestockHoursP50 awaitingInspection } }"""


@dataclass(frozen=True)
class Parcel:
    """One shipped order and the return that will come back from it."""

    order_id: str
    sku: str
    weight_grams: int
    hub: str
    grade: str
    measured_grams: int


@dataclass
class Spike:
    client: GraphQLClient
    admin: str
    storefront: str
    scanners: dict[str, str]
    skus: list[SkuInput]
    rng: random.Random


def _city(name: str) -> tuple[float, float]:
    return next((lat, lon) for city, _country, lat, lon in CITIES if city == name)


def _locations(hubs: int) -> list[LocationInput]:
    sites = [("DC-LIS", "DISTRIBUTION_CENTER", DC_CITY)]
    sites += [(f"RH-{city[:3].upper()}", "RETURN_HUB", city) for city in HUB_CITIES[:hubs]]
    places: list[LocationInput] = []
    for code, kind, city in sites:
        lat, lon = _city(city)
        places.append({"code": code, "name": code, "kind": kind, "latitude": lat, "longitude": lon})
    return places


async def _must(phase: PhaseResult) -> PhaseResult:
    if phase.errors or phase.user_errors:
        raise RuntimeError(f"{phase.name}: {phase.errors} errors, {phase.user_errors} refused")
    return phase


async def seed(spike: Spike, hubs: list[LocationInput], count: int) -> list[PhaseResult]:
    """The DC and the hubs, the SKUs, and enough stock at the DC for every order."""
    client, admin = spike.client, spike.admin
    places = [*_locations(0), *hubs]
    upsert_location, upsert_sku = operation("UpsertLocation"), operation("UpsertSku")

    async def stock(i: int) -> Answer:
        change: StockAdjustmentInput = {
            "sku": spike.skus[i]["code"],
            "locationCode": "DC-LIS",
            "delta": count,
            "reason": "seed",
        }
        return await client.call(admin, operation("AdjustStock"), input=change)

    return [
        await _must(
            await run_load(
                "setup: upsertLocation",
                lambda i: client.call(admin, upsert_location, input=places[i]),
                len(places),
                SETUP_CONCURRENCY,
            )
        ),
        await _must(
            await run_load(
                "setup: upsertSku",
                lambda i: client.call(admin, upsert_sku, input=spike.skus[i]),
                len(spike.skus),
                SETUP_CONCURRENCY,
            )
        ),
        await _must(
            await run_load("setup: adjustStock", stock, len(spike.skus), SETUP_CONCURRENCY)
        ),
    ]


def _outcome(rng: random.Random) -> tuple[str, float]:
    grade, share, _weight = rng.choices(OUTCOMES, weights=[o[2] for o in OUTCOMES])[0]
    return grade, share


async def ship_orders(
    spike: Spike, hubs: list[LocationInput], count: int, run_id: str
) -> tuple[list[PhaseResult], list[Parcel]]:
    """`count` one-unit orders to customers within 15 km of a hub, each shipped (from the DC)."""
    plans = []
    for i in range(count):
        hub, sku = hubs[i % len(hubs)], spike.rng.choice(spike.skus)
        grade, share = _outcome(spike.rng)
        spot: AddressInput = {
            "latitude": hub["latitude"] + spike.rng.uniform(-0.1, 0.1),
            "longitude": hub["longitude"] + spike.rng.uniform(-0.1, 0.1),
        }
        plans.append((hub["code"], sku, grade, share, spot))
    placed: list[dict[str, Any]] = [{} for _ in range(count)]

    async def place(i: int) -> Answer:
        _hub, sku, _grade, _share, spot = plans[i]
        line: OrderLineInput = {
            "sku": sku["code"],
            "quantity": 1,
            "unitPriceCents": 2 * sku["unitCostCents"],
        }
        order: PlaceOrderInput = {
            "channel": "web",
            "externalId": f"spike-{run_id}-{i}",
            "email": "c@example.com",
            "shipTo": spot,
            "lines": [line],
        }
        answer = await spike.client.call(spike.storefront, operation("PlaceOrder"), input=order)
        placed[i] = ((answer.data or {}).get("placeOrder") or {}).get("order") or {}
        return answer

    async def ship(i: int) -> Answer:
        (shipment,) = placed[i]["shipments"]
        return await spike.client.call(spike.admin, operation("ShipShipment"), id=shipment["id"])

    phases = [
        await _must(await run_load("setup: placeOrder", place, count, SETUP_CONCURRENCY)),
        await _must(await run_load("setup: shipShipment", ship, count, SETUP_CONCURRENCY)),
    ]
    parcels = [
        Parcel(
            order["id"],
            sku["code"],
            sku["weightGrams"],
            hub,
            grade,
            int(sku["weightGrams"] * share),
        )
        for order, (hub, sku, grade, share, _spot) in zip(placed, plans, strict=True)
    ]
    return phases, parcels


def _payload(answer: Answer) -> dict[str, Any]:
    (payload,) = (answer.data or {"": {}}).values()
    return payload or {}


async def returns_spike(
    spike: Spike, parcels: list[Parcel], concurrency: int, pids: dict[str, int]
) -> list[PhaseResult]:
    """The burst: every return requested, then every parcel scanned at its hub, then the hubs'
    queues read and inspected oldest first, round robin over the hubs."""
    client, count = spike.client, len(parcels)
    return_ids = [""] * count
    started = time.perf_counter()

    async def request(i: int) -> Answer:
        line = {"sku": parcels[i].sku, "quantity": 1, "reason": "SIZE_TOO_SMALL"}
        answer = await client.call(
            spike.storefront,
            operation("RequestReturn"),
            input={"orderId": parcels[i].order_id, "lines": [line]},
        )
        found = _payload(answer).get("return") or {}
        return_ids[i] = found.get("id", "")
        if found and found["destination"]["code"] != parcels[i].hub:
            raise RuntimeError(f"return {found['id']} went to {found['destination']['code']}")
        return answer

    async def receive(i: int) -> Answer:
        hub = parcels[i].hub
        document = operation("ReceiveReturn")
        return await client.call(spike.scanners[hub], document, id=return_ids[i], locationCode=hub)

    phases = [await _metered(pids, run_load("returns: requestReturn", request, count, concurrency))]
    phases.append(
        await _metered(pids, run_load("returns: receiveReturn", receive, count, concurrency))
    )
    last_receive = time.perf_counter()
    queues, work = await _hub_queues(spike)
    phases.append(queues)
    by_id = {return_ids[i]: parcels[i] for i in range(count)}

    async def inspect(i: int) -> Answer:
        parcel = by_id[work[i]]
        inspection = {
            "returnId": work[i],
            "lines": [{"sku": parcel.sku, "grade": parcel.grade}],
            "measuredWeightGrams": parcel.measured_grams,
        }
        return await client.call(
            spike.scanners[parcel.hub], operation("InspectReturn"), input=inspection
        )

    phases.append(
        await _metered(pids, run_load("returns: inspectReturn", inspect, len(work), concurrency))
    )
    drained = await _wait_until(lambda: _queues_empty(spike), "hub queues empty")
    end_to_end = PhaseResult("returns end to end", count=count, seconds=drained - started)
    end_to_end.note = "first request sent → every hub queue empty"
    drain = PhaseResult("backlog drain", count=count, seconds=drained - last_receive)
    drain.note = f"last receive → every hub queue empty ({count} parcels waiting at the start)"
    caught_up = await _wait_until(lambda: _inventory_shows(spike, parcels), "inventory")
    inventory = PhaseResult("inventory caught up", count=count, seconds=caught_up - drained)
    inventory.note = "queues empty → stockLevels show every restock, repair and rejection"
    return [*phases, end_to_end, drain, inventory]


async def _metered(pids: dict[str, int], phase: Awaitable[PhaseResult]) -> PhaseResult:
    before = cpu_seconds(pids)
    result = await phase
    result.cpu = used_since(before, pids)
    return result


async def _hub_queues(spike: Spike) -> tuple[PhaseResult, list[str]]:
    """Each hub's scanner reads its queue once; the work list interleaves them, oldest first."""
    queues: list[list[str]] = []
    result = PhaseResult("returns: hubQueue (full backlog)")
    started = time.perf_counter()
    for hub, token in spike.scanners.items():
        answer = await spike.client.call(token, operation("HubQueue"), locationCode=hub)
        result.latencies.append(answer.seconds)
        result.errors += len(answer.errors)
        queues.append([r["id"] for r in (answer.data or {}).get("hubQueue") or []])
    result.count, result.seconds = len(queues), time.perf_counter() - started
    result.note = f"sequential, one per hub, {max(map(len, queues), default=0)} returns at most"
    work = [q[n] for n in range(max(map(len, queues), default=0)) for q in queues if n < len(q)]
    return result, work


async def _queues_empty(spike: Spike) -> bool:
    for hub in spike.scanners:
        answer = await spike.client.call(spike.admin, operation("HubQueue"), locationCode=hub)
        if answer.errors or (answer.data or {}).get("hubQueue"):
            return False
    return True


async def _inventory_shows(spike: Spike, parcels: list[Parcel]) -> bool:
    """Across the hubs: nothing pending inspection, the restocked units sellable, the good
    ones in repair (DAMAGED units are liquidated and light parcels rejected: neither is stock)."""
    genuine = [p for p in parcels if p.measured_grams >= p.weight_grams]
    expected = Counter(
        "available" if p.grade in ("NEW", "LIKE_NEW") else "inRepair"
        for p in genuine
        if p.grade in ("NEW", "LIKE_NEW", "GOOD")
    )
    seen: Counter[str] = Counter()
    for sku in {p.sku for p in parcels}:
        answer = await spike.client.call(spike.admin, operation("StockLevels"), sku=sku)
        for level in (answer.data or {}).get("stockLevels") or []:
            if level["location"]["kind"] == "RETURN_HUB":
                for state in ("available", "inRepair", "pendingInspection"):
                    seen[state] += level[state]
    return seen == expected


async def _wait_until(check: Callable[[], Awaitable[bool]], what: str) -> float:
    """Polls `check` until it holds; the moment it was seen to hold (perf_counter)."""
    deadline = time.perf_counter() + CATCH_UP_LIMIT_SECONDS
    while not await check():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what} not reached after {CATCH_UP_LIMIT_SECONDS:.0f}s")
        await asyncio.sleep(0.1)
    return time.perf_counter()


def _skus(rng: random.Random, count: int) -> list[SkuInput]:
    return [
        {
            "code": f"RET-{n:03d}",
            "title": f"Returnable {n}",
            "unitCostCents": rng.randrange(500, 5_000),
            "weightGrams": rng.randrange(150, 1_500),
        }
        for n in range(1, count + 1)
    ]


async def measure(oms: RunningOms, args: argparse.Namespace) -> list[PhaseResult]:
    hubs = _locations(args.hubs)[1:]
    client = oms.client(connections=max(args.concurrency, SETUP_CONCURRENCY) + 4)
    rng = random.Random(args.seed)
    spike = Spike(
        client,
        admin=client.token(Role.ADMIN, subject="bench-admin"),
        storefront=client.token(Role.STOREFRONT, subject="bench-storefront"),
        scanners={h["code"]: client.token(Role.SCANNER, h["code"]) for h in hubs},
        skus=_skus(rng, args.skus),
        rng=rng,
    )
    pids = {name: pid for name, (_address, pid) in oms.parts.items()} | {"bench": os.getpid()}
    try:
        results = await seed(spike, hubs, args.returns)
        shipped, parcels = await ship_orders(spike, hubs, args.returns, secrets.token_hex(3))
        results += shipped
        _progress(results)
        await settle(oms.parts["nats"][0], oms.data_dir)
        spike_results = await returns_spike(spike, parcels, args.concurrency, pids)
        _progress(spike_results)
        report = await client.call(spike.admin, REPORT)
        print(f"bench: returnsReport {(report.data or {}).get('returnsReport')}", flush=True)
    finally:
        await client.close()
    return results + spike_results


def _progress(results: list[PhaseResult]) -> None:
    for result in results:
        s = result.summary()
        print(
            f"bench: {s['phase']}: {s['count']} in {s['seconds']}s, {s['per_second']}/s, "
            f"p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, userErrors {s['user_errors']}, "
            f"errors {s['errors']} {s['note']}",
            flush=True,
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.returns", description=__doc__)
    parser.add_argument("--returns", type=int, default=1000, help="returns in the burst")
    parser.add_argument("--hubs", type=int, default=6, choices=range(1, len(HUB_CITIES) + 1))
    parser.add_argument("--skus", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--data-dir", type=Path, help="default: a fresh temporary directory")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--seed", type=int, default=7)
    return parser


def coverage(results: Sequence[PhaseResult]) -> str:
    """What the measured rate means for a brand's return volume at the post-Black-Friday peak."""
    end_to_end = next(r for r in results if r.name == "returns end to end")
    per_hour = (end_to_end.throughput or 0.0) * 3600
    return (
        f"covers {per_hour:,.0f} returns/hour end to end: a peak of {PEAK_FACTOR}x normal "
        f"volume for brands whose normal volume is up to {per_hour / PEAK_FACTOR:,.0f}/hour"
    )


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # As in `python -m bench`: raised from the handler, so oms up is stopped on the way out.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    temporary = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="oms-bench-returns-")) if temporary else args.data_dir
    facts, started = machine(), time.perf_counter()
    print(f"bench: starting oms up on {data_dir}", flush=True)
    try:
        with running_oms(data_dir) as oms:
            results = asyncio.run(measure(oms, args))
    except KeyboardInterrupt:
        print(f"bench: interrupted; oms up stopped; data and logs in {data_dir}", file=sys.stderr)
        return 130
    except Exception:
        print(f"bench: failed; oms up stopped; data and logs in {data_dir}", file=sys.stderr)
        raise
    print_table(results, facts, sys.stdout)
    print_cpu_table(results, sys.stdout)
    print(coverage(results))
    print(f"total {time.perf_counter() - started:.0f}s")
    if args.json:
        write_json(args.json, results, facts, args)
    if temporary and not any(r.errors for r in results):
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
