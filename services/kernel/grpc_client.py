"""gRPC client channels: every call carries a deadline, whatever the caller forgot."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

DEFAULT_DEADLINE_SECONDS = 5.0


class DefaultDeadline(grpc.aio.UnaryUnaryClientInterceptor):
    """Adds a deadline to any unary call made without one."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    async def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        if client_call_details.timeout is None:
            client_call_details = client_call_details._replace(timeout=self._seconds)
        return await continuation(client_call_details, request)


def open_channel(
    target: str, deadline_seconds: float = DEFAULT_DEADLINE_SECONDS
) -> grpc.aio.Channel:
    """One long-lived channel per target; share it, it multiplexes calls."""
    return grpc.aio.insecure_channel(
        target,
        interceptors=[DefaultDeadline(deadline_seconds)],
        options=[
            # With a `dns:///` target of several addresses (a headless Kubernetes Service),
            # spread calls over every replica instead of pinning one connection.
            ("grpc.lb_policy_name", "round_robin"),
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.keepalive_timeout_ms", 10_000),
            ("grpc.http2.max_pings_without_data", 0),
        ],
    )


async def is_serving(channel: grpc.aio.Channel, timeout: float = 1.0) -> bool:
    """Asks the standard health service whether the server behind `channel` is serving."""
    try:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=timeout
        )
    except grpc.RpcError:
        return False
    return response.status == health_pb2.HealthCheckResponse.SERVING
