"""CPU seconds each process of the system used, read from /proc (Linux) before and after a phase."""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User plus system CPU seconds of each process so far, all its threads counted."""
    used = {}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # Fields 14 and 15 of proc(5), counted from the state field as the 3rd.
        used[name] = (int(fields[11]) + int(fields[12])) / _TICKS
    return used


def used_since(before: dict[str, float], pids: dict[str, int]) -> dict[str, float]:
    after = cpu_seconds(pids)
    return {name: round(after[name] - before[name], 2) for name in after if name in before}
