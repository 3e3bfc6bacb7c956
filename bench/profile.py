"""Optional: py-spy samples of the system's processes during a phase, summarised per process.

py-spy is a developer tool, not a dependency: `.venv/bin/pip install py-spy` to use `--profile`.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.system import REPO_ROOT

RATE = 100
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


@dataclass
class ProcessProfile:
    """Where one process spent its Python time, as shares of its GIL-holding samples."""

    name: str
    samples: int = 0
    seconds: float = 0.0
    self_by_area: Counter[str] = field(default_factory=Counter)
    self_by_function: Counter[str] = field(default_factory=Counter)
    within_product: Counter[str] = field(default_factory=Counter)

    @property
    def busy(self) -> float:
        """Cores' worth of Python running on average (at most 1.0: one thread holds the GIL)."""
        return self.samples / (RATE * self.seconds) if self.seconds else 0.0

    def lines(self, top: int = 8) -> list[str]:
        def share(counter: Counter[str]) -> str:
            return ", ".join(
                f"{k} {100 * v / self.samples:.0f}%" for k, v in counter.most_common(top)
            )

        if not self.samples:
            return [f"{self.name}: no samples"]
        return [
            f"{self.name}: {self.samples} samples over {self.seconds:.0f}s, "
            f"Python busy {self.busy:.2f} of a core",
            f"  self time by area: {share(self.self_by_area)}",
            f"  self time by function: {share(self.self_by_function)}",
            f"  inclusive, product code: {share(self.within_product)}",
        ]


def _area(path: str) -> str:
    """`site-packages/strawberry/x.py` -> strawberry; `services/orders/x.py` -> services/orders."""
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    relative = path.removeprefix(str(REPO_ROOT) + "/")
    if relative != path or not path.startswith("/"):
        return "/".join(relative.split("/")[:2]).removesuffix(".py")
    match = re.search(r"python3\.\d+/(.+)", path)
    return "stdlib " + match[1].split("/", 1)[0].removesuffix(".py") if match else path


def summarise(name: str, raw: Path, seconds: float) -> ProcessProfile:
    """Reads py-spy's `raw` (collapsed stacks) output: `frame;frame;... count` per line."""
    profile = ProcessProfile(name, seconds=seconds)
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [m for m in (_FRAME.match(f) for f in stack.split(";")) if m is not None]
        if not frames:
            continue
        profile.samples += count
        leaf = frames[-1]
        profile.self_by_area[_area(leaf["file"])] += count
        profile.self_by_function[f"{leaf['function']} ({Path(leaf['file']).name})"] += count
        product = {
            f"{m['function']} ({_area(m['file'])})"
            for m in frames
            if _area(m["file"]).split("/")[0] in ("services", "gateway")
        }
        for frame in product:
            profile.within_product[frame] += count
    return profile


class Profiler:
    """`py-spy record` on each named pid from `start()` until `stop()`."""

    def __init__(self, out_dir: Path, pids: dict[str, int]) -> None:
        self.out_dir = out_dir
        self.pids = pids
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.started = 0.0

    def start(self) -> None:
        executable = py_spy()
        if executable is None:
            print("bench: py-spy not found; not profiling", file=sys.stderr)
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            # --gil: only the thread holding the GIL, i.e. where Python spends CPU; waits for
            # locks, sockets and SQLite's busy handler do not show (the CPU table covers those).
            argv = [executable, "record", "--pid", str(pid), "--rate", str(RATE), "--gil"]
            argv += ["--format", "raw", "--output", str(self.out_dir / f"{name}.txt")]
            with (self.out_dir / f"{name}.py-spy.log").open("wb") as log:
                self.processes[name] = subprocess.Popen(argv, stdout=log, stderr=log)
        self.started = time.perf_counter()

    def stop(self) -> list[ProcessProfile]:
        seconds = time.perf_counter() - self.started
        for process in self.processes.values():
            process.send_signal(signal.SIGINT)
        profiles = []
        for name, process in self.processes.items():
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            raw = self.out_dir / f"{name}.txt"
            if raw.exists():
                profiles.append(summarise(name, raw, seconds))
        return profiles
