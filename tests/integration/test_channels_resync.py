"""The resyncs over the channels service's real SQLite store: without a pushed channel the
start-up resync asks inventory nothing (listing a big catalogue outlasted the call's deadline,
over and over); owed rules resyncs ask for the catalogue once, and one owed to a channel no
longer pushed is cleared instead of failing every round."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from services.channels import push_store
from services.channels.availability_push import AvailabilityPush
from services.channels.domain.model import NewChannel, Platform
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


class Catalogue:
    """Inventory's catalogue as the channels service asks for it (`all_skus`), counting asks."""

    def __init__(self, *skus: str) -> None:
        self.skus = list(skus)
        self.asked = 0

    async def all_skus(self) -> list[str]:
        self.asked += 1
        return self.skus


async def test_owed_rules_resyncs_ask_once_and_a_channel_no_longer_pushed_is_cleared(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'channels.sqlite'}")
    await create_test_tables(db, list(TABLES))
    catalogue = Catalogue("TEE", "CAP")
    uow = SqlUnitOfWork(db, SqlChannelsStore)
    push = AvailabilityPush(uow, cast(Any, catalogue), cast(Any, None))
    try:
        async with uow.write() as store:
            await store.connect(NewChannel("web", Platform.SHOPIFY, "shop.example"))
            await store.connect(NewChannel("b2b", Platform.WHOLESALE, "buyer"))
            # Owed before "b2b" became a wholesale channel, which is not pushed.
            for code in ("b2b", "web", "gone"):
                await push_store.owe_resync(store.session, code)
        await push.resync_owed()
        async with uow.read() as store:
            assert await push_store.resyncs_owed(store.session) == {}
            assert await push_store.pending(store.session, "web") == {"TEE": 1, "CAP": 1}
            assert await push_store.pending(store.session, "b2b") == {}
        assert catalogue.asked == 1
        await push.resync_owed()  # nothing owed: inventory is not asked again
        assert catalogue.asked == 1
    finally:
        await db.dispose()
