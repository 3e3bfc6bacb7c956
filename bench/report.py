"""Phase results, their percentiles, the printed table and the JSON file."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bench.system import REPO_ROOT, RunningOms, running_oms


def percentile(samples: list[float], pct: float) -> float | None:
    """Nearest-rank percentile: the smallest sample with at least `pct` % of samples at or below."""
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


@dataclass
class PhaseResult:
    name: str
    count: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)
    user_errors: int = 0
    errors: int = 0
    note: str = ""
    # Percentiles measured elsewhere (wrk keeps its own histogram), used when `latencies` is empty.
    p50_seconds: float | None = None
    p99_seconds: float | None = None
    max_seconds: float | None = None
    # CPU seconds each process (the system's parts and the bench itself) used in the phase.
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def throughput(self) -> float | None:
        return self.count / self.seconds if self.seconds > 0 else None

    def summary(self) -> dict[str, Any]:
        """What the table and the JSON show: rates per second, latencies in milliseconds."""
        ms = [s * 1000 for s in self.latencies]
        given = [None if s is None else s * 1000 for s in (self.p50_seconds, self.p99_seconds)]
        return {
            "phase": self.name,
            "count": self.count,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.throughput, 1) if self.throughput else None,
            "p50_ms": _round(percentile(ms, 50) if ms else given[0]),
            "p99_ms": _round(percentile(ms, 99) if ms else given[1]),
            "max_ms": _round(
                max(ms) if ms else None if self.max_seconds is None else self.max_seconds * 1000
            ),
            "user_errors": self.user_errors,
            "errors": self.errors,
            "note": self.note,
            "cpu_seconds": self.cpu,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def machine() -> dict[str, Any]:
    """The facts a figure means nothing without."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True
        ).stdout.strip()
        commit += " (uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
    }


def print_table(results: list[PhaseResult], facts: dict[str, Any], out: TextIO) -> None:
    print(
        f"\nmachine: {facts['cores']} cores, Python {facts['python']}, {facts['platform']}, "
        f"commit {facts['commit']}, database {facts.get('database', 'sqlite')}",
        file=out,
    )
    header = ("phase", "count", "per s", "p50 ms", "p99 ms", "userErrors", "errors", "note")
    rows = [header]
    for result in results:
        s = result.summary()
        rows.append(
            (
                s["phase"],
                str(s["count"]),
                _cell(s["per_second"]),
                _cell(s["p50_ms"]),
                _cell(s["p99_ms"]),
                str(s["user_errors"]),
                str(s["errors"]),
                s["note"],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=False))
        ]
        print("  ".join([*cells, row[-1]]).rstrip(), file=out)


def print_cpu_table(results: list[PhaseResult], out: TextIO) -> None:
    """CPU milliseconds per request in each process: where a phase's work happens."""
    measured = [r for r in results if r.cpu and r.count]
    if not measured:
        return
    parts = list(measured[0].cpu)
    rows = [("CPU ms per request", *parts)]
    rows += [
        (r.name, *(f"{1000 * r.cpu.get(p, 0) / r.count:.1f}" for p in parts)) for r in measured
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(file=out)
    for row in rows:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells), file=out)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def write_json(path: Path, results: list[PhaseResult], facts: dict[str, Any], args: Any) -> None:
    document = {
        "machine": facts,
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "phases": [r.summary() for r in results],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def run_on_oms(
    args: argparse.Namespace,
    prefix: str,
    measure: Callable[[RunningOms, argparse.Namespace], Coroutine[Any, Any, list[PhaseResult]]],
) -> list[PhaseResult]:
    """`measure` on `oms up` over `args.data_dir` (a fresh temporary dir named `prefix…` when
    none, deleted afterwards); prints the table and writes `args.json` when given."""
    temporary = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix=prefix)) if temporary else args.data_dir
    facts = machine()
    print(f"bench: starting oms up on {data_dir}", flush=True)
    with running_oms(data_dir) as oms:
        results = asyncio.run(measure(oms, args))
    print_table(results, facts, sys.stdout)
    if args.json:
        write_json(args.json, results, facts, args)
    if temporary:
        shutil.rmtree(data_dir, ignore_errors=True)
    return results
