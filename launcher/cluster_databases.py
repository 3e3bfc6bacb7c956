"""The PostgreSQL databases of a cluster run: one per service, shared by its replicas (SQLite
files cannot be shared by processes that each keep a connection pool).

A service's `OMS_<SERVICE>_DATABASE_URL` wins; otherwise it gets `oms_cluster_<service>` on
the server `OMS_CLUSTER_POSTGRES_URL` names (the local one by default), created when missing.
"""

from __future__ import annotations

from collections.abc import Mapping

import psycopg
from psycopg import sql

from services.kernel.settings import SERVICE_NAMES

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CONNECT_TIMEOUT_SECONDS = 5


def admin_url(env: Mapping[str, str]) -> str:
    """A database on the server that the cluster's databases are created from."""
    return env.get("OMS_CLUSTER_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def database_name(service: str) -> str:
    return f"oms_cluster_{service}"


def chosen_by_user(env: Mapping[str, str], service: str) -> str | None:
    return env.get(f"OMS_{service.upper()}_DATABASE_URL") or None


def database_urls(env: Mapping[str, str]) -> dict[str, str]:
    """Each service's database: the user's, else its own on the admin URL's server."""
    base = admin_url(env).rpartition("/")[0]
    return {
        name: chosen_by_user(env, name) or f"{base}/{database_name(name)}" for name in SERVICE_NAMES
    }


def create_missing(env: Mapping[str, str]) -> list[str]:
    """Creates the databases the launcher chose that do not exist yet; returns their names."""
    wanted = [database_name(n) for n in SERVICE_NAMES if not chosen_by_user(env, n)]
    if not wanted:
        return []
    with psycopg.connect(
        admin_url(env), autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
    ) as connection:
        existing = {
            row[0]
            for row in connection.execute(
                "SELECT datname FROM pg_database WHERE datname = ANY(%s)", (wanted,)
            )
        }
        missing = [name for name in wanted if name not in existing]
        for name in missing:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return missing
