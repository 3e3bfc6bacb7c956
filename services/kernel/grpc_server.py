"""gRPC server bootstrap: health, reflection, and the one place domain errors become statuses."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.kernel.bounds import out_of_bounds
from services.kernel.caller import Caller
from services.kernel.errors import DomainError, to_grpc_status

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
# A call to another service that failed for these reasons is answered with the same code, so that
# the caller can tell "a service was away" (retry) from a fault.
PASSED_ON = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


if TYPE_CHECKING:  # generic in the type stubs only
    ServicerContext = grpc.aio.ServicerContext[Any, Any]
else:
    ServicerContext = grpc.aio.ServicerContext


def caller_of(context: ServicerContext) -> Caller:
    """Whom the call is for, as its metadata says (another service when it says nothing)."""
    return Caller.from_metadata(context.invocation_metadata())


class DomainErrorInterceptor(grpc.aio.ServerInterceptor):
    """Refuses a request holding text or a list out of every bound (`bounds.out_of_bounds`:
    NUL bytes, overlong text, huge lists) before its handler runs, turns a DomainError raised
    by any unary handler into its rich gRPC status, and answers a call to another service that
    failed for being away (`PASSED_ON`) with that same code."""

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        # The handler is an aio one (its context is an aio context); the stubs know sync ones.
        inner: Any = handler.unary_unary

        async def guarded(request: Any, context: ServicerContext) -> Any:
            try:
                refusal = out_of_bounds(request)
                if refusal is not None:
                    raise refusal
                return await inner(request, context)
            except DomainError as error:
                await context.abort_with_status(to_grpc_status(error))
            except grpc.aio.AioRpcError as error:
                if error.code() not in PASSED_ON:
                    raise
                log.warning("%s: a service it calls failed: %s", handler_call_details.method, error)
                await context.abort(error.code(), "a service this call needs did not answer")

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class GrpcServer:
    """A started gRPC server with its health servicer and the port it bound."""

    def __init__(
        self,
        server: grpc.aio.Server,
        health_servicer: health.aio.HealthServicer,
        port: int,
        service_names: Sequence[str],
    ) -> None:
        self.server = server
        self.health = health_servicer
        self.port = port
        self.service_names = list(service_names)

    async def set_serving(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ["", *self.service_names]:
            await self.health.set(name, status)

    async def stop(self, grace_seconds: float) -> None:
        """Refuses new calls, lets in-flight calls finish within the grace period."""
        await self.set_serving(False)
        await self.server.stop(grace_seconds)


async def start_grpc_server(
    address: str,
    register: Callable[[grpc.aio.Server], None],
    service_names: Sequence[str],
) -> GrpcServer:
    """Binds `address` (port 0 picks a free port), registers the servicers and starts serving."""
    server = grpc.aio.server(
        interceptors=[DomainErrorInterceptor()],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ],
    )
    register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [
            *service_names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    port = server.add_insecure_port(address)
    if port == 0:
        raise RuntimeError(f"could not bind gRPC address {address}")
    await server.start()
    grpc_server = GrpcServer(server, health_servicer, port, service_names)
    await grpc_server.set_serving(True)
    return grpc_server
