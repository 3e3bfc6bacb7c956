"""The gateway's ASGI app: `/graphql`, liveness and readiness, over connections opened at start."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from gateway.auth import TokenVerifier
from gateway.backends import Backends
from gateway.dependencies import services_called
from gateway.revocations import RevocationList
from gateway.schema import build_schema
from gateway.settings import GatewaySettings
from gateway.view import GraphQLView
from gateway.webhooks import returns_platform_webhook, shipbob_webhook, shopify_webhook

# The web apps' files, shipped in the package: no build step, nothing fetched from elsewhere.
STATIC = Path(__file__).parent / "static"
WEB_APPS = ("common", "console", "graphiql", "scanner")


async def healthz(_request: Request) -> JSONResponse:
    """The process is up; says nothing about the services behind it."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready when every service the schema calls answers its health check as SERVING and NATS is
    connected; the services no operation calls are not waited for."""
    backends: Backends = request.state.backends
    not_ready = await backends.not_ready()
    checked = sorted(backends.needed)
    if not_ready:
        body = {"status": "not ready", "notReady": not_ready, "services": checked}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ready", "services": checked})


def token_verifier(settings: GatewaySettings) -> TokenVerifier:
    """The check of bearer tokens with the settings' key, policy and revocation list."""
    if settings.revocation_file is None:
        return TokenVerifier(settings.signing_key, settings.tokens)
    # An entry outlives every token that can carry its id (see gateway.revocations).
    keep_for = settings.tokens.max_lifetime + settings.tokens.leeway
    revoked = RevocationList(settings.revocation_file, keep_for)
    return TokenVerifier(settings.signing_key, settings.tokens, revoked)


def create_app(settings: GatewaySettings) -> Starlette:
    schema = build_schema(settings.limits)
    view = GraphQLView(schema, token_verifier(settings), settings.requests, settings.limits)
    needed = services_called(schema)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Backends]]:
        backends = await Backends.open(settings, needed)
        # Start-up's objects (the schema, the modules) live as long as the process: frozen, the
        # collector's full collections walk only what requests made since (as in the services).
        gc.collect()
        gc.freeze()
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
            Route("/webhooks/shopify", shopify_webhook, methods=["POST"]),
            Route("/webhooks/shipbob", shipbob_webhook, methods=["POST"]),
            Route(
                "/webhooks/{platform:str}",
                returns_platform_webhook,
                methods=["POST"],
            ),
            *(
                Mount(f"/{app}", StaticFiles(directory=STATIC / app, html=True), name=app)
                for app in WEB_APPS
            ),
        ],
        lifespan=lifespan,
    )
