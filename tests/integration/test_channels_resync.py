"""The start-up resync over the channels service's real SQLite store: without a pushed channel it
asks inventory nothing (listing a big catalogue outlasted the call's deadline, over and over)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from services.channels.availability_push import AvailabilityPush
from services.channels.store import TABLES, SqlChannelsStore
from services.kernel.db import Database
from services.kernel.unit_of_work import SqlUnitOfWork
from tests.support.databases import create_test_tables


async def test_without_a_pushed_channel_the_resync_asks_inventory_nothing(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'channels.sqlite'}")
    await create_test_tables(db, list(TABLES))
    # No inventory behind it: a resync that listed the catalogue would crash.
    push = AvailabilityPush(SqlUnitOfWork(db, SqlChannelsStore), cast(Any, None), cast(Any, None))
    try:
        assert await push.resync() == 0
    finally:
        await db.dispose()
