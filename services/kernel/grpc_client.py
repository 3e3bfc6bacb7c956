"""gRPC client channels: every call carries a deadline, whatever the caller forgot, every
channel presents its process's certificate and checks the server's (see `tls.py`), spreads its
calls over every address of its target, and finds a restarted server again within a second."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.kernel import tracing
from services.kernel.tls import Credentials

DEFAULT_DEADLINE_SECONDS = 5.0
# gRPC waits 1 s after a failed connection, then 1.6 times longer each time, up to 2 minutes: a
# server back after ten seconds away would be left alone for several more while every call
# fails at once. Capped, a restarted replica is found again within about a second.
RECONNECT_BACKOFF_MS = 250
MAX_RECONNECT_BACKOFF_MS = 1000


def replicas_target(addresses: Sequence[str]) -> str:
    """The target that reaches every `host:port` in `addresses` (IPv4 literals), so that a
    channel spreads its calls over them all and goes on with the others when one is away."""
    if len(addresses) == 1:
        return addresses[0]
    return "ipv4:" + ",".join(addresses)


class DefaultDeadline(grpc.aio.UnaryUnaryClientInterceptor):
    """Adds a deadline to any unary call made without one."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        if client_call_details.timeout is None:
            # ClientCallDetails is a namedtuple at run time; its stub does not say so.
            details: Any = client_call_details
            client_call_details = details._replace(timeout=self._seconds)
        return await continuation(client_call_details, request)


def open_channel(
    target: str,
    service: str,
    credentials: Credentials | None,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
) -> grpc.aio.Channel:
    """One long-lived channel to `service` at `target`; share it, it multiplexes calls.

    With credentials the server must hold the certificate issued to `service` (its name, not
    the address dialled, is what is checked); without, the channel is plaintext, which only an
    explicitly insecure development set-up uses.
    """
    interceptors: list[Any] = [DefaultDeadline(deadline_seconds), *tracing.client_interceptors()]
    options: list[tuple[str, Any]] = [
        # With a target of several addresses (`replicas_target`, or a `dns:///` name of a
        # headless Kubernetes Service), spread calls over every replica instead of pinning one.
        ("grpc.lb_policy_name", "round_robin"),
        ("grpc.initial_reconnect_backoff_ms", RECONNECT_BACKOFF_MS),
        # min_reconnect_backoff_ms is left at its default: gRPC also takes it as the deadline
        # of a connection attempt, and a short one fails TLS handshakes on a busy host.
        ("grpc.max_reconnect_backoff_ms", MAX_RECONNECT_BACKOFF_MS),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.http2.max_pings_without_data", 0),
    ]
    if credentials is None:
        return grpc.aio.insecure_channel(target, interceptors=interceptors, options=options)
    options.append(("grpc.ssl_target_name_override", service))
    return grpc.aio.secure_channel(
        target, credentials.for_channel(), interceptors=interceptors, options=options
    )


async def is_serving(channel: grpc.aio.Channel, timeout: float = 1.0) -> bool:
    """Asks the standard health service whether the server behind `channel` is serving."""
    try:
        # The health stubs' types describe no aio stub.
        stub: Any = health_pb2_grpc.HealthStub(channel)
        response = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
    except grpc.RpcError:
        return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)
