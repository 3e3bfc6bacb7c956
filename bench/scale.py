"""`python -m bench.scale --data-dir DIR`: fills a data dir with a big business's history, for
the bench phases to run on (`python -m bench --data-dir DIR`). Bench and test use only.

It lets `oms up` create and migrate the databases, stops it, then writes straight into the
SQLite files with the standard library's executemany, one transaction per table: locations,
SKUs, stock levels with their ledger (each level's on hand is the sum of its ledger rows, so
the ledger replays to the levels), and orders with their lines, shipments and shipment lines,
nearly all shipped long ago (a few hundred still open). Codes carry a SCALE- prefix, apart from
what the bench seeds. Prints how long each table took; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import operator
import random
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.system import running_oms

KINDS = ("DISTRIBUTION_CENTER", "THIRD_PARTY_WAREHOUSE", "STORE", "RETURN_HUB")
OPEN_ORDERS = 500
LEVELS_PER_SKU = 3
CHUNK = 50_000


def _insert(db: sqlite3.Connection, table: str, rows: Iterable[dict[str, object]]) -> int:
    """Writes the rows in chunks of executemany; the columns are the first row's."""
    count, chunk = 0, []
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return 0
    columns = list(first)
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    )
    values = operator.itemgetter(*columns)
    chunk.append(values(first))
    for row in iterator:
        chunk.append(values(row))
        if len(chunk) == CHUNK:
            db.executemany(statement, chunk)
            count, chunk = count + len(chunk), []
    if chunk:
        db.executemany(statement, chunk)
        count += len(chunk)
    return count


def _timed(db: sqlite3.Connection, table: str, rows: Iterable[dict[str, object]]) -> None:
    started = time.perf_counter()
    with db:
        count = _insert(db, table, rows)
    seconds = time.perf_counter() - started
    print(f"  {table:<16} {count:>12,} rows {seconds:8.1f} s {count / seconds:>12,.0f} rows/s")


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def locations(count: int, rng: random.Random, now: str) -> Iterator[dict[str, object]]:
    for n in range(count):
        kind = KINDS[0] if n % 10 == 0 else rng.choice(KINDS[1:])
        yield {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "code": f"SCALE-LOC-{n:03d}",
            "name": f"Scale location {n}",
            "kind": kind,
            "latitude": rng.uniform(38.0, 60.0),
            "longitude": rng.uniform(-9.0, 25.0),
            "ships_orders": 1,
            "accepts_returns": int(kind in ("DISTRIBUTION_CENTER", "RETURN_HUB", "STORE")),
            "updated_at": now,
        }


def skus(count: int, now: str) -> Iterator[dict[str, object]]:
    for n in range(count):
        yield {
            "code": f"SCALE-SKU-{n:06d}",
            "title": f"Scale item {n}",
            "unit_cost_cents": 100 + n % 5_000,
            "weight_grams": 100 + n % 2_000,
            "serialized": 0,
            "updated_at": now,
        }


def ledger_plan(
    sku_count: int, location_count: int, ledger_rows: int, rng: random.Random
) -> list[tuple[str, str, list[int]]]:
    """(SKU, location, on-hand deltas) per level: LEVELS_PER_SKU locations per SKU, the ledger
    rows spread over the levels, every running total at or above zero."""
    levels = sku_count * LEVELS_PER_SKU
    per_level, extra = divmod(ledger_rows, levels)
    plan = []
    for n in range(sku_count):
        for at in rng.sample(range(location_count), LEVELS_PER_SKU):
            rows = per_level + (1 if extra > 0 else 0)
            extra -= 1
            deltas = [rng.randint(50, 500)] + [rng.choice((-1, 1)) for _ in range(rows - 1)]
            plan.append((f"SCALE-SKU-{n:06d}", f"SCALE-LOC-{at:03d}", deltas))
    return plan


def levels(plan: Sequence[tuple[str, str, list[int]]]) -> Iterator[dict[str, object]]:
    for sku, at, deltas in plan:
        yield {
            "sku": sku,
            "location_code": at,
            "on_hand": sum(deltas),
            "reserved": 0,
            "in_transit": 0,
            "pending_inspection": 0,
            "in_repair": 0,
            "promised": 0,
            "on_hold": 0,
            "version": len(deltas),
        }


def movements(plan: Sequence[tuple[str, str, list[int]]], now: str) -> Iterator[dict[str, object]]:
    for sku, at, deltas in plan:
        for delta in deltas:
            yield {
                "sku": sku,
                "location_code": at,
                "on_hand_delta": delta,
                "reserved_delta": 0,
                "in_transit_delta": 0,
                "pending_inspection_delta": 0,
                "in_repair_delta": 0,
                "promised_delta": 0,
                "reason": "scale",
                "source_type": "ADJUSTMENT",
                "source_id": "scale",
                "occurred_at": now,
            }


def orders(
    first: int, count: int, total: int, sku_count: int, location_count: int, rng: random.Random
) -> tuple[list[dict[str, object]], ...]:
    """Rows of orders `first`..`first + count - 1` of `total`: orders, their lines, shipments
    and shipment lines (1-3 lines, one shipment)."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    ship_to = json.dumps({"name": "Ada", "line1": "1 Main St", "city": "Berlin", "country": "DE"})
    heads: list[dict[str, object]] = []
    lines: list[dict[str, object]] = []
    shipments: list[dict[str, object]] = []
    shipped: list[dict[str, object]] = []
    for n in range(first, first + count):
        order_id, shipment_id = str(uuid.uuid4()), str(uuid.uuid4())
        placed = start + timedelta(seconds=n * 30)
        is_open = n >= total - OPEN_ORDERS
        status = "ALLOCATED" if is_open else "SHIPPED"
        heads.append(
            {
                "number": n + 1,
                "id": order_id,
                "status": status,
                "channel": "web",
                "external_id": f"scale-{n}",
                "email": f"buyer{n % 50_000}@example.com",
                "ship_to": ship_to,
                "split_policy": "ALLOW_SPLIT",
                "placed_by": "",
                "placed_at": _stamp(placed),
                "shipped_at": None if is_open else _stamp(placed + timedelta(days=1)),
                "updated_at": _stamp(placed),
            }
        )
        at = f"SCALE-LOC-{rng.randrange(location_count):03d}"
        shipments.append(
            {
                "id": shipment_id,
                "order_id": order_id,
                "location_code": at,
                "status": "ALLOCATED" if is_open else "SHIPPED",
                "tracking_number": "",
                "shipped_at": None if is_open else _stamp(placed + timedelta(days=1)),
            }
        )
        for line, sku in enumerate(rng.sample(range(sku_count), rng.randint(1, 3)), 1):
            code, quantity = f"SCALE-SKU-{sku:06d}", rng.randint(1, 2)
            lines.append(
                {
                    "order_id": order_id,
                    "line_number": line,
                    "sku": code,
                    "quantity": quantity,
                    "unit_price_cents": 2_500,
                }
            )
            shipped.append(
                {
                    "shipment_id": shipment_id,
                    "sku": code,
                    "quantity": quantity,
                    "serial_numbers": "[]",
                }
            )
    return heads, lines, shipments, shipped


def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level="DEFERRED")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-200000")
    return db


def load(data_dir: Path, args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    now = _stamp(datetime.now(UTC))
    print(f"scale: writing into {data_dir}")
    inventory = _open(data_dir / "inventory.sqlite")
    _timed(inventory, "location", locations(args.locations, rng, now))
    _timed(inventory, "sku", skus(args.skus, now))
    plan = ledger_plan(args.skus, args.locations, args.ledger, rng)
    _timed(inventory, "stock_level", levels(plan))
    _timed(inventory, "stock_movement", movements(plan, now))
    inventory.close()
    del plan
    placed = _open(data_dir / "orders.sqlite")
    tables = ("orders", "order_line", "shipment", "shipment_line")
    counts, started = dict.fromkeys(tables, 0), time.perf_counter()
    for first in range(0, args.orders, CHUNK):
        batch = orders(
            first, min(CHUNK, args.orders - first), args.orders, args.skus, args.locations, rng
        )
        with placed:
            for table, rows in zip(tables, batch, strict=True):
                counts[table] += _insert(placed, table, rows)
    seconds = time.perf_counter() - started
    print(f"  {', '.join(tables)}: {counts} in {seconds:.1f} s")
    placed.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True, help="a new or empty directory")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--ledger", type=int, default=10_000_000, help="ledger rows")
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--locations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    if not (args.data_dir / "inventory.sqlite").exists():
        print("scale: oms up creates and migrates the databases", flush=True)
        with running_oms(args.data_dir):
            pass
    started = time.perf_counter()
    load(args.data_dir, args)
    print(f"scale: loaded in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
