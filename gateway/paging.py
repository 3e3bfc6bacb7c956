"""What every paged list (a connection: edges with their cursors) says about the next page."""

from __future__ import annotations

from typing import Protocol

import strawberry


class PagedReply(Protocol):
    """The part of a list's gRPC reply that says whether and where a next page starts."""

    has_next_page: bool
    end_cursor: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")

    @classmethod
    def from_proto(cls, page: PagedReply) -> PageInfo:
        return cls(has_next_page=page.has_next_page, end_cursor=page.end_cursor or None)
