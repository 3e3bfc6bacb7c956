"""How a sales platform said no: not now (ask again later) or not ever (until someone fixes it)."""

from __future__ import annotations

# The most of a platform's refusal kept with what it refused.
MAX_REASON = 500


class PlatformUnavailable(Exception):
    """The platform did not do what was asked; try again later."""


class PlatformRefused(Exception):
    """The platform will not do what was asked, however often it is asked (it refused the
    request itself): kept aside with the reason until the back office retries it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason[:MAX_REASON])
        self.reason = reason[:MAX_REASON]


def refused_for_good(status: int) -> bool:
    """A 4xx that asking again will not change. Not a throttle (429) or a timeout (408), and not
    our credentials (401, 403): those are mended by connecting the channel again, and an access
    token can expire on its way, so they stay "unavailable" and retried."""
    return 400 <= status < 500 and status not in (401, 403, 408, 429)
