"""One `oms up` subprocess on a fresh data dir: started, awaited until ready, stopped cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gateway.auth import load_or_create_signing_key
from launcher.ports import free_port
from launcher.processes import owned_child_options
from tests.support.graphql import GraphQLClient

REPO_ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 60.0
# A row of the table `oms up` prints: part, address, pid, log.
_ROW = re.compile(r"^\s+([a-z]+)\s+(\S+)\s+(\d+)\s+(\S+)$")


@dataclass
class RunningOms:
    """The `oms up` process, where its parts listen, and a client of its gateway."""

    process: subprocess.Popen[str]
    data_dir: Path
    base_url: str
    lines: list[str] = field(default_factory=list)

    @property
    def parts(self) -> dict[str, tuple[str, int]]:
        """Part name -> (address, pid), from the table `oms up` prints at start."""
        rows = (_ROW.match(line) for line in self.lines)
        return {m[1]: (m[2], int(m[3])) for m in rows if m is not None}

    def client(self, connections: int) -> GraphQLClient:
        """A GraphQL client of the gateway, minting tokens with the data dir's signing key."""
        key = load_or_create_signing_key(self.data_dir)
        return GraphQLClient(self.base_url, key, connections=connections)


def _user_env() -> dict[str, str]:
    """The caller's environment without OMS_* settings, so `oms up` uses its embedded defaults."""
    return {key: value for key, value in os.environ.items() if not key.startswith("OMS_")}


def _wait_ready(oms: RunningOms) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if oms.process.poll() is not None:
                raise RuntimeError("oms up exited before it was ready:\n" + "\n".join(oms.lines))
            try:
                if client.get(f"{oms.base_url}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise RuntimeError(f"oms up not ready after {READY_TIMEOUT_SECONDS:.0f}s")


def _stop(process: subprocess.Popen[str]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@contextmanager
def running_oms(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[RunningOms]:
    """`oms up --data-dir DIR --port FREE`, ready; SIGTERM and a wait on the way out, however.

    `env` adds `OMS_*` settings to the embedded defaults (the bench's `--postgres` databases)."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "launcher.cli",
            "up",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
        ],
        cwd=REPO_ROOT,
        env={**_user_env(), **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own process group: Ctrl-C reaches the bench only, which then stops it in order.
        **owned_child_options(),
    )
    oms = RunningOms(process, data_dir, f"http://127.0.0.1:{port}")

    def read_output() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            oms.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        _wait_ready(oms)
        yield oms
    finally:
        code = _stop(process)
        reader.join(5)
        if code != 0:
            print(f"bench: oms up exited with {code}; logs in {data_dir / 'logs'}", file=sys.stderr)
