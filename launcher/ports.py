"""Free TCP ports on the loopback interface."""

from __future__ import annotations

import socket

# The kernel may offer a port it just released again; two children handed the same port would
# collide at start-up, so this process never hands one out twice.
_handed_out: set[int] = set()
MAX_TRIES = 100


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, and that this process has not handed out before."""
    for _ in range(MAX_TRIES):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no fresh free port on {host} after {MAX_TRIES} tries")


def accepts_connections(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
