"""A location's backlog against the work it declared it can do in a day: the one reading of
"full" that orders' and returns' routing, their events and the schema share.

A location is full when its backlog is at least its daily capacity: what waits already takes
a whole day, so one more unit of work would wait past the day. A capacity left out is no limit
(never full); a capacity of 0 is always full.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

HOURS_PER_DAY = 24


class Crossing(StrEnum):
    """How a change of backlog moved a location against its capacity."""

    REACHED = "REACHED"  # from under its capacity to full
    BACK_UNDER = "BACK_UNDER"  # from full to under its capacity again


def is_full(backlog: int, capacity: int | None) -> bool:
    return capacity is not None and backlog >= capacity


def load_ratio(backlog: int, capacity: int | None) -> float | None:
    """Backlog ÷ daily capacity (1.0 = a day's work waiting), to a hundredth; None without a
    declared capacity or with a capacity of 0 (no finite ratio)."""
    if not capacity:
        return None
    return round(backlog / capacity, 2)


def crossing(before: int, after: int, capacity: int | None) -> Crossing | None:
    """The crossing a backlog change from `before` to `after` makes, if any.

    Invariant: REACHED only when `before` is under and `after` full, BACK_UNDER only the other
    way; a change that stays on one side (or no capacity) crosses nothing."""
    if capacity is None or is_full(before, capacity) == is_full(after, capacity):
        return None
    return Crossing.REACHED if is_full(after, capacity) else Crossing.BACK_UNDER


def expected_wait_hours(ahead: int, capacity: int | None) -> float | None:
    """Hours until a new unit of work is done when `ahead` units wait before it and the location
    clears `capacity` a day: (ahead + 1) ÷ capacity days, to a tenth of an hour. None when the
    location declared no capacity or declared 0 (it never gets round to it)."""
    if not capacity:
        return None
    return round((ahead + 1) * HOURS_PER_DAY / capacity, 1)


def crossings(
    before: Mapping[str, int], change: Mapping[str, int], capacities: Mapping[str, int]
) -> list[tuple[str, Crossing, int, int]]:
    """(location, crossing, backlog after, capacity) for each location of `change` (its
    backlog's change) that declared a capacity and crosses it; `before` is each one's backlog
    before the change (0 when left out). By location code."""
    found = []
    for code in sorted(change):
        if code not in capacities:
            continue
        was = before.get(code, 0)
        crossed = crossing(was, was + change[code], capacities[code])
        if crossed is not None:
            found.append((code, crossed, was + change[code], capacities[code]))
    return found
