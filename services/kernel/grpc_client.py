"""gRPC client channels: every call carries a deadline, whatever the caller forgot, and every
channel presents its process's certificate and checks the server's (see `tls.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.kernel.tls import Credentials

DEFAULT_DEADLINE_SECONDS = 5.0


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
    interceptors = [DefaultDeadline(deadline_seconds)]
    options: list[tuple[str, Any]] = [
        # With a `dns:///` target of several addresses (a headless Kubernetes Service),
        # spread calls over every replica instead of pinning one connection.
        ("grpc.lb_policy_name", "round_robin"),
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
