"""`oms up` as a user runs it: ready, healthy, stopped cleanly, restarted with its data intact;
a part that dies is started again, later each time it keeps dying, while the rest keep running."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from launcher.nats_access import passwords_path
from launcher.ports import PORT_RANGE_VARIABLE, free_port
from services.kernel import events
from services.kernel.settings import SERVICE_NAMES
from services.kernel.tls import Credentials
from tests.support.graphql import GraphQLClient

pytestmark = pytest.mark.timeout(600)

REPO_ROOT = Path(__file__).resolve().parents[2]
PARTS = ("nats", *SERVICE_NAMES, "gateway")
READY_TIMEOUT_SECONDS = 150.0
STOP_TIMEOUT_SECONDS = 60.0
# A part, or a replica of one in a cluster run (`inventory-2`).
PART_NAME = rf"(?:{'|'.join(PARTS)})(?:-\d+)?"
ROW = re.compile(rf"^\s+({PART_NAME})\s+(\S+)\s+(\d+)\s+(\S+)$")
RESTARTED = re.compile(rf"^oms: ({PART_NAME}) restarted \(pid (\d+), restart (\d+)\)$")


def user_env() -> dict[str, str]:
    """This machine's environment without OMS_* settings, as on a fresh shell, but for the
    test worker's own block of ports (`OMS_PORT_RANGE`), which keeps parallel workers apart."""
    fresh = {key: value for key, value in os.environ.items() if not key.startswith("OMS_")}
    if PORT_RANGE_VARIABLE in os.environ:
        fresh[PORT_RANGE_VARIABLE] = os.environ[PORT_RANGE_VARIABLE]
    return fresh


def oms(*args: str) -> list[str]:
    return [sys.executable, "-m", "launcher.cli", *args]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    # A zombie has exited; only its exit status is left for a parent to collect.
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


@dataclass(frozen=True)
class Part:
    name: str
    address: str
    pid: int
    log: Path


class RunningOms:
    """One `oms up` process; its output is collected line by line as it comes."""

    def __init__(
        self, data_dir: Path, port: int, env: Mapping[str, str] | None = None, *options: str
    ) -> None:
        self.port = port
        self.process = subprocess.Popen(
            oms("up", "--data-dir", str(data_dir), "--port", str(port), *options),
            cwd=REPO_ROOT,
            env={**user_env(), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    @property
    def parts(self) -> dict[str, Part]:
        rows = (ROW.match(line) for line in self.lines)
        return {m[1]: Part(m[1], m[2], int(m[3]), Path(m[4])) for m in rows if m is not None}

    @property
    def restarts(self) -> list[tuple[str, int, int]]:
        """(part, new pid, its restart count) for each restart `oms up` reported."""
        found = (RESTARTED.match(line) for line in self.lines)
        return [(m[1], int(m[2]), int(m[3])) for m in found if m is not None]

    def pid_of(self, name: str) -> int:
        """The part's pid now: the latest restart's, else the one it started with."""
        again = [pid for part, pid, _ in self.restarts if part == name]
        return again[-1] if again else self.parts[name].pid

    def wait_for_line(self, line: str, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while line not in self.lines:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self._reader.join(5)
                pytest.fail(f"no line {line!r} from oms up:\n{self.output}")
            time.sleep(0.05)

    def wait_for_restart(self, name: str, count: int) -> int:
        """The pid of the part's `count`th restart, once `oms up` has reported it."""
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not (found := [pid for p, pid, n in self.restarts if (p, n) == (name, count)]):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self._reader.join(5)
                pytest.fail(f"{name} not restarted a {count}th time:\n{self.output}")
            time.sleep(0.05)
        return found[0]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, parts: Collection[str] = PARTS) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not any(line.startswith("OMS is ready") for line in self.lines):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self._reader.join(5)
                pytest.fail(f"oms up did not get ready:\n{self.output}")
            time.sleep(0.1)
        assert set(self.parts) == set(parts), self.output

    def wait_exit(self) -> int:
        try:
            code = self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"oms up did not stop:\n{self.output}")
        self._reader.join(5)
        return code

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.wait_exit()

    def kill_all(self) -> None:
        """Leaves nothing running, whatever state a failed test left it in."""
        started = [part.pid for part in self.parts.values()]
        for pid in [self.process.pid, *started, *(pid for _, pid, _ in self.restarts)]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def start_oms(tmp_path: Path) -> Iterator[Any]:
    started: list[RunningOms] = []

    def start(
        data_dir: Path = tmp_path / "data", env: Mapping[str, str] | None = None
    ) -> RunningOms:
        running = RunningOms(data_dir, free_port(), env)
        started.append(running)
        running.wait_ready()
        return running

    yield start
    for running in started:
        running.kill_all()


def health(channel: grpc.Channel) -> int:
    response = health_pb2_grpc.HealthStub(channel).Check(  # type: ignore[attr-defined]  # types-grpcio-health-checking's HealthStub lacks its methods
        health_pb2.HealthCheckRequest(service=""), timeout=5
    )
    return int(response.status)


def assert_serving(data_dir: Path, name: str, target: str) -> None:
    """Serving to the gateway's certificate from the data dir, and to nothing without one."""
    gateway = Credentials.load(data_dir / "tls" / "gateway")
    options = [("grpc.ssl_target_name_override", name)]
    with grpc.secure_channel(target, gateway.for_channel(), options=options) as channel:
        assert health(channel) == health_pb2.HealthCheckResponse.SERVING, target
    with grpc.insecure_channel(target) as channel, pytest.raises(grpc.RpcError) as refused:
        health(channel)
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE


def assert_all_gone(running: RunningOms) -> None:
    left = [name for name in running.parts if alive(running.pid_of(name))]
    left += [str(pid) for _, pid, _ in running.restarts if alive(pid)]
    assert not left, f"still running: {left}\n{running.output}"


def test_up_serves_then_stops_cleanly_and_starts_again_on_the_same_data_dir(
    start_oms: Any, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = start_oms(data_dir)

    assert httpx.get(f"{first.base_url}/healthz").status_code == 200
    assert httpx.get(f"{first.base_url}/readyz").status_code == 200
    for name in SERVICE_NAMES:
        assert_serving(data_dir, name, first.parts[name].address)
        assert stat.S_IMODE((data_dir / f"{name}.sqlite").stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert first.parts["gateway"].address == f"{first.base_url}/graphql"
    assert not first.parts["nats"].address.endswith(":4222"), "must not use a shared NATS port"
    assert {part.log for part in first.parts.values()} == {
        data_dir / "logs" / f"{name}.log" for name in PARTS
    }
    assert (data_dir / "secrets" / "jwt-signing-key").exists()

    assert first.terminate() == 0, first.output
    assert_all_gone(first)

    second = start_oms(data_dir)
    for name in SERVICE_NAMES:
        assert_serving(data_dir, name, second.parts[name].address)
    assert second.terminate() == 0, second.output
    assert_all_gone(second)


def backoffice_token(data_dir: Path) -> str:
    args = oms("token", "--role", "backoffice", "--data-dir", str(data_dir))
    result = subprocess.run(args, env=user_env(), capture_output=True, text=True, check=True)
    return result.stdout.splitlines()[-1]


async def graphql(running: RunningOms, token: str, query: str, **variables: Any) -> dict[str, Any]:
    """The answer's data, which must carry no errors and no userErrors."""
    async with GraphQLClient(running.base_url, timeout=30) as client:
        data = await client.data(query, variables, token=token)
    for payload in data.values():
        assert not (isinstance(payload, dict) and payload.get("userErrors")), data
    return data


async def on_hand(running: RunningOms, token: str, sku: str) -> int:
    query = "query($sku: String!) { stockLevels(sku: $sku) { onHand } }"
    levels = (await graphql(running, token, query, sku=sku))["stockLevels"]
    return sum(level["onHand"] for level in levels)


async def _inventory_events(nats_url: str, data_dir: Path) -> int:
    """Asked as the inventory service: the broker lets no one in without a user."""
    password = json.loads(passwords_path(data_dir).read_text())["inventory"]
    host = nats_url.removeprefix("nats://")
    client = await events.connect(f"nats://inventory:{password}@{host}", "oms-inventory")
    try:
        info = await client.jetstream().stream_info("OMS_INVENTORY")
        return int(info.state.messages)
    finally:
        await client.close()


async def inventory_events(running: RunningOms, data_dir: Path, at_least: int = 1) -> int:
    """Messages in the inventory stream, once the outbox has relayed `at_least` of them."""
    deadline = time.monotonic() + 15
    nats_url = running.parts["nats"].address
    while (count := await _inventory_events(nats_url, data_dir)) < at_least:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    return count


async def test_stock_and_events_survive_a_restart(start_oms: Any, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_oms(data_dir)
    token = backoffice_token(data_dir)
    await graphql(
        first,
        token,
        "mutation($input: LocationInput!) { upsertLocation(input: $input) { userErrors { code } } }",
        input={
            "code": "DC-1",
            "name": "Main warehouse",
            "kind": "DISTRIBUTION_CENTER",
            "latitude": 52.52,
            "longitude": 13.40,
        },
    )
    await graphql(
        first,
        token,
        "mutation($input: SkuInput!) { upsertSku(input: $input) { userErrors { code } } }",
        input={"code": "TEE-1", "title": "Tee", "unitCostCents": 450, "weightGrams": 180},
    )
    await graphql(
        first,
        token,
        "mutation($input: StockAdjustmentInput!) "
        "{ adjustStock(input: $input) { userErrors { code } } }",
        input={"sku": "TEE-1", "locationCode": "DC-1", "delta": 7, "reason": "launcher e2e"},
    )
    assert await on_hand(first, token, "TEE-1") == 7
    events_before = await inventory_events(first, data_dir)
    assert events_before >= 1, first.output
    assert first.terminate() == 0, first.output

    second = start_oms(data_dir)

    assert await on_hand(second, backoffice_token(data_dir), "TEE-1") == 7
    assert await inventory_events(second, data_dir, events_before) >= events_before
    assert second.terminate() == 0, second.output


async def test_a_part_that_keeps_dying_is_restarted_later_each_time_while_the_rest_keep_running(
    start_oms: Any, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    running = start_oms(data_dir, env={"OMS_RESTART_DELAY_SECONDS": "0.5"})
    started = running.parts
    orders = started["orders"]

    # Killed three times in a row, each time as soon as it was started again.
    pid = orders.pid
    for crash in (1, 2, 3):
        os.kill(pid, signal.SIGKILL)
        pid = running.wait_for_restart("orders", crash)
    running.wait_for_line(f"oms: orders is ready again (pid {pid})")

    said = [line for line in running.lines if line.startswith("oms: orders (pid ")]
    assert len(said) == 3, running.output
    for line, delay, crash in zip(said, ("0.5", "1", "2"), (1, 2, 3), strict=True):
        assert "exited unexpectedly (killed by SIGKILL)" in line, line
        assert f"restarting it in {delay}s (crash {crash} in a row)" in line, line
        assert line.endswith(f"last lines of {orders.log}:"), line
    assert said[0].startswith(f"oms: orders (pid {orders.pid}) exited unexpectedly"), said
    # Nothing else was stopped or restarted, and the gateway reaches the new orders process.
    assert {name for name, _, _ in running.restarts} == {"orders"}, running.output
    assert all(alive(part.pid) for name, part in started.items() if name != "orders")
    assert_serving(data_dir, "orders", orders.address)
    # The gateway's channel to orders reconnects on its own backoff: a client asks again.
    token = backoffice_token(data_dir)
    deadline = time.monotonic() + 30
    async with GraphQLClient(running.base_url, timeout=30) as client:
        while (
            answer := await client.call(token, "{ orders(first: 1) { edges { cursor } } }")
        ).errors:
            assert time.monotonic() < deadline, f"the gateway does not reach orders: {answer}"
            await asyncio.sleep(0.2)
    assert answer.data == {"orders": {"edges": []}}

    assert running.terminate() == 0, running.output
    assert_all_gone(running)
