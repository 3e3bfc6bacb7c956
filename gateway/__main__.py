"""`python -m gateway`: serves the GraphQL gateway, configured by environment, until SIGTERM."""

from __future__ import annotations

import logging
import math

import uvicorn

from gateway.app import create_app
from gateway.settings import GatewaySettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s gateway %(levelname)s %(message)s")
    settings = GatewaySettings.from_env()
    # uvicorn stops accepting on SIGTERM/SIGINT, lets requests in flight finish within the grace
    # period, then runs the lifespan shutdown that closes the channels and drains NATS.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
        log_config=None,
    )


if __name__ == "__main__":
    main()
