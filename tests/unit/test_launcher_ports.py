"""Free ports handed to the launcher's children never repeat within a process, and never come
from the range the kernel picks outgoing connections' ports from."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.ports import (
    DEFAULT_EPHEMERAL_RANGE,
    HIGHEST_PORT,
    LOWEST_PORT,
    PORT_RANGE_VARIABLE,
    ephemeral_range,
    free_port,
    ports_outside,
    reserve_port,
)


def test_free_ports_are_never_handed_out_twice() -> None:
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)


def test_free_ports_are_outside_the_kernels_ephemeral_range() -> None:
    low, high = ephemeral_range()
    ports = [free_port() for _ in range(300)]
    inside = [port for port in ports if low <= port <= high]
    assert inside == [], f"handed out from the ephemeral range {low}-{high}"
    assert all(LOWEST_PORT <= port <= HIGHEST_PORT for port in ports)


def test_the_ranges_left_free_skip_the_ephemeral_one_wherever_it_lies() -> None:
    assert ports_outside((32768, 60999)) == [range(10000, 32768), range(61000, 65536)]
    assert ports_outside((1024, 65535)) == []
    assert ports_outside((40000, 65535)) == [range(10000, 40000)]
    assert ports_outside((1024, 20000)) == [range(20001, 65536)]


def test_the_ephemeral_range_is_read_from_the_kernel_or_defaults(tmp_path: Path) -> None:
    given = tmp_path / "ip_local_port_range"
    given.write_text("20000\t29999\n")
    assert ephemeral_range(given) == (20000, 29999)
    assert ephemeral_range(tmp_path / "missing") == DEFAULT_EPHEMERAL_RANGE


def test_a_configured_block_bounds_the_ports_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PORT_RANGE_VARIABLE, "12000-12049")
    ports = [free_port() for _ in range(30)]
    assert all(12000 <= port <= 12049 for port in ports), ports


def test_a_malformed_block_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PORT_RANGE_VARIABLE, "12000")
    with pytest.raises(ValueError, match=PORT_RANGE_VARIABLE):
        free_port()


def test_a_reserved_port_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gateway's `--port` looks free until the gateway listens: the other parts, handed
    ports meanwhile from the same block, must not get it (seen: orders given the gateway's)."""
    monkeypatch.setenv(PORT_RANGE_VARIABLE, "12100-12101")
    reserve_port(12101)
    assert free_port() == 12100
    with pytest.raises(RuntimeError, match="no fresh free port"):
        free_port()
