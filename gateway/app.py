"""The gateway's ASGI app: `/graphql`, liveness and readiness, over connections opened at start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from gateway.backends import Backends
from gateway.schema import build_schema
from gateway.settings import GatewaySettings
from gateway.view import GraphQLView


async def healthz(_request: Request) -> JSONResponse:
    """The process is up; says nothing about the services behind it."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready when every service answers its health check as SERVING and NATS is connected."""
    backends: Backends = request.state.backends
    not_ready = await backends.not_ready()
    if not_ready:
        return JSONResponse({"status": "not ready", "notReady": not_ready}, status_code=503)
    return JSONResponse({"status": "ready"})


def create_app(settings: GatewaySettings) -> Starlette:
    view = GraphQLView(build_schema(settings.limits), settings.signing_key)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Backends]]:
        backends = await Backends.open(settings)
        try:
            yield {"backends": backends}
        finally:
            await backends.close()

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/graphql", view),
            WebSocketRoute("/graphql", view),
        ],
        lifespan=lifespan,
    )
