"""When to try a platform again after failures: doubling waits, capped, so a platform that is
down is asked rarely and one that came back is asked again soon."""

from __future__ import annotations

from datetime import timedelta

FIRST_WAIT = timedelta(milliseconds=250)
LONGEST_WAIT = timedelta(seconds=60)


def wait_after(failures: int) -> timedelta:
    """The wait after `failures` failures in a row (none after none)."""
    if failures < 1:
        return timedelta(0)
    doubled: timedelta = FIRST_WAIT * 2 ** min(failures - 1, 20)
    return min(doubled, LONGEST_WAIT)
