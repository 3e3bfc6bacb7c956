"""Keyset paging: the opaque cursor a page's edge carries and the position it names.

A cursor is the position of the last item shown (its sort key, as text) under a kind that
names the list, base64url-encoded; a cursor of another list, or anything else, is refused
(INVALID_INPUT on `after`) and never read as some other position.
"""

from __future__ import annotations

import base64
import binascii

from services.kernel import bounds
from services.kernel.errors import DomainError, ErrorCode

# An encoded cursor of any list is well under this; anything much longer is not one.
MAX_CURSOR = 400


def require_page_size(first: int, most: int) -> int:
    """A page holds 1..`most` items (INVALID_INPUT on `first`)."""
    return bounds.require_range(first, "first", "first", 1, most)


def encode_cursor(kind: str, position: str) -> str:
    """The cursor of the item at `position` in the list `kind`: the next page starts after it."""
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode()


def decode_cursor(kind: str, cursor: str) -> str:
    """The position an `encode_cursor(kind, ...)` cursor names; anything else is refused."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        found, colon, position = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if found != kind or not colon or not position:
            raise ValueError(found)
        return position
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "not a cursor from this list", "after"
        ) from error
