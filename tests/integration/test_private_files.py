"""Files holding customer data, keys or passwords are readable by their owner only."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from launcher.embedded_nats import EmbeddedNats
from launcher.nats_access import NatsUser, load_or_create_users
from launcher.pki import CA_KEY_FILE, issue_all
from launcher.up import make_private
from services.kernel.db import Database
from services.kernel.tls import KEY_FILE


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_sqlite_file_and_its_journal_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "orders.sqlite"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.transaction() as session:
            await (await session.connection()).execute(text("CREATE TABLE t (x INTEGER)"))
        files = {p.name: mode(p) for p in path.parent.iterdir()}
    finally:
        await db.dispose()

    assert files == {
        name: 0o600 for name in ("orders.sqlite", "orders.sqlite-wal", "orders.sqlite-shm")
    }
    assert mode(path.parent) == 0o700


def world_readable(path: Path) -> Path:
    """A database file and its journal as an older version left them, in an open folder."""
    for existing in (path, Path(f"{path}-wal")):
        existing.touch()
        existing.chmod(0o644)
    path.parent.chmod(0o755)
    return path


async def test_an_existing_world_readable_sqlite_file_is_made_private(tmp_path: Path) -> None:
    path = world_readable(tmp_path / "orders.sqlite")

    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        assert mode(path) == 0o600
        assert mode(Path(f"{path}-wal")) == 0o600
        assert mode(tmp_path) == 0o755, "a folder that exists is not the database's to change"
    finally:
        await db.dispose()


def test_oms_up_makes_its_data_dir_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)

    make_private(data_dir)

    assert mode(data_dir) == 0o700


def test_keys_and_passwords_are_private(tmp_path: Path) -> None:
    issue_all(tmp_path / "tls")
    users = load_or_create_users(tmp_path)
    broker = EmbeddedNats(tmp_path / "nats", users=[NatsUser("inventory", "pw")])
    broker.store_dir.mkdir()
    broker.write_config()

    assert mode(tmp_path / "tls" / CA_KEY_FILE) == 0o600
    assert mode(tmp_path / "tls" / "inventory" / KEY_FILE) == 0o600
    assert mode(tmp_path / "secrets" / "nats-passwords.json") == 0o600
    assert mode(broker.config_file) == 0o600
    # The same passwords on the next start: processes started alone still log in.
    assert load_or_create_users(tmp_path) == users
