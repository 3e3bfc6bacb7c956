"""Configuration from environment variables, with embedded defaults for one machine.

Every variable is listed in the README's configuration table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SERVICE_NAMES = ("inventory", "orders", "returns", "procurement", "workorders", "channels")

DEFAULT_GRPC_PORTS = {
    "inventory": 50051,
    "orders": 50052,
    "returns": 50053,
    "procurement": 50054,
    "workorders": 50055,
    "channels": 50056,
}


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("OMS_DATA_DIR", "var")).resolve()


def normalize_database_url(url: str) -> str:
    """Picks the async driver we ship for a plain `postgresql://` or `sqlite://` URL."""
    for plain, with_driver in (
        ("postgresql://", "postgresql+psycopg://"),
        ("postgres://", "postgresql+psycopg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return with_driver + url[len(plain) :]
    return url


def grpc_target(service: str, env: Mapping[str, str] = os.environ) -> str:
    """Where clients reach a service."""
    default = f"127.0.0.1:{DEFAULT_GRPC_PORTS[service]}"
    return env.get(f"OMS_{service.upper()}_GRPC_TARGET", default)


PLAINTEXT_VARIABLE = "OMS_INSECURE_PLAINTEXT"
# The NATS client passes a URL's user and password on as they are written, undecoded.
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")


def nats_servers(url: str) -> list[str]:
    """The servers of a NATS URL: one, or a cluster's several separated by commas."""
    return [server.strip() for server in url.split(",") if server.strip()]


def nats_url(env: Mapping[str, str] = os.environ) -> str:
    """`OMS_NATS_URL` (one server, or several separated by commas), with `OMS_NATS_USER` and
    `OMS_NATS_PASSWORD` in each server's URL when a password is set."""
    url = env.get("OMS_NATS_URL") or "nats://127.0.0.1:4222"
    password = env.get("OMS_NATS_PASSWORD", "")
    if not password:
        return url
    user = env.get("OMS_NATS_USER", "")
    for name, value in (("OMS_NATS_USER", user), ("OMS_NATS_PASSWORD", password)):
        if not _URL_SAFE.fullmatch(value):
            raise ValueError(f"{name} must be letters, digits, '.', '_', '~' or '-'")

    def logged_in(server: str) -> str:
        parts = urlsplit(server)
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))

    return ",".join(logged_in(server) for server in nats_servers(url))


def without_password(url: str) -> str:
    """`url` (one server or several) fit for a log line."""

    def hidden(server: str) -> str:
        parts = urlsplit(server)
        if parts.password is None:
            return server
        user, _, host = parts.netloc.rpartition("@")
        return urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}:***@{host}"))

    return ",".join(hidden(server) for server in nats_servers(url))


def plaintext_requested(env: Mapping[str, str]) -> bool:
    """`OMS_INSECURE_PLAINTEXT=1`: no TLS between the processes, for a lone developer only."""
    return flag(env, PLAINTEXT_VARIABLE)


def tls_dir(party: str, env: Mapping[str, str] = os.environ) -> Path | None:
    """Where `party` (a service's name, or `gateway`) finds its certificate and key:
    `OMS_TLS_DIR`, else `$OMS_DATA_DIR/tls/<party>`; None only when plaintext was asked for."""
    if plaintext_requested(env):
        return None
    given = env.get("OMS_TLS_DIR")
    return Path(given).resolve() if given else data_dir(env) / "tls" / party


def flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class StreamSettings:
    """How each JetStream stream is kept: its replicas, and how long and how much it retains.

    Retention bounds the stream, not the flow: a consumer away for longer than `max_age` misses
    what aged out (the outbox keeps every event until the stream has it), so keep it above the
    longest outage you plan for.
    """

    # 1 on one machine, 3 on a NATS cluster (survives the loss of a node).
    replicas: int = 1
    max_age_seconds: float = 7 * 24 * 3600.0
    max_bytes: int = 1024**3

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StreamSettings:
        defaults = cls()
        return cls(
            replicas=int(env.get("OMS_NATS_STREAM_REPLICAS", defaults.replicas)),
            max_age_seconds=float(
                env.get("OMS_NATS_STREAM_MAX_AGE_DAYS", defaults.max_age_seconds / 86400)
            )
            * 86400,
            max_bytes=int(env.get("OMS_NATS_STREAM_MAX_BYTES", defaults.max_bytes)),
        )


@dataclass(frozen=True)
class ServiceSettings:
    """What one service process needs to start."""

    name: str
    database_url: str = field(repr=False)
    nats_url: str = field(repr=False)
    grpc_listen: str
    # Its certificate, key and CA (`tls.Credentials`); None: plaintext, asked for explicitly.
    tls_dir: Path | None = field(kw_only=True)
    # A plaintext port answering health checks only (Kubernetes probes speak no TLS).
    health_listen: str | None = None
    # A plaintext port answering `GET /metrics` (Prometheus), when set.
    metrics_listen: str | None = None
    # Reflection lists every method to any caller: off unless asked for.
    grpc_reflection: bool = False
    shutdown_grace_seconds: float = 5.0
    # Where the services this one calls are reached, by service name.
    grpc_targets: Mapping[str, str] = field(default_factory=dict)
    streams: StreamSettings = field(default_factory=StreamSettings)
    # Deliveries of an event whose handler keeps failing before it is set aside.
    max_deliveries: int = 10

    @classmethod
    def from_env(cls, name: str, env: Mapping[str, str] = os.environ) -> ServiceSettings:
        if name not in SERVICE_NAMES:
            raise ValueError(f"unknown service {name!r}")
        prefix = f"OMS_{name.upper()}_"
        default_db = f"sqlite:///{data_dir(env) / f'{name}.sqlite'}"
        return cls(
            name=name,
            database_url=normalize_database_url(env.get(prefix + "DATABASE_URL", default_db)),
            nats_url=nats_url(env),
            grpc_listen=env.get(prefix + "GRPC_LISTEN", f"127.0.0.1:{DEFAULT_GRPC_PORTS[name]}"),
            tls_dir=tls_dir(name, env),
            health_listen=env.get(prefix + "HEALTH_LISTEN") or None,
            metrics_listen=env.get(prefix + "METRICS_LISTEN") or None,
            grpc_reflection=flag(env, "OMS_GRPC_REFLECTION"),
            shutdown_grace_seconds=float(env.get("OMS_SHUTDOWN_GRACE_SECONDS", "5")),
            grpc_targets={other: grpc_target(other, env) for other in SERVICE_NAMES},
            streams=StreamSettings.from_env(env),
            max_deliveries=int(env.get("OMS_EVENT_MAX_DELIVERIES", "10")),
        )
