"""How uvicorn serves the gateway: the app, with the socket-level limits its settings give."""

from __future__ import annotations

import math
from typing import Any

import uvicorn

from gateway.app import create_app
from gateway.settings import GatewaySettings

# Room for the envelope around a GraphQL request in one WebSocket message (id, type, payload).
WEBSOCKET_ENVELOPE_BYTES = 4096


def server_config(settings: GatewaySettings, **options: Any) -> uvicorn.Config:
    """The server `python -m gateway` runs (`options` go to uvicorn, e.g. `log_level`)."""
    return uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        # A WebSocket message is a request too: bounded like a request body, before parsing.
        ws_max_size=settings.requests.max_body_bytes + WEBSOCKET_ENVELOPE_BYTES,
        # uvicorn stops accepting on SIGTERM/SIGINT and lets requests in flight finish within
        # the grace period, then runs the lifespan shutdown that closes channels and drains NATS.
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
        # Named, not left to uvicorn's "auto": uvloop and httptools parse and write HTTP for a
        # fraction of the CPU of asyncio's loop and h11, which the profile showed at 10-20 %.
        loop="uvloop",
        http="httptools",
        access_log=settings.access_log,
        **options,
    )
