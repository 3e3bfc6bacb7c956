"""The gateway under uvicorn on a free port, in the test's own event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import uvicorn

from gateway.app import create_app
from gateway.settings import GatewaySettings
from launcher.ports import free_port
from services.kernel.tls import GATEWAY
from tests.support.trust import credentials

# The key the tests' gateways verify tokens with, and their clients sign them with.
SIGNING_KEY = b"integration-test-signing-key-0123456789"


@asynccontextmanager
async def serving_gateway(
    service_targets: Mapping[str, str], nats_url: str, signing_key: bytes
) -> AsyncIterator[str]:
    """Serves the gateway as `python -m gateway` does; yields its base URL."""
    settings = GatewaySettings(
        host="127.0.0.1",
        port=free_port(),
        service_targets=dict(service_targets),
        nats_url=nats_url,
        signing_key=signing_key,
        credentials=credentials(GATEWAY),
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host=settings.host, port=settings.port, log_level="warning"
        )
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "the gateway did not start"
            await asyncio.sleep(0.02)
        yield f"http://{settings.host}:{settings.port}"
    finally:
        server.should_exit = True
        await serving
