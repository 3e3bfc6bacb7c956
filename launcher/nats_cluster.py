"""Three nats-server processes on loopback forming one JetStream cluster, as `deploy/kubernetes/
nats.yaml` runs them: streams with three replicas survive the loss of any one server.

Each server has its own store, client, route and monitoring ports (kept for the whole run, so a
server started again rejoins where its peers expect it) and the same users as the single
embedded broker. The routes log in with a password made for this run.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from launcher.embedded_nats import ClusterMembership, EmbeddedNats
from launcher.nats_access import NatsUser
from launcher.ports import free_port

CLUSTER_SIZE = 3
ROUTE_USER = "oms-route"


def node_name(index: int) -> str:
    return f"nats-{index + 1}"


class NatsCluster:
    """The servers, by name (`nats-1`, ...); `url` lists every one for the clients."""

    def __init__(
        self,
        store_dir: Path,
        log_dir: Path,
        users: Sequence[NatsUser],
        size: int = CLUSTER_SIZE,
        host: str = "127.0.0.1",
    ) -> None:
        route_ports = [free_port(host) for _ in range(size)]
        password = secrets.token_urlsafe(24)
        self.nodes: dict[str, EmbeddedNats] = {}
        for index, route_port in enumerate(route_ports):
            name = node_name(index)
            membership = ClusterMembership(
                server_name=name,
                route_port=route_port,
                peer_route_ports=tuple(p for p in route_ports if p != route_port),
                route_user=ROUTE_USER,
                route_password=password,
            )
            self.nodes[name] = EmbeddedNats(
                store_dir / name,
                host=host,
                log_file=log_dir / f"{name}.log",
                owned=True,
                users=users,
                cluster=membership,
            )

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes.values())

    def start(self, timeout: float = 60.0) -> None:
        """Starts every server, then returns once each one's JetStream has a leader and is
        caught up: only then can a service create a replicated stream."""
        for node in self.nodes.values():
            node.start(timeout)
        self._wait_healthy(list(self.nodes), timeout)

    def restart(self, name: str, timeout: float = 20.0) -> subprocess.Popen[bytes]:
        """Starts a server that died again, where it was, and returns once it has caught up
        with its peers (a client that reached it earlier would find its JetStream not
        answering)."""
        node = self.nodes[name]
        process = node.restart()
        try:
            self._wait_healthy([name], timeout)
        except BaseException:
            node.kill()  # not left holding its ports for the next try
            raise
        return process

    def _wait_healthy(self, names: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(self.nodes[name].healthy() for name in names):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{', '.join(names)}: no JetStream quorum in {timeout:.0f}s")
            for name in names:
                process = self.nodes[name].process
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"{name} exited early; see {self.nodes[name].log_file}")
            time.sleep(0.1)

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()
