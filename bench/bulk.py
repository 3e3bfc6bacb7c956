"""`python -m bench.bulk`: how many rows a second the bulk imports take (issue 14: at least
20,000), through the gateway as `oms import skus|stock` sends them.

Starts OMS on a fresh data dir, creates the locations, then sends SKU files (`upsertSkus`) and
stock files (`importStock`, a row per SKU and location) one after another, each file a batch
within the gateway's request limit. Rows a second is rows over the wall time of the batches;
CPU per 1,000 rows is read from /proc for every process. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.cpu import cpu_seconds, used_since
from bench.report import PhaseResult, run_on_oms
from bench.system import RunningOms
from services.kernel.caller import Role
from tests.support.contract import operation
from tests.support.graphql import GraphQLClient

UPSERT_SKUS = """
mutation($csv: String!) { upsertSkus(input: {csv: $csv}) { userErrors { field message } } }"""
IMPORT_STOCK = """
mutation($csv: String!) {
  importStock(input: {csv: $csv}) { stockImport { levelsChanged } userErrors { field message } }
}"""
# Rows per file, and its size: within the gateway's default request limit (256 KiB).
BATCH = 10_000
MAX_FILE_BYTES = 240_000


async def _batches(
    client: GraphQLClient, token: str, name: str, document: str, files: list[str], rows: int
) -> PhaseResult:
    result = PhaseResult(name, note=f"{len(files)} files, one at a time")
    started = time.perf_counter()
    for text in files:
        sent = time.perf_counter()
        answer = await client.call(token, document, csv=text)
        result.latencies.append(time.perf_counter() - sent)
        result.errors += len(answer.errors or [])
        result.user_errors += len(answer.user_errors or [])
        if not answer.ok and not result.note.startswith("first refusal"):
            result.note = f"first refusal: {(answer.errors or answer.user_errors)[0]}"[:200]
    result.count, result.seconds = rows, time.perf_counter() - started
    return result


def _files(header: str, lines: list[str]) -> list[str]:
    """The lines in files of at most BATCH rows and MAX_FILE_BYTES bytes, header first."""
    files: list[str] = []
    part: list[str] = []
    size = len(header)
    for line in lines:
        if len(part) == BATCH or size + len(line) > MAX_FILE_BYTES:
            files.append(header + "".join(part))
            part, size = [], len(header)
        part.append(line)
        size += len(line)
    return [*files, header + "".join(part)] if part else files


async def measure(oms: RunningOms, args: argparse.Namespace) -> list[PhaseResult]:
    rng = random.Random(args.seed)
    client = oms.client(connections=2)
    admin = client.token(Role.ADMIN, subject="bench-admin")
    pids = {name: pid for name, (_address, pid) in oms.parts.items()} | {"bench": os.getpid()}
    locations = [f"LOC-{n:03d}" for n in range(args.locations)]
    try:
        for code in locations:
            place = {"code": code, "name": code, "kind": "DISTRIBUTION_CENTER"}
            answer = await client.call(
                admin, operation("UpsertLocation"), input=place | {"latitude": 50, "longitude": 8}
            )
            if answer.errors or answer.user_errors:
                raise RuntimeError(f"set-up refused: {answer.errors or answer.user_errors}")
        skus = [f"BULK-{n:06d}" for n in range(args.skus)]
        sku_lines = [f"{sku},Bulk item {sku},{rng.randint(100, 9999)},500\n" for sku in skus]
        stock_lines = [
            f"{sku},{code},{rng.randint(1, 500)}\n" for sku in skus for code in locations
        ]
        results = []
        for name, document, files, rows in (
            (
                "upsertSkus (CSV)",
                UPSERT_SKUS,
                _files("code,title,unit_cost_cents,weight_grams\n", sku_lines),
                len(sku_lines),
            ),
            (
                "importStock (CSV, on_hand)",
                IMPORT_STOCK,
                _files("sku,location_code,on_hand\n", stock_lines),
                len(stock_lines),
            ),
        ):
            before = cpu_seconds(pids)
            result = await _batches(client, admin, name, document, files, rows)
            result.cpu = used_since(before, pids)
            results.append(result)
        return results
    finally:
        await client.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.bulk", description=__doc__)
    parser.add_argument("--skus", type=int, default=20_000)
    parser.add_argument("--locations", type=int, default=5, help="stock rows: SKUs times locations")
    parser.add_argument("--data-dir", type=Path, help="default: a fresh temporary directory")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--seed", type=int, default=7)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    for result in run_on_oms(build_parser().parse_args(argv), "oms-bench-bulk-", measure):
        per_thousand = {k: round(v * 1_000_000 / result.count, 1) for k, v in result.cpu.items()}
        print(f"{result.name}: CPU ms per 1,000 rows {per_thousand}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
