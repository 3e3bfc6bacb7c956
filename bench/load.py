"""Runs a bounded number of requests with a fixed number of concurrent workers."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable

from bench.report import PhaseResult
from tests.support.graphql import Answer

Request = Callable[[int], Awaitable[Answer]]


async def run_load(name: str, request: Request, count: int, concurrency: int) -> PhaseResult:
    """Calls `request(i)` for i in 0..count-1 from `concurrency` workers; wall time is the span."""
    result = PhaseResult(name)
    numbers = itertools.count()
    samples: list[str] = []

    async def worker() -> None:
        while (index := next(numbers)) < count:
            answer = await request(index)
            result.count += 1
            result.latencies.append(answer.seconds)
            result.user_errors += len(answer.user_errors)
            result.errors += len(answer.errors)
            if not answer.ok and len(samples) < 3:
                samples.append(str((answer.errors or answer.user_errors)[0].get("message")))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    if samples:
        result.note = "e.g. " + "; ".join(dict.fromkeys(samples))
    return result
