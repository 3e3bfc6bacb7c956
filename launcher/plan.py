"""What `oms up` runs: each child's command, environment, address and readiness check.

Pure: it reads the user's environment as given and asks nothing of the machine (free ports come
from the caller), so the rule "what the user set wins" is tested without starting a process.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from services.kernel.grpc_client import replicas_target
from services.kernel.settings import SERVICE_NAMES
from services.kernel.tls import GATEWAY as GATEWAY  # the part the launcher names so

LOOPBACK = "127.0.0.1"
DEFAULT_GATEWAY_PORT = 8000
DEFAULT_SHUTDOWN_GRACE_SECONDS = 5.0
# A stream on every server of a three-server cluster survives the loss of any one.
CLUSTER_REPLICAS = 3


@dataclass(frozen=True)
class GrpcHealth:
    """Ready when the standard gRPC health service at `target` answers SERVING."""

    target: str


@dataclass(frozen=True)
class HttpOk:
    """Ready when a GET of `url` answers 200."""

    url: str


Readiness = GrpcHealth | HttpOk


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: tuple[str, ...]
    # The child's whole environment: the user's less the secrets of the other parts, with the
    # launcher's wiring where the user set none.
    env: Mapping[str, str] = field(repr=False)
    address: str
    readiness: Readiness
    # The part it is a replica of, when it is one (`inventory` for `inventory-2`).
    replica_of: str | None = None
    # Where Prometheus scrapes it (`http://host:port/metrics`), when it was given a port.
    metrics_url: str | None = None

    @property
    def part(self) -> str:
        return self.replica_of or self.name


# Secret variables and the one part that needs each; every other part goes without.
SECRET_OWNERS: Mapping[str, str] = {
    "OMS_JWT_SECRET": GATEWAY,
    "OMS_REFUND_WEBHOOK_SECRET": "returns",
    **{f"OMS_{name.upper()}_DATABASE_URL": name for name in SERVICE_NAMES},
}


def without_others_secrets(env: Mapping[str, str], part: str) -> dict[str, str]:
    """`env` less the secrets that belong to another part than `part`: a leak from one
    process (a crash report, a debug dump of its environment) gives away its own only."""
    return {key: value for key, value in env.items() if SECRET_OWNERS.get(key, part) == part}


def dialable(listen: str) -> str:
    """The address a local client dials for a listen address (a wildcard host means loopback)."""
    host, _, port = listen.rpartition(":")
    if host in ("", "0.0.0.0", "[::]", "::"):
        host = LOOPBACK
    return f"{host}:{port}"


def gateway_listen(env: Mapping[str, str], port: int | None) -> str:
    """`--port` when given, else `OMS_GATEWAY_LISTEN`, else loopback port 8000."""
    if port is not None:
        return f"{LOOPBACK}:{port}"
    return env.get("OMS_GATEWAY_LISTEN") or f"{LOOPBACK}:{DEFAULT_GATEWAY_PORT}"


def shutdown_grace_seconds(env: Mapping[str, str]) -> float:
    return float(env.get("OMS_SHUTDOWN_GRACE_SECONDS") or DEFAULT_SHUTDOWN_GRACE_SECONDS)


def _user_first(env: Mapping[str, str], wiring: Mapping[str, str]) -> dict[str, str]:
    """The user's environment, with each launcher default only where the user set nothing."""
    merged = dict(env)
    for key, value in wiring.items():
        if not merged.get(key):
            merged[key] = value
    return merged


def _own(part: str, data_dir: Path, nats_passwords: Mapping[str, str] | None) -> dict[str, str]:
    """What is the launcher's to decide for `part` (each of its replicas alike), whatever the
    environment says: its data dir, its certificate, its NATS login."""
    decided = {"OMS_DATA_DIR": str(data_dir), "OMS_TLS_DIR": str(data_dir / "tls" / part)}
    if nats_passwords and part in nats_passwords:
        decided |= {"OMS_NATS_USER": part, "OMS_NATS_PASSWORD": nats_passwords[part]}
    return decided


def _shared(nats_url: str, targets: Mapping[str, str]) -> dict[str, str]:
    """What every part is told: where the broker and every service are."""
    return {
        "OMS_NATS_URL": nats_url,
        "PYTHONUNBUFFERED": "1",
        # Development on one machine: grpcurl and the like can list the methods (with a
        # certificate from the data dir; nothing without one gets through).
        "OMS_GRPC_REFLECTION": "1",
        # Services call each other, so every child learns where every service is.
        **{f"OMS_{name.upper()}_GRPC_TARGET": target for name, target in targets.items()},
    }


def metrics_url(listen: str | None) -> str | None:
    return f"http://{dialable(listen)}/metrics" if listen else None


def _gateway(name: str, env: Mapping[str, str], wiring: Mapping[str, str], listen: str,
             own: Mapping[str, str], python: str, metrics: str) -> ChildSpec:  # fmt: skip
    base_url = f"http://{dialable(listen)}"
    child_env = {
        **_user_first(without_others_secrets(env, GATEWAY), wiring),
        **own,
        "OMS_GATEWAY_LISTEN": listen,
        "OMS_GATEWAY_METRICS_LISTEN": metrics,
    }
    return ChildSpec(
        name=name,
        replica_of=None if name == GATEWAY else GATEWAY,
        argv=(python, "-m", "gateway"),
        env=child_env,
        address=f"{base_url}/graphql",
        readiness=HttpOk(f"{base_url}/readyz"),
        metrics_url=metrics_url(metrics),
    )


def plan_children(
    env: Mapping[str, str],
    data_dir: Path,
    nats_url: str,
    gateway_port: int | None,
    free_port: Callable[[], int],
    python: str = sys.executable,
    nats_passwords: Mapping[str, str] | None = None,
) -> list[ChildSpec]:
    """The five services, then the gateway, wired to each other and to `nats_url`.

    Every service gets its own SQLite file in `data_dir`, a free loopback port, a plaintext
    loopback port that answers health checks alone (the launcher's readiness probe) and one
    for its metrics (the gateway too), unless the user's environment names a database or
    address for it; `OMS_NATS_URL`, when set, wins over
    `nats_url`. Each part gets its own certificate (`data_dir/tls/<part>`), its own NATS login
    when `nats_passwords` has one (the embedded broker), and no other part's secrets.
    `data_dir` itself is the caller's decision (`--data-dir` beats `OMS_DATA_DIR`), as is the
    gateway's `--port`.
    """
    listens = {
        name: env.get(f"OMS_{name.upper()}_GRPC_LISTEN") or f"{LOOPBACK}:{free_port()}"
        for name in SERVICE_NAMES
    }
    health = {
        name: env.get(f"OMS_{name.upper()}_HEALTH_LISTEN") or f"{LOOPBACK}:{free_port()}"
        for name in SERVICE_NAMES
    }
    metrics = {
        name: env.get(f"OMS_{name.upper()}_METRICS_LISTEN") or f"{LOOPBACK}:{free_port()}"
        for name in (*SERVICE_NAMES, GATEWAY)
    }
    shared = _shared(nats_url, {name: dialable(listens[name]) for name in SERVICE_NAMES})
    children = [
        ChildSpec(
            name=name,
            argv=(python, "-m", f"services.{name}"),
            env={
                **_user_first(
                    without_others_secrets(env, name),
                    {
                        **shared,
                        f"OMS_{name.upper()}_DATABASE_URL": f"sqlite:///{data_dir / name}.sqlite",
                        f"OMS_{name.upper()}_GRPC_LISTEN": listens[name],
                        f"OMS_{name.upper()}_HEALTH_LISTEN": health[name],
                        f"OMS_{name.upper()}_METRICS_LISTEN": metrics[name],
                        "OTEL_SERVICE_NAME": name,
                    },
                ),
                **_own(name, data_dir, nats_passwords),
            },
            address=dialable(listens[name]),
            readiness=GrpcHealth(dialable(health[name])),
            metrics_url=metrics_url(metrics[name]),
        )
        for name in SERVICE_NAMES
    ]
    listen = gateway_listen(env, gateway_port)
    own = _own(GATEWAY, data_dir, nats_passwords)
    wiring = {**shared, "OTEL_SERVICE_NAME": GATEWAY}
    children.append(_gateway(GATEWAY, env, wiring, listen, own, python, metrics[GATEWAY]))
    return children


def replica_name(part: str, replica: int) -> str:
    """`inventory-1`, `gateway-2`: what a cluster run calls the replicas of a part."""
    return f"{part}-{replica + 1}"


def gateway_listens(env: Mapping[str, str], port: int | None, replicas: int) -> list[str]:
    """The gateway's listen address (`gateway_listen`) and the ports after it, one a replica."""
    host, _, first = gateway_listen(env, port).rpartition(":")
    return [f"{host}:{int(first) + replica}" for replica in range(replicas)]


def plan_cluster_children(
    env: Mapping[str, str],
    data_dir: Path,
    nats_url: str,
    gateway_port: int | None,
    free_port: Callable[[], int],
    database_urls: Mapping[str, str],
    replicas: int = 2,
    python: str = sys.executable,
    nats_passwords: Mapping[str, str] | None = None,
) -> list[ChildSpec]:
    """`replicas` of each service on the database `database_urls` names for it, then as many
    gateways on consecutive ports from the gateway's own (`gateway_listens`).

    Every client of a service is given all its replicas' addresses (`replicas_target`), and
    every part all the servers in `nats_url`; streams are kept on three servers. Replicas
    share their part's certificate and NATS login. Each replica's ports (gRPC, health and
    metrics, the gateway's metrics too) are the launcher's choice: two replicas cannot share one
    address, so neither `OMS_<SERVICE>_GRPC_LISTEN` nor `OMS_<PART>_METRICS_LISTEN` is read.
    """
    listens = {
        name: [f"{LOOPBACK}:{free_port()}" for _ in range(replicas)] for name in SERVICE_NAMES
    }
    targets = {name: replicas_target(listens[name]) for name in SERVICE_NAMES}
    shared = {**_shared(nats_url, targets), "OMS_NATS_STREAM_REPLICAS": str(CLUSTER_REPLICAS)}
    children = []
    for name in SERVICE_NAMES:
        for replica, listen in enumerate(listens[name]):
            health = f"{LOOPBACK}:{free_port()}"
            metrics = f"{LOOPBACK}:{free_port()}"
            wiring = {**shared, f"OMS_{name.upper()}_DATABASE_URL": database_urls[name]}
            children.append(
                ChildSpec(
                    name=replica_name(name, replica),
                    argv=(python, "-m", f"services.{name}"),
                    env={
                        **_user_first(without_others_secrets(env, name), wiring),
                        **_own(name, data_dir, nats_passwords),
                        f"OMS_{name.upper()}_GRPC_LISTEN": listen,
                        f"OMS_{name.upper()}_HEALTH_LISTEN": health,
                        f"OMS_{name.upper()}_METRICS_LISTEN": metrics,
                    },
                    address=listen,
                    readiness=GrpcHealth(health),
                    replica_of=name,
                    metrics_url=metrics_url(metrics),
                )
            )
    own = _own(GATEWAY, data_dir, nats_passwords)
    for replica, listen in enumerate(gateway_listens(env, gateway_port, replicas)):
        name, metrics = replica_name(GATEWAY, replica), f"{LOOPBACK}:{free_port()}"
        children.append(_gateway(name, env, shared, listen, own, python, metrics))
    return children
