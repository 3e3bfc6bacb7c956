"""`oms up`: the broker, the five services and the gateway on one machine, stopped in reverse order.

Started in the order they depend on each other (broker, services, gateway) and stopped in the
opposite one, so the gateway stops taking requests before the services it calls go away, and
the services drain their outboxes into the broker before it stops. A part that dies before
everything is ready stops the whole run (it is most likely misconfigured); once ready, a part
that dies is restarted with backoff while the others keep running (see `launcher.supervisor`).

Everything it writes is its user's alone: the data dir is private (0700) and every file in it
is created readable by the owner only (the children inherit the umask). Each start issues
fresh certificates from the data dir's CA, and the embedded broker lets each part in under its
own user (`launcher.nats_access`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import stat
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from gateway.auth import WeakSigningKey, signing_key_from_env
from launcher.embedded_nats import EmbeddedNats
from launcher.nats_access import NatsUser, load_or_create_users
from launcher.pki import issue_all
from launcher.plan import GATEWAY, ChildSpec, dialable, gateway_listen, plan_children
from launcher.plan import shutdown_grace_seconds as grace_from_env
from launcher.ports import accepts_connections, free_port, reserve_port
from launcher.supervisor import (
    Child,
    ChildExited,
    Exited,
    ReadyAgain,
    Restarted,
    RestartFailed,
    RestartPolicy,
    SupervisionEvent,
    Supervisor,
)
from services.kernel.settings import SERVICE_NAMES, without_password

READY_TIMEOUT_SECONDS = 120.0
NATS = "nats"
# Files the launcher and its children create: the owner's alone.
PRIVATE_UMASK = 0o077


class DataDirBusy(Exception):
    """Another `oms up` runs on the same data dir: two brokers on one store would corrupt it."""


@contextmanager
def _exclusive(data_dir: Path) -> Iterator[None]:
    with (data_dir / "oms-up.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise DataDirBusy(f"another `oms up` is running on {data_dir}") from error
        yield


def _stop_on_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda _signum, _frame: stop.set())


def make_private(data_dir: Path) -> None:
    """The data dir holds customer data, keys and passwords: its owner's alone. A folder
    shared by design (sticky, like /tmp) or not ours is not changed; we say so instead."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = data_dir.stat()
    if stat.S_IMODE(info.st_mode) & 0o077 == 0:
        return
    if info.st_mode & stat.S_ISVTX or info.st_uid != os.geteuid():
        print(f"oms: warning: {data_dir} is readable by others; use a private --data-dir",
              file=sys.stderr)  # fmt: skip
        return
    data_dir.chmod(0o700)


def _oms_command() -> str:
    """How this user runs `oms`: on PATH, beside this Python (venv not activated), or as module."""
    if shutil.which("oms"):
        return "oms"
    beside = Path(sys.executable).parent / "oms"
    if beside.exists():
        return os.path.relpath(beside) if beside.is_relative_to(Path.cwd()) else str(beside)
    return f"{sys.executable} -m launcher.cli"


def _print_table(rows: list[tuple[str, str, str, str]], out: TextIO) -> None:
    header = ("part", "listens on", "pid", "log")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  " + "  ".join([*cells, row[3]]), file=out)


def _how_it_ended(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _print_log_tail(child: Child, out: TextIO) -> None:
    for line in child.log_tail().splitlines():
        print(f"    {line}", file=out)


def _report_exit(child: Child, out: TextIO) -> None:
    print(
        f"oms: {child.name} (pid {child.pid}) exited unexpectedly "
        f"({_how_it_ended(child.exit_code or 0)}); last lines of {child.log_path}:",
        file=out,
    )
    _print_log_tail(child, out)


def _report(event: SupervisionEvent, out: TextIO) -> None:
    """One line per step of a restart, so an operator sees what died, when it comes back, and
    that it did."""
    child = event.child
    if isinstance(event, Exited):
        print(
            f"oms: {child.name} (pid {event.pid}) exited unexpectedly "
            f"({_how_it_ended(event.exit_code)}); restarting it in {event.delay_seconds:g}s "
            f"(crash {child.crashes_in_a_row} in a row); last lines of {child.log_path}:",
            file=out,
        )
        _print_log_tail(child, out)
    elif isinstance(event, Restarted):
        print(f"oms: {child.name} restarted (pid {child.pid}, restart {child.restarts})", file=out)
    elif isinstance(event, RestartFailed):
        print(
            f"oms: {child.name} could not be restarted ({event.reason}); "
            f"trying again in {event.delay_seconds:g}s",
            file=out,
        )
    elif isinstance(event, ReadyAgain):
        print(f"oms: {child.name} is ready again (pid {child.pid})", file=out)
    out.flush()


class Up:
    """One run of `oms up`; `run()` returns the process exit code."""

    def __init__(
        self, data_dir: Path, port: int | None, env: Mapping[str, str], demo: bool = False
    ) -> None:
        self.data_dir = data_dir
        self.demo = demo
        self.logs = data_dir / "logs"
        self.port = port
        self.env = env
        self.stop = threading.Event()
        self.supervisor = Supervisor()
        self.nats: EmbeddedNats | None = None
        # What was started besides the broker, in order.
        self.planned: list[ChildSpec] = []

    def run(self) -> int:
        _stop_on_signals(self.stop)
        os.umask(PRIVATE_UMASK)
        make_private(self.data_dir)
        try:
            with _exclusive(self.data_dir):
                return self._run()
        except DataDirBusy as error:
            print(f"oms: {error}", file=sys.stderr)
            return 1

    def _run(self) -> int:
        for listen in self.gateway_listens():
            host, _, port = dialable(listen).rpartition(":")
            if accepts_connections(host, int(port)):
                print(f"oms: {listen} is taken; choose another port with --port", file=sys.stderr)
                return 1
            # Nothing listens there until the gateway starts: no other part may be handed it.
            reserve_port(int(port))
        # Created on first start; the gateway and `oms token` read the same file.
        try:
            signing_key_from_env(self.data_dir, dict(self.env))
        except WeakSigningKey as error:
            print(f"oms: {error}", file=sys.stderr)
            return 1
        try:
            self.supervisor.policy = RestartPolicy.from_env(self.env)
        except ValueError as error:
            print(f"oms: {error}", file=sys.stderr)
            return 1
        issue_all(self.data_dir / "tls")
        try:
            return self._start_and_watch()
        except ChildExited as exited:
            _report_exit(exited.child, sys.stderr)
            return 1
        except (OSError, RuntimeError) as error:
            print(f"oms: {error}", file=sys.stderr)
            return 1
        finally:
            self._stop_all()

    def gateway_listens(self) -> list[str]:
        return [gateway_listen(self.env, self.port)]

    def _start_and_watch(self) -> int:
        users: list[NatsUser] = []
        nats_url = self.env.get("OMS_NATS_URL")
        if not nats_url:
            users = load_or_create_users(self.data_dir)
            nats_url = self.start_broker(users)
        if self.stop.is_set():
            return 0
        passwords = {user.name: user.password for user in users}
        children = self.plan(nats_url, passwords)
        self.planned = children
        for spec in children:
            self.supervisor.start(spec, self.logs / f"{spec.name}.log")
        self._print_where(nats_url, children)
        readiness = {spec.name: spec.readiness for spec in children}
        try:
            ready = self.supervisor.wait_ready(readiness, self.stop, READY_TIMEOUT_SECONDS)
        except TimeoutError as error:
            print(f"oms: {error}; see the logs in {self.logs}", file=sys.stderr)
            return 1
        if ready:
            self.announce_ready(nats_url, children)
            if self.demo:
                self.seed_demo(children[-1].address)
            print(
                f"Get a token: {_oms_command()} token --role backoffice --data-dir {self.data_dir}"
                "   (Ctrl-C stops everything)",
                flush=True,
            )
            self.supervisor.watch(self.stop, lambda event: _report(event, sys.stderr))
        return 0

    def seed_demo(self, gateway_address: str) -> None:
        """The demo network, through the gateway that just got ready; a refusal is reported and
        the system keeps running (the data seeded so far stays)."""
        from launcher.demo import run as seed_demo

        if seed_demo(self.data_dir, gateway_address.removesuffix("/graphql"), self.env) != 0:
            print("oms: the demo data is incomplete; `oms demo` tries again", file=sys.stderr)

    def start_broker(self, users: list[NatsUser]) -> str:
        """Starts the embedded broker; returns the URL its clients dial."""
        return self._start_embedded_nats(users)

    def plan(self, nats_url: str, passwords: Mapping[str, str]) -> list[ChildSpec]:
        return plan_children(
            self.env, self.data_dir, nats_url, self.port, free_port, nats_passwords=passwords
        )

    def announce_ready(self, nats_url: str, children: list[ChildSpec]) -> None:
        print(f"OMS is ready: GraphQL at {children[-1].address}", flush=True)

    def _start_embedded_nats(self, users: list[NatsUser]) -> str:
        store = self.data_dir / "nats"
        self.nats = EmbeddedNats(store, log_file=self.logs / "nats.log", owned=True, users=users)
        self.nats.start()
        assert self.nats.process is not None
        self.supervisor.adopt(
            NATS, self.nats.process, self.nats.log_file, relaunch=self.nats.restart
        )
        return self.nats.url

    def _print_where(self, nats_url: str, children: list[ChildSpec]) -> None:
        rows = self.broker_rows(nats_url)
        for spec in children:
            child = self.supervisor.children[spec.name]
            rows.append((spec.name, spec.address, str(child.pid), str(child.log_path)))
        print(f"OMS starting, data in {self.data_dir}:")
        _print_table(rows, sys.stdout)
        scraped = [(spec.name, spec.metrics_url) for spec in children if spec.metrics_url]
        if scraped:
            print("Metrics (Prometheus, plaintext, loopback):")
            for name, url in scraped:
                print(f"  {name:<14} {url}")
        sys.stdout.flush()

    def broker_rows(self, nats_url: str) -> list[tuple[str, str, str, str]]:
        """The broker's rows in the table of parts (name, address, pid, log)."""
        nats = self.supervisor.children.get(NATS)
        if nats is None:
            return [(NATS, without_password(nats_url) + " (yours)", "-", "-")]
        return [(NATS, nats_url, str(nats.pid), str(nats.log_path))]

    def stop_broker(self) -> None:
        if self.nats is not None:
            self.nats.stop()

    def _stop_all(self) -> None:
        print("oms: stopping", file=sys.stderr, flush=True)
        # A service stops in up to two grace periods: in-flight calls, then its consumers.
        patience = 2 * grace_from_env(self.env) + 5
        gateways = [spec.name for spec in self.planned if spec.part == GATEWAY]
        services = [spec.name for spec in self.planned if spec.part in SERVICE_NAMES]
        killed = self.supervisor.stop(gateways, patience)
        killed += self.supervisor.stop(services, patience)
        self.stop_broker()
        if killed:
            print(f"oms: killed after {patience:.0f}s: {', '.join(killed)}", file=sys.stderr)
        print("oms: stopped", file=sys.stderr, flush=True)
