"""Starts the launcher's child processes, restarts those that die, and stops them.

Once everything is ready, a child that exits is started again after a delay that doubles with
each crash in a row (`RestartPolicy`), so a process that keeps crashing does not spin the
machine, while the others keep running; every step is reported (`Exited`, `Restarted`,
`RestartFailed`, `ReadyAgain`). Children are started, and restarted, from the thread that runs
`oms up`: Linux sends a child its parent-death signal when the *thread* that forked it ends.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from launcher.plan import ChildSpec, GrpcHealth, Readiness
from launcher.processes import owned_child_options

POLL_SECONDS = 0.2
PROBE_TIMEOUT_SECONDS = 1.0

# Starts a child's process again (the same command, environment and log).
Relaunch = Callable[[], "subprocess.Popen[bytes]"]


@dataclass(frozen=True)
class RestartPolicy:
    """How long to wait before starting a child that died again."""

    first_delay_seconds: float = 1.0
    max_delay_seconds: float = 30.0
    # A child that ran this long before it died was not crash-looping: its delay starts over.
    stable_after_seconds: float = 60.0

    def delay_seconds(self, crashes_in_a_row: int) -> float:
        """The first delay, doubled for each earlier crash in the row, at most the longest.

        No limit on the number of restarts: like Kubernetes' CrashLoopBackOff, a child that
        keeps crashing is tried every `max_delay_seconds` for as long as `oms up` runs, since
        the cause (a database or a port in use) may go away without anyone touching it.
        """
        doublings = min(max(crashes_in_a_row - 1, 0), 32)
        return float(min(self.max_delay_seconds, self.first_delay_seconds * 2**doublings))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RestartPolicy:
        """`OMS_RESTART_DELAY_SECONDS` and `OMS_RESTART_MAX_DELAY_SECONDS`; ValueError naming the
        variable when a value is not a positive number or the longest delay is the shorter."""
        defaults = cls()
        first = _seconds(env, "OMS_RESTART_DELAY_SECONDS", defaults.first_delay_seconds)
        longest = _seconds(env, "OMS_RESTART_MAX_DELAY_SECONDS", defaults.max_delay_seconds)
        if not 0 < first <= longest:
            raise ValueError(
                "OMS_RESTART_DELAY_SECONDS must be more than 0 and at most "
                f"OMS_RESTART_MAX_DELAY_SECONDS (got {first:g} and {longest:g})"
            )
        return cls(first, longest, max(defaults.stable_after_seconds, longest))


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {text[:40]!r}") from None


class Child:
    """One child process (the latest run of it), the file its output goes to, and how it is
    started again."""

    def __init__(
        self,
        name: str,
        process: subprocess.Popen[bytes],
        log_path: Path,
        relaunch: Relaunch | None = None,
        readiness: Readiness | None = None,
        started_at: float = 0.0,
    ) -> None:
        self.name = name
        self.process = process
        self.log_path = log_path
        self.relaunch = relaunch
        self.readiness = readiness
        self.started_at = started_at
        self.restarts = 0
        self.crashes_in_a_row = 0
        # When a dead child is due to be started again; None while it runs.
        self.restart_due: float | None = None
        self.awaiting_ready = False

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def exit_code(self) -> int | None:
        return self.process.poll()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class ChildExited(Exception):
    """A child ended while it was meant to be running."""

    def __init__(self, child: Child) -> None:
        super().__init__(f"{child.name} exited with code {child.exit_code}")
        self.child = child


@dataclass(frozen=True)
class Exited:
    """`child` died (with `exit_code`) and is started again in `delay_seconds`."""

    child: Child
    pid: int
    exit_code: int
    delay_seconds: float


@dataclass(frozen=True)
class Restarted:
    child: Child


@dataclass(frozen=True)
class RestartFailed:
    """Starting `child` again failed (`reason`); it is tried again in `delay_seconds`."""

    child: Child
    reason: str
    delay_seconds: float


@dataclass(frozen=True)
class ReadyAgain:
    """A restarted child passed its readiness check."""

    child: Child


SupervisionEvent = Exited | Restarted | RestartFailed | ReadyAgain


def is_ready(readiness: Readiness) -> bool:
    if isinstance(readiness, GrpcHealth):
        # A fresh channel per probe: a long-lived one backs off for seconds after a refusal.
        with grpc.insecure_channel(readiness.target) as channel:
            try:
                stub: Any = health_pb2_grpc.HealthStub(channel)  # its type stubs lack Check
                response = stub.Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=PROBE_TIMEOUT_SECONDS
                )
            except grpc.RpcError:
                return False
            return bool(response.status == health_pb2.HealthCheckResponse.SERVING)
    try:
        with urllib.request.urlopen(readiness.url, timeout=PROBE_TIMEOUT_SECONDS) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _launch(spec: ChildSpec, log_path: Path, what: str) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        started = datetime.now(UTC).isoformat(timespec="seconds")
        log.write(f"--- {started} oms up {what} {spec.name}\n".encode())
        log.flush()
        return subprocess.Popen(
            spec.argv,
            env=dict(spec.env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            **owned_child_options(),
        )


class Supervisor:
    """The children of one `oms up`, by name, in the order they started."""

    def __init__(
        self, policy: RestartPolicy | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.children: dict[str, Child] = {}
        self.policy = policy or RestartPolicy()
        self._clock = clock

    def start(self, spec: ChildSpec, log_path: Path) -> Child:
        """Starts `spec` with its output appended to `log_path`; it is restarted the same way."""
        process = _launch(spec, log_path, "starts")
        return self.adopt(
            spec.name,
            process,
            log_path,
            relaunch=lambda: _launch(spec, log_path, "restarts"),
            readiness=spec.readiness,
        )

    def adopt(
        self,
        name: str,
        process: subprocess.Popen[bytes],
        log_path: Path,
        relaunch: Relaunch | None = None,
        readiness: Readiness | None = None,
    ) -> Child:
        """Watches a process started elsewhere (the embedded broker) like one started here;
        `relaunch` starts it again and returns once it is ready (no `readiness` then)."""
        child = Child(name, process, log_path, relaunch, readiness, self._clock())
        self.children[name] = child
        return child

    def _raise_if_any_exited(self) -> None:
        for child in self.children.values():
            if child.exit_code is not None:
                raise ChildExited(child)

    def wait_ready(
        self, readiness: Mapping[str, Readiness], stop: threading.Event, timeout: float
    ) -> bool:
        """True once every check passes; False if `stop` is set first.

        Raises ChildExited when a child dies meanwhile, TimeoutError naming the laggards.
        """
        pending = dict(readiness)
        deadline = time.monotonic() + timeout
        while pending:
            if stop.is_set():
                return False
            self._raise_if_any_exited()
            for name in [name for name, check in pending.items() if is_ready(check)]:
                del pending[name]
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(pending)}")
            if pending:
                stop.wait(POLL_SECONDS)
        return True

    def watch(self, stop: threading.Event, report: Callable[[SupervisionEvent], None]) -> None:
        """Until `stop` is set: restarts each child that dies, after its delay, and reports
        every step. A child that cannot be started again is tried again later.

        Raises ChildExited for a child that dies and has no way to be restarted.
        """
        while not stop.wait(POLL_SECONDS):
            for event in self.tend():
                report(event)

    def tend(self) -> list[SupervisionEvent]:
        """One round of `watch`: what died is scheduled, what is due is started, what was
        restarted is probed until ready."""
        events: list[SupervisionEvent] = []
        for child in self.children.values():
            if child.restart_due is None and child.exit_code is not None:
                events.append(self._schedule_restart(child))
            elif child.restart_due is not None and self._clock() >= child.restart_due:
                events.append(self._restart(child))
            elif child.awaiting_ready and (child.readiness is None or is_ready(child.readiness)):
                child.awaiting_ready = False
                events.append(ReadyAgain(child))
        return events

    def _schedule_restart(self, child: Child) -> Exited:
        if child.relaunch is None:
            raise ChildExited(child)
        now = self._clock()
        if now - child.started_at >= self.policy.stable_after_seconds:
            child.crashes_in_a_row = 0
        child.crashes_in_a_row += 1
        delay = self.policy.delay_seconds(child.crashes_in_a_row)
        child.restart_due = now + delay
        child.awaiting_ready = False
        return Exited(child, child.pid, child.exit_code or 0, delay)

    def _restart(self, child: Child) -> Restarted | RestartFailed:
        assert child.relaunch is not None
        child.restarts += 1
        child.started_at = self._clock()
        try:
            process = child.relaunch()
        except (OSError, RuntimeError, TimeoutError) as error:  # no binary, port taken, ...
            child.crashes_in_a_row += 1
            delay = self.policy.delay_seconds(child.crashes_in_a_row)
            child.restart_due = self._clock() + delay
            return RestartFailed(child, str(error), delay)
        child.process = process
        child.restart_due = None
        child.awaiting_ready = True
        return Restarted(child)

    def stop(self, names: Iterable[str], patience: float) -> list[str]:
        """SIGTERM to the named children at once; SIGKILL to any still running after `patience`.

        Returns the names of the children that had to be killed.
        """
        stopping = [self.children[n] for n in names if n in self.children]
        for child in stopping:
            if child.exit_code is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + patience
        killed = []
        for child in stopping:
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
                killed.append(child.name)
        return killed
