"""One running system per gauntlet module (`tests/gauntlet/system.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.gauntlet.system import System, started


@pytest.fixture(scope="module")
async def system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    async with started(tmp_path_factory.mktemp("gauntlet") / "data") as running:
        yield running
