"""Free TCP ports on the loopback interface, outside the kernel's ephemeral range.

A child keeps its port for the whole run: a restarted service must come back where its clients
dial it. A port the kernel hands out for outgoing connections (its ephemeral range) may be taken
by any client's socket while the child is down, and the restart would then fail; so ports are
chosen below or above that range, never from it.
"""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
# Linux's default, for a system that does not say.
DEFAULT_EPHEMERAL_RANGE = (32768, 60999)
# Below this, well-known and registered services (PostgreSQL, the gateway's 8000) live.
LOWEST_PORT = 10000
HIGHEST_PORT = 65535
MAX_TRIES = 100

# `low-high`: the only ports to hand out, for several launchers side by side on one host (test
# workers each get their own block, so two never pick the same port in the same moment).
PORT_RANGE_VARIABLE = "OMS_PORT_RANGE"

# Two children handed the same port would collide at start-up, so this process never hands
# one out twice.
_handed_out: set[int] = set()


def reserve_port(port: int) -> None:
    """Keeps `port` from ever being handed out by `free_port` in this process: a port promised
    to a part that is not listening yet (the gateway's `--port`) looks free until it starts."""
    _handed_out.add(port)


def ephemeral_range(source: Path = EPHEMERAL_RANGE_FILE) -> tuple[int, int]:
    """The first and last port the kernel picks for outgoing connections."""
    try:
        low, high = (int(field) for field in source.read_text().split())
    except (OSError, ValueError):
        return DEFAULT_EPHEMERAL_RANGE
    return low, high


def ports_outside(ephemeral: tuple[int, int]) -> list[range]:
    """The ranges of ports from LOWEST_PORT up that the kernel never picks by itself."""
    low, high = ephemeral
    below = range(LOWEST_PORT, max(LOWEST_PORT, low))
    above = range(max(LOWEST_PORT, high + 1), HIGHEST_PORT + 1)
    return [part for part in (below, above) if len(part)]


def _nothing_listens(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def configured_block(value: str) -> range:
    """The block `OMS_PORT_RANGE` names (`low-high`, both included)."""
    try:
        low, high = (int(part) for part in value.split("-"))
    except ValueError:
        raise ValueError(f"{PORT_RANGE_VARIABLE} must be low-high, got {value!r}") from None
    if not 1024 <= low <= high <= HIGHEST_PORT:
        raise ValueError(f"{PORT_RANGE_VARIABLE} must lie within 1024-{HIGHEST_PORT}")
    return range(low, high + 1)


def within(block: range, parts: list[range]) -> list[range]:
    """The parts of `parts` that lie in `block`."""
    kept = [range(max(p.start, block.start), min(p.stop, block.stop)) for p in parts]
    return [part for part in kept if len(part)]


def free_port(host: str = "127.0.0.1") -> int:
    """A port outside the ephemeral range (and inside `OMS_PORT_RANGE` when set) that nothing
    is bound to now, and that this process has not handed out before."""
    choices = ports_outside(ephemeral_range())
    configured = os.environ.get(PORT_RANGE_VARIABLE)
    if configured:
        choices = within(configured_block(configured), choices)
    if not choices:
        raise RuntimeError("the ephemeral range leaves no port free for listening")
    weights = [len(part) for part in choices]
    for _ in range(MAX_TRIES):
        (part,) = random.choices(choices, weights)
        port = random.choice(part)
        if port not in _handed_out and _nothing_listens(host, port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no fresh free port on {host} after {MAX_TRIES} tries")


def accepts_connections(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
