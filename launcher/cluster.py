"""`oms up --cluster`: the clustered topology of `deploy/kubernetes` on one machine, so that an
operator sees it work (and fail over) before deploying it.

Three NATS servers in one JetStream cluster with every stream on all three, two replicas of each
service sharing one PostgreSQL database per service (migrated once, before any replica starts),
and two gateways on consecutive ports. Every client is given all the replicas of what it calls
and all three NATS servers, so it carries on with the survivors when one of them dies; every
process is restarted with backoff as in `oms up`.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import psycopg

from launcher.cluster_databases import create_missing, database_urls
from launcher.migrations import migrate_services
from launcher.nats_access import NatsUser
from launcher.nats_cluster import NatsCluster
from launcher.plan import (
    CLUSTER_REPLICAS,
    GATEWAY,
    ChildSpec,
    gateway_listens,
    plan_cluster_children,
)
from launcher.ports import free_port
from launcher.up import Up
from services.kernel.settings import SERVICE_NAMES, without_password

REPLICAS = 2


class ClusterUp(Up):
    """One run of `oms up --cluster`."""

    def __init__(
        self, data_dir: Path, port: int | None, env: Mapping[str, str], demo: bool = False
    ) -> None:
        super().__init__(data_dir, port, env, demo)
        self.cluster: NatsCluster | None = None
        self.databases = database_urls(self.env)

    def gateway_listens(self) -> list[str]:
        return gateway_listens(self.env, self.port, REPLICAS)

    def start_broker(self, users: list[NatsUser]) -> str:
        self.cluster = NatsCluster(self.data_dir / "nats-cluster", self.logs, users)
        self.cluster.start()
        for name, node in self.cluster.nodes.items():
            assert node.process is not None
            self.supervisor.adopt(name, node.process, node.log_file, relaunch=self._relaunch(name))
        return self.cluster.url

    def _relaunch(self, name: str) -> Callable[[], subprocess.Popen[bytes]]:
        cluster = self.cluster
        assert cluster is not None
        return lambda: cluster.restart(name)

    def plan(self, nats_url: str, passwords: Mapping[str, str]) -> list[ChildSpec]:
        """The replicas, once every service's database exists and is at the newest schema (so
        that replicas starting together find nothing left to migrate)."""
        try:
            created = create_missing(self.env)
            env = {**self.env, **_database_variables(self.databases)}
            asyncio.run(migrate_services(SERVICE_NAMES, env))
        except psycopg.Error as error:
            raise RuntimeError(f"PostgreSQL: {error}".strip()) from error
        for name in created:
            print(f"oms: created database {name}", file=sys.stderr)
        return plan_cluster_children(
            self.env,
            self.data_dir,
            nats_url,
            self.port,
            free_port,
            self.databases,
            REPLICAS,
            nats_passwords=passwords,
        )

    def broker_rows(self, nats_url: str) -> list[tuple[str, str, str, str]]:
        if self.cluster is None:
            return super().broker_rows(nats_url)
        rows = []
        for name, node in self.cluster.nodes.items():
            child = self.supervisor.children[name]
            rows.append((name, node.url, str(child.pid), str(child.log_path)))
        return rows

    def announce_ready(self, nats_url: str, children: list[ChildSpec]) -> None:
        """The topology, as its clients see it."""
        gateways = [spec.address for spec in children if spec.part == GATEWAY]
        print(f"OMS is ready: GraphQL at {' and '.join(gateways)}", flush=True)
        print(
            f"Topology: {len(nats_url.split(','))} NATS servers (streams on "
            f"{CLUSTER_REPLICAS}), {REPLICAS} replicas of each service on PostgreSQL, "
            f"{len(gateways)} gateways"
        )
        print(f"  nats         {without_password(nats_url)}")
        for name in SERVICE_NAMES:
            replicas = ",".join(spec.address for spec in children if spec.part == name)
            database = without_password(self.databases[name])
            print(f"  {name:<12} ipv4:{replicas}  on {database}")
        sys.stdout.flush()

    def stop_broker(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()


def _database_variables(urls: Mapping[str, str]) -> dict[str, str]:
    return {f"OMS_{name.upper()}_DATABASE_URL": url for name, url in urls.items()}
