"""One `oms up` for a gauntlet module, as a user runs it: free ports, SQLite files and the
embedded NATS in a temporary data dir, a small network stocked through the gateway, and a bearer
token for each role minted by `oms token` (none for the anonymous caller)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from gateway.auth import load_or_create_signing_key
from launcher.ports import free_port
from services.kernel.db import Database
from services.kernel.settings import normalize_database_url
from tests.e2e.test_launcher import REPO_ROOT, RunningOms, oms, user_env
from tests.support.graphql import GraphQLClient
from tests.support.stock import seed

HUB = "HUB-BER"
CHANNEL = "web"
SHOP = "gauntlet-shop"
SKUS = ("TEE", "MUG")
PLACES = {
    "DC-LIS": ("DISTRIBUTION_CENTER", 38.72, -9.14),
    HUB: ("RETURN_HUB", 52.50, 13.45),
}
# What `oms token` is asked for each role; the anonymous caller sends no token.
ROLES: dict[str, tuple[str, ...] | None] = {
    "anonymous": None,
    "storefront": ("--role", "storefront", "--subject", SHOP, "--channel", CHANNEL),
    "scanner": ("--role", "scanner", "--location", HUB),
    "backoffice": ("--role", "backoffice"),
    "admin": ("--role", "admin"),
}
TOKEN_TIMEOUT_SECONDS = 60.0


@dataclass
class System:
    running: RunningOms
    data_dir: Path
    # A role's token, None for the anonymous caller.
    tokens: dict[str, str | None]
    # The admin's client, for what a test sets up and reads back.
    graphql: GraphQLClient

    @property
    def url(self) -> str:
        return f"{self.running.base_url}/graphql"

    def headers(self, role: str) -> dict[str, str]:
        token = self.tokens[role]
        return {"Authorization": f"Bearer {token}"} if token else {}

    def database(self, service: str) -> Database:
        return Database(normalize_database_url(f"sqlite:///{self.data_dir / service}.sqlite"))


def mint(data_dir: Path, arguments: tuple[str, ...]) -> str:
    """A token from `oms token` (alone on its last line)."""
    done = subprocess.run(
        oms("token", "--data-dir", str(data_dir), *arguments),
        cwd=REPO_ROOT,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=TOKEN_TIMEOUT_SECONDS,
        check=True,
    )
    return done.stdout.splitlines()[-1]


@asynccontextmanager
async def started(data_dir: Path, env: Mapping[str, str] | None = None) -> AsyncIterator[System]:
    """`oms up` in `data_dir`, with `env` on top of the user's environment, stocked and ready."""
    running = RunningOms(data_dir, free_port(), env)
    try:
        await asyncio.to_thread(running.wait_ready)
        tokens = {
            role: None if arguments is None else await asyncio.to_thread(mint, data_dir, arguments)
            for role, arguments in ROLES.items()
        }
        key = load_or_create_signing_key(data_dir)
        async with GraphQLClient(running.base_url, key, timeout=30) as graphql:
            stock = {(sku, at): 50 for sku in SKUS for at in PLACES}
            await seed(graphql, PLACES, SKUS, stock)
            yield System(running, data_dir, tokens, graphql)
    finally:
        running.kill_all()
