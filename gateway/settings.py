"""The gateway's configuration, read once from the environment at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.auth import signing_key_from_env
from services.kernel.settings import SERVICE_NAMES, data_dir, grpc_target, nats_url
from services.kernel.tls import GATEWAY, Credentials, credentials_from_env

DEFAULT_LISTEN = "127.0.0.1:8000"


@dataclass(frozen=True)
class QueryLimits:
    """Bounds on what one GraphQL document may ask for, and on the caches that skip re-parsing."""

    max_depth: int = 12
    max_tokens: int = 5_000
    max_aliases: int = 30
    parser_cache_size: int = 256
    validation_cache_size: int = 256


@dataclass(frozen=True)
class GatewaySettings:
    """Where the gateway listens, what it talks to, and the key that signs bearer tokens."""

    host: str
    port: int
    service_targets: Mapping[str, str]
    nats_url: str
    signing_key: bytes
    limits: QueryLimits = field(default_factory=QueryLimits)
    # Events a slow subscriber may fall behind by before the oldest are dropped.
    subscriber_queue_size: int = 256
    shutdown_grace_seconds: float = 5.0
    # The certificate its channels present to the services; None: plaintext, asked for.
    credentials: Credentials | None = field(kw_only=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> GatewaySettings:
        host, port = parse_listen(env.get("OMS_GATEWAY_LISTEN", DEFAULT_LISTEN))
        return cls(
            host=host,
            port=port,
            service_targets={name: grpc_target(name, env) for name in SERVICE_NAMES},
            nats_url=nats_url(env),
            signing_key=signing_key_from_env(data_dir(env), dict(env)),
            shutdown_grace_seconds=float(env.get("OMS_SHUTDOWN_GRACE_SECONDS", "5")),
            credentials=credentials_from_env(GATEWAY, env),
        )


def parse_listen(listen: str) -> tuple[str, int]:
    """`"127.0.0.1:8000"` or `"[::1]:8000"` -> host and port."""
    host, separator, port = listen.rpartition(":")
    if not separator or not host or not port.isdigit():
        raise ValueError(f"OMS_GATEWAY_LISTEN must be host:port, got {listen!r}")
    return host.strip("[]"), int(port)
