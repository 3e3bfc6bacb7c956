"""Fixtures shared by every suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.embedded_nats import EmbeddedNats
from launcher.ports import PORT_RANGE_VARIABLE, ephemeral_range, ports_outside
from tests.support.databases import database_url


def pytest_configure(config: pytest.Config) -> None:
    """Each test worker hands out ports from a block of its own (its `oms up` children inherit
    it): workers picking at random from one shared range collided a few times a run."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not worker.startswith("gw") or PORT_RANGE_VARIABLE in os.environ:
        return
    [largest, *_] = sorted(ports_outside(ephemeral_range()), key=len, reverse=True)
    size = len(largest) // workers
    start = largest.start + int(worker[2:]) * size
    os.environ[PORT_RANGE_VARIABLE] = f"{start}-{start + size - 1}"


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A real nats-server with JetStream on a free port, its store in the test's folder."""
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend in turn: a SQLite file, then a PostgreSQL database."""
    with database_url(backend, tmp_path) as url:
        yield url
