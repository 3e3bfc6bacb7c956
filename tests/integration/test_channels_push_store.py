"""The channels service's record of availability owed to each channel, on each backend (its
upsert is the dialect's own)."""

from __future__ import annotations

from services.channels import push_store
from services.channels.bootstrap import SERVICE
from services.kernel.db import Database
from services.kernel.migrate import migrate, streams
from services.kernel.settings import normalize_database_url


async def test_a_sku_owed_again_is_owed_once_at_a_newer_version(db_url: str) -> None:
    db = Database(normalize_database_url(db_url))
    await migrate(db, streams(SERVICE.name, SERVICE.tables))
    try:
        async with db.transaction() as session:
            await push_store.mark_pending(session, "web", ["TEE", "CAP", "TEE"])
            await push_store.mark_pending(session, "shop", ["TEE"])
            await push_store.mark_pending(session, "web", [])
        async with db.transaction() as session:
            assert await push_store.pending(session, "web") == {"TEE": 1, "CAP": 1}
            await push_store.mark_pending(session, "web", ["TEE"])
        async with db.transaction() as session:
            owed = await push_store.pending(session, "web")
            assert owed == {"CAP": 1, "TEE": 2}
            # A push that went out at version 1 clears CAP but not TEE, changed since.
            await push_store.clear_pushed(session, "web", {"CAP": 1, "TEE": 1})
        async with db.snapshot() as session:
            assert await push_store.pending(session, "web") == {"TEE": 2}
            assert await push_store.pending(session, "shop") == {"TEE": 1}
    finally:
        await db.dispose()
