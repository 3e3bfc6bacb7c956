"""The launcher's supervisor over real child processes and a clock the test moves: a child that
keeps crashing is started again after a delay that doubles up to a ceiling and starts over once
a run was long enough, one that cannot be started is tried again later, a restarted child is
reported ready again, and the other children are never touched."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher.plan import ChildSpec, HttpOk
from launcher.ports import free_port
from launcher.supervisor import (
    Child,
    Exited,
    ReadyAgain,
    Restarted,
    RestartFailed,
    RestartPolicy,
    SupervisionEvent,
    Supervisor,
)

WAIT_SECONDS = 30.0
# Nothing listens on port 1: a readiness check that fails at once.
NEVER_READY = HttpOk("http://127.0.0.1:1/")


class Clock:
    """Monotonic seconds that move only when the test says."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def spec(name: str, *argv: str, readiness: HttpOk = NEVER_READY) -> ChildSpec:
    return ChildSpec(name, tuple(argv), dict(os.environ), "-", readiness)


def crashing(path: Path) -> str:
    """An executable that exits with code 3 as soon as it starts."""
    path.write_text(f"#!{sys.executable}\nraise SystemExit(3)\n")
    path.chmod(0o755)
    return str(path)


def dead(child: Child) -> None:
    child.process.wait(WAIT_SECONDS)


def after_it_dies(supervisor: Supervisor, child: Child) -> list[SupervisionEvent]:
    dead(child)
    return supervisor.tend()


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[tuple[Supervisor, Clock]]:
    clock = Clock()
    policy = RestartPolicy(first_delay_seconds=1, max_delay_seconds=4, stable_after_seconds=60)
    supervisor = Supervisor(policy, clock)
    yield supervisor, clock
    supervisor.stop(list(supervisor.children), patience=5)


def test_a_child_that_keeps_crashing_waits_longer_each_time_and_the_others_run_on(
    supervisor: tuple[Supervisor, Clock], tmp_path: Path
) -> None:
    sup, clock = supervisor
    steady = sup.start(
        spec("steady", sys.executable, "-c", "import time; time.sleep(120)"),
        tmp_path / "steady.log",
    )
    crashy = sup.start(spec("crashy", crashing(tmp_path / "crashy")), tmp_path / "crashy.log")
    pids = [crashy.pid]

    for delay in (1, 2, 4, 4):  # doubled each crash in a row, at most the ceiling
        [exited] = after_it_dies(sup, crashy)
        assert isinstance(exited, Exited) and exited.child is crashy
        assert (exited.pid, exited.exit_code, exited.delay_seconds) == (pids[-1], 3, delay)
        clock.advance(delay - 0.01)
        assert sup.tend() == [], "restarted before its delay was over"
        clock.advance(0.01)
        [restarted] = sup.tend()
        assert isinstance(restarted, Restarted) and crashy.pid not in pids
        pids.append(crashy.pid)

    # A run longer than `stable_after_seconds` was no crash loop: the delay starts over.
    clock.advance(60)
    [exited] = after_it_dies(sup, crashy)
    assert isinstance(exited, Exited) and exited.delay_seconds == 1
    assert crashy.restarts == 4 and crashy.crashes_in_a_row == 1

    assert steady.exit_code is None and steady.restarts == 0
    log = (tmp_path / "crashy.log").read_text()
    assert log.count("oms up starts crashy") == 1 and log.count("oms up restarts crashy") == 4


def test_a_child_that_cannot_be_started_is_tried_again_later(
    supervisor: tuple[Supervisor, Clock], tmp_path: Path
) -> None:
    sup, clock = supervisor
    program = tmp_path / "crashy"
    crashy = sup.start(spec("crashy", crashing(program)), tmp_path / "crashy.log")
    [exited] = after_it_dies(sup, crashy)
    assert isinstance(exited, Exited) and exited.delay_seconds == 1
    program.unlink()  # gone: starting it fails

    clock.advance(1)
    [failed] = sup.tend()
    assert isinstance(failed, RestartFailed) and failed.delay_seconds == 2
    assert "No such file" in failed.reason
    clock.advance(1.99)
    assert sup.tend() == []
    crashing(program)  # back
    clock.advance(0.01)
    [restarted] = sup.tend()
    assert isinstance(restarted, Restarted)
    [exited] = after_it_dies(sup, crashy)
    assert isinstance(exited, Exited) and exited.delay_seconds == 4


def test_a_restarted_child_is_reported_ready_again(
    supervisor: tuple[Supervisor, Clock], tmp_path: Path
) -> None:
    sup, clock = supervisor
    port = free_port()
    web = spec(
        "web",
        sys.executable,
        "-m",
        "http.server",
        str(port),
        "--bind",
        "127.0.0.1",
        readiness=HttpOk(f"http://127.0.0.1:{port}/"),
    )
    child = sup.start(web, tmp_path / "web.log")
    first = child.pid
    os.kill(first, signal.SIGKILL)
    [exited] = after_it_dies(sup, child)
    assert isinstance(exited, Exited) and exited.exit_code == -signal.SIGKILL

    clock.advance(1)
    [restarted] = sup.tend()
    assert isinstance(restarted, Restarted) and child.pid != first
    deadline = time.monotonic() + WAIT_SECONDS
    events: list[SupervisionEvent] = []
    while not events:
        assert time.monotonic() < deadline, "never ready again"
        assert child.exit_code is None, (tmp_path / "web.log").read_text()
        events = sup.tend()
        time.sleep(0.05)
    assert events == [ReadyAgain(child)]
    assert sup.tend() == [], "ready is reported once"


@pytest.mark.parametrize(
    ("env", "delays"),
    [
        ({}, (1.0, 30.0, 60.0)),
        (
            {"OMS_RESTART_DELAY_SECONDS": "0.25", "OMS_RESTART_MAX_DELAY_SECONDS": "120"},
            (0.25, 120.0, 120.0),
        ),
    ],
)
def test_the_restart_delays_come_from_the_environment(
    env: dict[str, str], delays: tuple[float, float, float]
) -> None:
    policy = RestartPolicy.from_env(env)
    assert (
        policy.first_delay_seconds,
        policy.max_delay_seconds,
        policy.stable_after_seconds,
    ) == delays


@pytest.mark.parametrize(
    "env",
    [
        {"OMS_RESTART_DELAY_SECONDS": "0"},
        {"OMS_RESTART_DELAY_SECONDS": "-1"},
        {"OMS_RESTART_DELAY_SECONDS": "10", "OMS_RESTART_MAX_DELAY_SECONDS": "5"},
    ],
)
def test_restart_delays_that_make_no_sense_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="OMS_RESTART_DELAY_SECONDS must be more than 0"):
        RestartPolicy.from_env(env)


def test_a_restart_delay_that_is_no_number_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="OMS_RESTART_MAX_DELAY_SECONDS must be a number"):
        RestartPolicy.from_env({"OMS_RESTART_MAX_DELAY_SECONDS": "soon"})
