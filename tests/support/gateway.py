"""The gateway under uvicorn on a free port, in the test's own event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from gateway.server import server_config
from gateway.settings import GatewaySettings
from launcher.ports import free_port
from services.kernel.tls import GATEWAY
from tests.support.trust import credentials

# The key the tests' gateways verify tokens with, and their clients sign them with.
SIGNING_KEY = b"integration-test-signing-key-0123456789"


@asynccontextmanager
async def serving_gateway(
    service_targets: Mapping[str, str],
    nats_url: str,
    signing_key: bytes,
    **settings_given: Any,
) -> AsyncIterator[str]:
    """Serves the gateway as `python -m gateway` does; yields its base URL. `settings_given`
    are further `GatewaySettings` fields (limits, token policy, revocation file)."""
    settings = GatewaySettings(
        host="127.0.0.1",
        port=free_port(),
        service_targets=dict(service_targets),
        nats_url=nats_url,
        signing_key=signing_key,
        **settings_given,
        credentials=credentials(GATEWAY),
    )
    server = uvicorn.Server(server_config(settings, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "the gateway did not start"
            await asyncio.sleep(0.02)
        yield f"http://{settings.host}:{settings.port}"
    finally:
        server.should_exit = True
        await serving
