"""`python -m gateway`: serves the GraphQL gateway, configured by environment, until SIGTERM."""

from __future__ import annotations

import logging
import sys

import uvicorn

from gateway.server import server_config
from gateway.settings import GatewaySettings


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s gateway %(levelname)s %(message)s")
    try:
        settings = GatewaySettings.from_env()
    except (ValueError, OSError) as error:  # a weak key, a bad number, an unreadable file
        print(f"gateway: {error}", file=sys.stderr)
        return 2
    uvicorn.Server(server_config(settings, log_config=None)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
