"""`python -m bench`: start OMS on a fresh data dir, seed it, measure each phase, print a table."""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType

from bench.cpu import cpu_seconds, used_since
from bench.network import build_network
from bench.phases import Bench, availability, event_delay, place_orders, seed, settle
from bench.profile import Profiler
from bench.report import PhaseResult, machine, print_cpu_table, print_table, write_json
from bench.system import RunningOms, running_oms
from bench.throughput import wrk_adjust_stock, wrk_availability, wrk_place_orders
from services.kernel.caller import Role
from services.kernel.settings import SERVICE_NAMES
from tests.support.databases import postgres_admin_url, postgres_database

WARM_UP_ORDERS = 50
WARM_UP_QUERIES = 200
PROFILED = ("gateway", "orders", "inventory")
# `--quick`: everything, small, in well under two minutes.
QUICK = {"locations": 10, "skus": 100, "seconds": 5.0, "events": 30}


def _levels(text: str) -> list[int]:
    levels = [int(part) for part in text.split(",") if part.strip()]
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"concurrency levels must be positive: {text}")
    return levels


def _positive(text: str) -> int:
    if int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="length of each throughput phase (wrk)"
    )
    parser.add_argument("--concurrency", type=_levels, default=[1, 16], help="e.g. 1,16")
    parser.add_argument("--locations", type=_positive, default=50)
    parser.add_argument("--skus", type=_positive, default=1000)
    parser.add_argument("--events", type=_positive, default=200, help="inventory changes timed")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small run of every phase in under two minutes: "
        + ", ".join(f"--{k} {v}" for k, v in QUICK.items()),
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="each service on a fresh database of its own on the PostgreSQL server at "
        "OMS_TEST_POSTGRES_URL (default: the local one), dropped afterwards",
    )
    parser.add_argument("--data-dir", type=Path, help="default: a fresh temporary directory")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy the --profile-parts during placeOrder at the highest concurrency, "
        "adjustStock and availability; raw stacks go to this directory",
    )
    parser.add_argument(
        "--profile-parts",
        type=lambda text: [part for part in text.split(",") if part],
        default=list(PROFILED),
        help="the parts `--profile` samples (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed of the network")
    return parser


async def measure(oms: RunningOms, args: argparse.Namespace) -> list[PhaseResult]:
    client = oms.client(connections=20)
    bench = Bench(
        client,
        admin=client.token(Role.ADMIN, subject="bench-admin"),
        storefront=client.token(Role.STOREFRONT, subject="bench-storefront"),
        network=build_network(args.locations, args.skus, args.seed),
        run_id=secrets.token_hex(3),
        rng=random.Random(args.seed + 1),
    )
    nats_url = oms.parts["nats"][0]
    results: list[PhaseResult] = []
    try:
        results += await seed(bench)
        _progress(results[-3:])
        await settle(nats_url, oms.data_dir)
        await place_orders(bench, WARM_UP_ORDERS, max(args.concurrency), "warm-up")
        for level in sorted(args.concurrency):
            profiled = f"placeOrder-c{level}" if level == max(args.concurrency) else None
            with _profiling(oms, args, profiled):
                results.append(await _metered(oms, wrk_place_orders(bench, level, args.seconds)))
            _progress(results[-1:])
            await settle(nats_url, oms.data_dir)
        with _profiling(oms, args, "adjustStock-c16"):
            results.append(await _metered(oms, wrk_adjust_stock(bench, 16, args.seconds)))
        _progress(results[-1:])
        await settle(nats_url, oms.data_dir)
        await availability(bench, WARM_UP_QUERIES, 16)
        with _profiling(oms, args, "availability"):
            results.append(await _metered(oms, wrk_availability(bench, 16, args.seconds)))
        _progress(results[-1:])
        await settle(nats_url, oms.data_dir)
        results += await event_delay(bench, client.ws_url, args.events)
        _progress(results[-2:])
    finally:
        await client.close()
    return results


async def _metered(oms: RunningOms, phase: Awaitable[PhaseResult]) -> PhaseResult:
    """The phase's result with the CPU seconds each part of the system used, beside what its
    client (wrk) used; the bench's own process only waits on wrk, so it is not counted."""
    pids = {name: pid for name, (_address, pid) in oms.parts.items()}
    before = cpu_seconds(pids)
    result = await phase
    result.cpu = used_since(before, pids) | result.cpu
    return result


@contextmanager
def _profiling(oms: RunningOms, args: argparse.Namespace, phase: str | None) -> Iterator[None]:
    """py-spy on `--profile-parts` while the block runs, when `--profile`."""
    if args.profile is None or phase is None:
        yield
        return
    profiler = Profiler(
        args.profile / phase, {name: oms.parts[name][1] for name in args.profile_parts}
    )
    profiler.start()
    try:
        yield
    finally:
        print(f"bench: profile of {phase}:", flush=True)
        for profile in profiler.stop():
            print("\n".join(profile.lines()), flush=True)


def _progress(results: list[PhaseResult]) -> None:
    for result in results:
        s = result.summary()
        print(
            f"bench: {s['phase']}: {s['count']} in {s['seconds']}s, {s['per_second']}/s, "
            f"p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, userErrors {s['user_errors']}, "
            f"errors {s['errors']} {s['note']}",
            flush=True,
        )


def _databases(args: argparse.Namespace, stack: ExitStack) -> dict[str, str]:
    """With `--postgres`, a new database per service (dropped when `stack` closes), as
    `OMS_<SERVICE>_DATABASE_URL` settings for `oms up`; else none (SQLite files)."""
    if not args.postgres:
        return {}
    print(f"bench: a database per service on {postgres_admin_url()}", flush=True)
    return {
        f"OMS_{name.upper()}_DATABASE_URL": stack.enter_context(postgres_database())
        for name in SERVICE_NAMES
    }


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    # Raised straight from the handler: asyncio's own Ctrl-C handling cancels the main task,
    # and a cancellation absorbed inside a client library would leave the bench waiting.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    temporary = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="oms-bench-")) if temporary else args.data_dir
    facts = machine() | {"database": "postgresql" if args.postgres else "sqlite"}
    started = time.perf_counter()
    try:
        print(f"bench: starting oms up on {data_dir}", flush=True)
        with ExitStack() as databases, running_oms(data_dir, _databases(args, databases)) as oms:
            print(f"bench: ready after {time.perf_counter() - started:.1f}s", flush=True)
            results = asyncio.run(measure(oms, args))
            print("bench: stopping oms up", flush=True)
    except KeyboardInterrupt:
        print(f"bench: interrupted; oms up stopped; data and logs in {data_dir}", file=sys.stderr)
        return 130
    except Exception:
        print(f"bench: failed; oms up stopped; data and logs in {data_dir}", file=sys.stderr)
        raise
    print_table(results, facts, sys.stdout)
    print_cpu_table(results, sys.stdout)
    print(f"total {time.perf_counter() - started:.0f}s")
    if args.json:
        write_json(args.json, results, facts, args)
    if any(result.errors for result in results):
        print(f"bench: top-level errors seen; the logs are in {data_dir / 'logs'}")
    elif temporary:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
