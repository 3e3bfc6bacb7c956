"""Starts the launcher's child processes, watches them, and stops them."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from launcher.plan import ChildSpec, GrpcHealth, Readiness
from launcher.processes import owned_child_options

POLL_SECONDS = 0.2
PROBE_TIMEOUT_SECONDS = 1.0


class Child:
    """One running child process and the file its output goes to."""

    def __init__(self, name: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.name = name
        self.process = process
        self.log_path = log_path

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


class Supervisor:
    """The children of one `oms up`, by name, in the order they started."""

    def __init__(self) -> None:
        self.children: dict[str, Child] = {}

    def start(self, spec: ChildSpec, log_path: Path) -> Child:
        """Starts `spec` with its output appended to `log_path`."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            started = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(f"--- {started} oms up starts {spec.name}\n".encode())
            log.flush()
            process = subprocess.Popen(
                spec.argv,
                env=dict(spec.env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                **owned_child_options(),
            )
        return self.adopt(spec.name, process, log_path)

    def adopt(self, name: str, process: subprocess.Popen[bytes], log_path: Path) -> Child:
        """Watches a process started elsewhere (the embedded broker) like one started here."""
        child = Child(name, process, log_path)
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

    def watch(self, stop: threading.Event) -> None:
        """Returns when `stop` is set; raises ChildExited if a child dies first."""
        while not stop.wait(POLL_SECONDS):
            self._raise_if_any_exited()

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
