"""Revoked tokens: the ids an operator revoked (`oms token --revoke`), one `<id> <revoked at>` line
each in a file the gateway re-reads whenever it changes.

An entry is kept for the longest lifetime a token may have, and no longer: every token carrying
the id was issued before it was revoked, so by then it has expired anyway. That bounds the file.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.auth import TOKEN_ID

log = logging.getLogger(__name__)

# Far above what a year of revocations within a day's token lifetime writes (~60 bytes a line).
MAX_FILE_BYTES = 4 * 1024 * 1024


def revocation_file(data_dir: Path, env: Mapping[str, str] = os.environ) -> Path:
    """`OMS_TOKEN_REVOCATION_FILE`, else `secrets/revoked-tokens` in the data dir."""
    configured = env.get("OMS_TOKEN_REVOCATION_FILE")
    return Path(configured).resolve() if configured else data_dir / "secrets" / "revoked-tokens"


def parse(text: str, now: datetime, keep_for: timedelta) -> dict[str, datetime]:
    """The ids revoked within `keep_for` before `now`, with when; malformed lines are skipped."""
    entries: dict[str, datetime] = {}
    for line in text.splitlines():
        token_id, _, when = line.strip().partition(" ")
        if not TOKEN_ID.fullmatch(token_id):
            continue
        try:
            revoked_at = datetime.fromisoformat(when.strip())
        except ValueError:
            revoked_at = now  # kept: a revocation must never be lost to a typo in its date
        if revoked_at.tzinfo is None:
            revoked_at = revoked_at.replace(tzinfo=UTC)
        if now - revoked_at <= keep_for:
            entries[token_id] = revoked_at
    return entries


def revoke(path: Path, token_id: str, keep_for: timedelta, now: datetime | None = None) -> None:
    """Adds `token_id` to the list at `path`, dropping the entries older than `keep_for`.

    The file is replaced whole (a reader sees the old list or the new one, never half of one),
    under a lock so that two operators revoking at once both get their entry in.
    """
    if not TOKEN_ID.fullmatch(token_id):
        raise ValueError(f"not a token id: {token_id!r}")
    now = now or datetime.now(UTC)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        existing = path.read_text() if path.exists() else ""
        entries = parse(existing, now, keep_for)
        entries.setdefault(token_id, now)
        staging = path.with_name(path.name + ".new")
        staging.write_text(
            "".join(f"{tid} {at.isoformat()}\n" for tid, at in sorted(entries.items()))
        )
        os.replace(staging, path)


class RevocationList:
    """The revoked ids in a file, re-read when the file changes (one `stat` per look-up)."""

    def __init__(self, path: Path, keep_for: timedelta) -> None:
        self.path = path
        self.keep_for = keep_for
        self._ids: frozenset[str] = frozenset()
        self._seen: tuple[int, int, int] | None = None
        # At start-up an unreadable list is a fault to fix, not a list to ignore.
        self._refresh(strict=True)

    def __contains__(self, token_id: object) -> bool:
        self._refresh(strict=False)
        return token_id in self._ids

    def _refresh(self, strict: bool) -> None:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            self._ids, self._seen = frozenset(), None
            return
        version = (status.st_ino, status.st_mtime_ns, status.st_size)
        if version == self._seen:
            return
        try:
            if status.st_size > MAX_FILE_BYTES:
                raise OSError(f"{self.path} is larger than {MAX_FILE_BYTES} bytes")
            text = self.path.read_text()
        except (OSError, UnicodeDecodeError) as error:
            if strict:
                raise
            # Keeps the ids it knew: a list being rewritten by hand must not revoke nothing.
            log.error("cannot read the token revocation list: %s", error)
            return
        self._ids = frozenset(parse(text, datetime.now(UTC), self.keep_for))
        self._seen = version
