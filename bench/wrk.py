"""Throughput phases driven by `wrk` (bench/graphql.lua), which costs the cores far less than a
Python client: the bench writes the bodies, wrk sends them, the bench reads wrk's summary."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import PhaseResult

SCRIPT = Path(__file__).with_name("graphql.lua")
# Stand-in for each request's unique part of an externalId; graphql.lua replaces it.
UNIQUE = "@ID@"
# wrk's own timeout is 2 s; a slow request is a figure, not a failure.
TIMEOUT_SECONDS = 30
_RESULT = "wrk-result "


@dataclass
class WrkRun:
    """What wrk reported for one phase, with the orders it sampled as (id, externalId)."""

    result: PhaseResult
    samples: list[tuple[str, str]] = field(default_factory=list)


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError(
            "wrk not found: apt-get install -y wrk (Debian) or see docs/benchmarks.md"
        )
    return found


def graphql_body(document: str, variables: dict[str, Any]) -> str:
    """One request body on one line (JSON never needs a raw newline)."""
    return json.dumps({"query": document, "variables": variables}, separators=(",", ":"))


def run_wrk(
    name: str,
    url: str,
    token: str,
    bodies: Iterable[str],
    *,
    connections: int,
    seconds: float,
    unique_prefix: str = "",
) -> WrkRun:
    """wrk with `connections` connections (one thread each, at most two threads) for `seconds`.

    The result's `cpu` holds the CPU seconds wrk itself used, as `client`."""
    threads = min(connections, 2)
    with tempfile.TemporaryDirectory(prefix="oms-wrk-") as folder:
        path = Path(folder) / "bodies"
        path.write_text("\n".join([token, *bodies]) + "\n")
        path.chmod(0o600)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        completed = subprocess.run(
            [
                wrk_path(),
                f"--threads={threads}",
                f"--connections={connections}",
                f"--duration={max(1, round(seconds))}s",
                f"--timeout={TIMEOUT_SECONDS}s",
                "--latency",
                f"--script={SCRIPT}",
                url.rstrip("/") + "/graphql",
                "--",
                str(path),
                unique_prefix,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + TIMEOUT_SECONDS + 30,
            check=False,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr}")
    client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return parse_output(name, completed.stdout, client_cpu)


def parse_output(name: str, output: str, client_cpu: float = 0.0) -> WrkRun:
    """The phase's figures from the `wrk-result {json}` line graphql.lua's done() prints."""
    lines = [line for line in output.splitlines() if line.startswith(_RESULT)]
    if not lines:
        raise RuntimeError(f"no {_RESULT.strip()} line in wrk's output:\n{output}")
    figures = json.loads(lines[-1].removeprefix(_RESULT))
    result = PhaseResult(
        name,
        count=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        user_errors=figures["user_errors"],
        errors=figures["graphql_errors"]
        + figures["non_2xx"]
        + figures["socket_errors"]
        + figures["timeouts"],
        p50_seconds=figures["p50_us"] / 1e6,
        p99_seconds=figures["p99_us"] / 1e6,
        max_seconds=figures["max_us"] / 1e6,
        cpu={"client": round(client_cpu, 2)},
    )
    if figures["non_2xx"] or figures["socket_errors"] or figures["timeouts"]:
        result.note = (
            f"non-2xx {figures['non_2xx']}, socket errors {figures['socket_errors']}, "
            f"timeouts {figures['timeouts']}"
        )
    samples = [(str(pair[0]), str(pair[1])) for pair in figures["samples"]]
    return WrkRun(result, samples)
