"""gRPC server bootstrap: mutual TLS, health, reflection when asked for, who may speak for a
user, and the one place domain errors become statuses."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.kernel import tracing
from services.kernel.bounds import MAX_CSV_BYTES, out_of_bounds
from services.kernel.caller import (
    CHANNEL_KEY,
    INTERNAL,
    LOCATION_KEY,
    ROLE_KEY,
    SUBJECT_KEY,
    Caller,
)
from services.kernel.errors import DomainError, ErrorCode, to_grpc_status
from services.kernel.metrics import RESERVATION_CONFLICTS, RPC_DURATION, RPC_REQUESTS
from services.kernel.tls import GATEWAY, Credentials, peer_names

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
# A call to another service that failed for these reasons is answered with the same code, so that
# the caller can tell "a service was away" (retry) from a fault.
PASSED_ON = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


CALLER_KEYS = frozenset({ROLE_KEY, SUBJECT_KEY, LOCATION_KEY, CHANNEL_KEY})

if TYPE_CHECKING:  # generic in the type stubs only
    ServicerContext = grpc.aio.ServicerContext[Any, Any]
    MethodHandler = grpc.RpcMethodHandler[Any, Any]
else:
    ServicerContext = grpc.aio.ServicerContext
    MethodHandler = grpc.RpcMethodHandler

# A unary handler as the interceptors wrap it.
UnaryHandler = Callable[[Any, ServicerContext], Awaitable[Any]]
Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[MethodHandler | None]]


def may_speak_for_users(context: ServicerContext) -> bool:
    """Only the gateway authenticates people and devices, so only its certificate lets a call
    say whom it is for. On a plaintext server (explicitly insecure development) no peer is
    authenticated, and every call is taken at its word, as there is nothing better to go by."""
    names = peer_names(context)
    return names is None or GATEWAY in names


def caller_of(context: ServicerContext) -> Caller:
    """Whom the call is for, as its metadata says (another service when it says nothing, and
    whatever it says unless it comes from the gateway)."""
    if not may_speak_for_users(context):
        return INTERNAL
    return Caller.from_metadata(context.invocation_metadata())


def _wrap_unary(
    handler: grpc.RpcMethodHandler[Any, Any] | None,
    wrap: Callable[[UnaryHandler], UnaryHandler],
) -> grpc.RpcMethodHandler[Any, Any] | None:
    if handler is None or handler.unary_unary is None:
        return handler
    # The handler is an aio one (its context is an aio context); the stubs know sync ones.
    inner: Any = handler.unary_unary
    return grpc.unary_unary_rpc_method_handler(
        wrap(inner),
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


class WrapsOncePerMethod(grpc.aio.ServerInterceptor):
    """An interceptor that wraps each method's handler once and reuses it: grpc.aio asks for
    the handler on every call, and building the wrappers anew each time cost every RPC. The
    handlers are registered at start-up, so a method's handler never changes (those of the
    interceptors inside this one are in the handler it keeps)."""

    def __init__(self) -> None:
        self._handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        method = handler_call_details.method
        handler = self._handlers.get(method)
        if handler is None:
            handler = _wrap_unary(await continuation(handler_call_details), self.wrapper(method))
            # Only methods that exist are kept: a peer naming others cannot grow the map.
            if handler is not None:
                self._handlers[method] = handler
        return handler

    def wrapper(self, method: str) -> Callable[[UnaryHandler], UnaryHandler]:
        """What wraps the method's unary handler."""
        raise NotImplementedError


class OnlyTheGatewaySpeaksForUsers(WrapsOncePerMethod):
    """Refuses a call from another process of ours that names a user: a service acts for no one
    in particular, and a caller it could name would widen or narrow what it sees at will."""

    def wrapper(self, method: str) -> Callable[[UnaryHandler], UnaryHandler]:
        def wrap(inner: UnaryHandler) -> UnaryHandler:
            async def checked(request: Any, context: ServicerContext) -> Any:
                named = any(key in CALLER_KEYS for key, _ in context.invocation_metadata() or ())
                if named and not may_speak_for_users(context):
                    raise DomainError(
                        ErrorCode.FORBIDDEN, "only the gateway may call on behalf of a user"
                    )
                return await inner(request, context)

            return checked

        return wrap


# A field that may hold more than any other text: a file's text, bounded by its use case.
LONGER_TEXT = {"csv": MAX_CSV_BYTES}


class DomainErrorInterceptor(WrapsOncePerMethod):
    """Refuses a request holding text or a list out of every bound (`bounds.out_of_bounds`:
    NUL bytes, overlong text, huge lists) before its handler runs, turns a DomainError raised
    by any unary handler into its rich gRPC status, and answers a call to another service that
    failed for being away (`PASSED_ON`) with that same code."""

    def wrapper(self, method: str) -> Callable[[UnaryHandler], UnaryHandler]:
        def wrap(inner: UnaryHandler) -> UnaryHandler:
            async def guarded(request: Any, context: ServicerContext) -> Any:
                try:
                    refusal = out_of_bounds(request, text_bounds=LONGER_TEXT)
                    if refusal is not None:
                        raise refusal
                    return await inner(request, context)
                except DomainError as error:
                    await context.abort_with_status(to_grpc_status(error))
                except grpc.aio.AioRpcError as error:
                    if error.code() not in PASSED_ON:
                        raise
                    log.warning("%s: a service it calls failed: %s", method, error)
                    await context.abort(error.code(), "a service this call needs did not answer")

            return guarded

        return wrap


class RpcMetrics(WrapsOncePerMethod):
    """Counts each unary call by method and outcome (OK, the domain error's code, or the gRPC
    status of a call it passed on), times it, and counts refusals for want of stock."""

    def wrapper(self, method: str) -> Callable[[UnaryHandler], UnaryHandler]:
        def wrap(inner: UnaryHandler) -> UnaryHandler:
            async def measured(request: Any, context: ServicerContext) -> Any:
                started, code = time.perf_counter(), "OK"
                try:
                    return await inner(request, context)
                except DomainError as error:
                    code = error.code.value
                    if error.code is ErrorCode.INSUFFICIENT_STOCK:
                        RESERVATION_CONFLICTS.labels(method).inc()
                    raise
                except grpc.aio.AioRpcError as error:
                    code = error.code().name
                    raise
                except BaseException:
                    code = "INTERNAL"
                    raise
                finally:
                    RPC_REQUESTS.labels(method, code).inc()
                    RPC_DURATION.labels(method).observe(time.perf_counter() - started)

            return measured

        return wrap


class GrpcServer:
    """A started gRPC server with its health servicer and the port it bound, and the plaintext
    server that answers health checks alone, when there is one."""

    def __init__(
        self,
        server: grpc.aio.Server,
        health_servicer: health.aio.HealthServicer,
        port: int,
        service_names: Sequence[str],
        health_server: grpc.aio.Server | None = None,
        health_port: int | None = None,
    ) -> None:
        self.server = server
        self.health = health_servicer
        self.port = port
        self.service_names = list(service_names)
        self.health_server = health_server
        self.health_port = health_port

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
        if self.health_server is not None:
            await self.health_server.stop(0)


def _bind(server: grpc.aio.Server, address: str, credentials: Credentials | None) -> int:
    if credentials is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, credentials.for_server())
    if port == 0:
        raise RuntimeError(f"could not bind gRPC address {address}")
    return port


async def _start_health_server(
    address: str, servicer: health.aio.HealthServicer
) -> tuple[grpc.aio.Server, int]:
    """Plaintext, health alone: Kubernetes' gRPC probes and container health checks speak no
    TLS. It tells whether the service is serving, and nothing else is reachable through it."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = _bind(server, address, None)
    await server.start()
    return server, port


async def start_grpc_server(
    address: str,
    register: Callable[[grpc.aio.Server], None],
    service_names: Sequence[str],
    credentials: Credentials | None,
    *,
    reflection_enabled: bool = False,
    health_address: str | None = None,
) -> GrpcServer:
    """Binds `address` (port 0 picks a free port), registers the servicers and starts serving.

    With `credentials`, only clients holding a certificate from the same CA get through;
    without, anyone who reaches the port does (explicit development use only). Reflection
    lists every method to whoever asks, so it is off unless asked for. `health_address` adds
    the plaintext health-only port.
    """
    server = grpc.aio.server(
        # The outer one sees what the inner ones raise; the span covers the whole call.
        interceptors=[
            *tracing.server_interceptors(),
            DomainErrorInterceptor(),
            RpcMetrics(),
            OnlyTheGatewaySpeaksForUsers(),
        ],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ],
    )
    register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if reflection_enabled:
        reflection.enable_server_reflection(
            [
                *service_names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ],
            server,
        )
    port = _bind(server, address, credentials)
    await server.start()
    health_server, health_port = None, None
    if health_address is not None:
        try:
            health_server, health_port = await _start_health_server(health_address, health_servicer)
        except BaseException:
            await server.stop(0)
            raise
    grpc_server = GrpcServer(
        server, health_servicer, port, service_names, health_server, health_port
    )
    await grpc_server.set_serving(True)
    return grpc_server
