"""Free ports handed to the launcher's children never repeat within a process."""

from __future__ import annotations

from launcher.ports import free_port


def test_free_ports_are_never_handed_out_twice() -> None:
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
