"""`python -m gateway`: serves the GraphQL gateway, configured by environment, until SIGTERM."""

from __future__ import annotations

import sys

import uvicorn

from gateway.server import server_config
from gateway.settings import GatewaySettings
from services.kernel import logs, metrics, tracing


def main() -> int:
    logs.configure("gateway")
    tracing.configure("gateway")
    try:
        settings = GatewaySettings.from_env()
    except (ValueError, OSError) as error:  # a weak key, a bad number, an unreadable file
        print(f"gateway: {error}", file=sys.stderr)
        return 2
    endpoint = metrics.start_endpoint(settings.metrics_listen)
    try:
        uvicorn.Server(server_config(settings, log_config=None)).run()
    finally:
        if endpoint is not None:
            endpoint.stop()
        tracing.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
