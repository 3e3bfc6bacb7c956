"""Configuration from environment variables, with embedded defaults for one machine.

Every variable is listed in the README's configuration table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

SERVICE_NAMES = ("inventory", "orders", "returns", "procurement", "workorders")

DEFAULT_GRPC_PORTS = {
    "inventory": 50051,
    "orders": 50052,
    "returns": 50053,
    "procurement": 50054,
    "workorders": 50055,
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


def nats_url(env: Mapping[str, str] = os.environ) -> str:
    return env.get("OMS_NATS_URL", "nats://127.0.0.1:4222")


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
    database_url: str
    nats_url: str
    grpc_listen: str
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
            shutdown_grace_seconds=float(env.get("OMS_SHUTDOWN_GRACE_SECONDS", "5")),
            grpc_targets={other: grpc_target(other, env) for other in SERVICE_NAMES},
            streams=StreamSettings.from_env(env),
            max_deliveries=int(env.get("OMS_EVENT_MAX_DELIVERIES", "10")),
        )
