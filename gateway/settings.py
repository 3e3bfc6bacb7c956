"""The gateway's configuration, read once from the environment at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.auth import TokenPolicy, require_strong_key, signing_key_from_env
from gateway.revocations import revocation_file
from services.kernel.settings import SERVICE_NAMES, data_dir, flag, grpc_target, nats_url
from services.kernel.tls import GATEWAY, Credentials, credentials_from_env

DEFAULT_LISTEN = "127.0.0.1:8000"


@dataclass(frozen=True)
class QueryLimits:
    """Bounds on what one GraphQL document may ask for, and on the caches that skip re-parsing."""

    max_depth: int = 12
    max_tokens: int = 5_000
    max_aliases: int = 30
    # Comments are no tokens: without a bound on the text, a small document padded with them
    # would make each cache entry (keyed by the text) as large as the body allows.
    max_query_chars: int = 10_000
    parser_cache_size: int = 256
    validation_cache_size: int = 256

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> QueryLimits:
        defaults = cls()
        chars = positive(env, "OMS_GATEWAY_MAX_QUERY_CHARS", defaults.max_query_chars)
        return cls(max_query_chars=int(chars))


@dataclass(frozen=True)
class RequestLimits:
    """Bounds on what one request or WebSocket message may be, checked before it is parsed."""

    max_body_bytes: int = 256 * 1024
    max_json_depth: int = 32
    # A client that sends its body slower than this is cut off (it holds a connection).
    body_timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RequestLimits:
        defaults = cls()
        return cls(
            max_body_bytes=int(
                positive(env, "OMS_GATEWAY_MAX_BODY_BYTES", defaults.max_body_bytes)
            ),
            max_json_depth=int(
                positive(env, "OMS_GATEWAY_MAX_JSON_DEPTH", defaults.max_json_depth)
            ),
            body_timeout_seconds=positive(
                env, "OMS_GATEWAY_BODY_TIMEOUT_SECONDS", defaults.body_timeout_seconds
            ),
        )


@dataclass(frozen=True)
class GatewaySettings:
    """Where the gateway listens, what it talks to, and the key that signs bearer tokens."""

    host: str
    port: int
    service_targets: Mapping[str, str]
    nats_url: str
    signing_key: bytes
    limits: QueryLimits = field(default_factory=QueryLimits)
    requests: RequestLimits = field(default_factory=RequestLimits)
    tokens: TokenPolicy = field(default_factory=TokenPolicy)
    # Where the ids of revoked tokens are listed; None: no token is revoked.
    revocation_file: Path | None = None
    # Events a slow subscriber may fall behind by before the oldest are dropped.
    subscriber_queue_size: int = 256
    shutdown_grace_seconds: float = 5.0
    # A plaintext port answering `GET /metrics` (Prometheus), when set.
    metrics_listen: str | None = None
    # A log line per HTTP request. Off unless asked for: the request metrics and traces say
    # as much, and at a thousand requests a second the lines cost 7 % of the gateway's CPU.
    access_log: bool = False
    # The certificate its channels present to the services; None: plaintext, asked for.
    credentials: Credentials | None = field(kw_only=True)

    def __post_init__(self) -> None:
        # Whoever builds the settings, the gateway never verifies tokens with a guessable key.
        require_strong_key(self.signing_key, "the gateway's signing key")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> GatewaySettings:
        """The settings the variables give; ValueError (WeakSigningKey included) with a message
        for the operator when one is unusable."""
        host, port = parse_listen(env.get("OMS_GATEWAY_LISTEN", DEFAULT_LISTEN))
        return cls(
            host=host,
            port=port,
            service_targets={name: grpc_target(name, env) for name in SERVICE_NAMES},
            nats_url=nats_url(env),
            signing_key=signing_key_from_env(data_dir(env), env),
            limits=QueryLimits.from_env(env),
            requests=RequestLimits.from_env(env),
            tokens=TokenPolicy.from_env(env),
            revocation_file=revocation_file(data_dir(env), env),
            shutdown_grace_seconds=float(env.get("OMS_SHUTDOWN_GRACE_SECONDS", "5")),
            metrics_listen=env.get("OMS_GATEWAY_METRICS_LISTEN") or None,
            access_log=flag(env, "OMS_GATEWAY_ACCESS_LOG"),
            credentials=credentials_from_env(GATEWAY, env),
        )


def parse_listen(listen: str) -> tuple[str, int]:
    """`"127.0.0.1:8000"` or `"[::1]:8000"` -> host and port."""
    host, separator, port = listen.rpartition(":")
    if not separator or not host or not port.isdigit():
        raise ValueError(f"OMS_GATEWAY_LISTEN must be host:port, got {listen!r}")
    return host.strip("[]"), int(port)


def positive(env: Mapping[str, str], name: str, default: float) -> float:
    """The number `name` sets, more than 0; `default` when unset."""
    text = env.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ValueError(f"{name} must be a number more than 0, got {text!r}")
    return value
