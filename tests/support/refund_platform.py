"""A returns platform for tests, built to the format the README gives its implementers: refunds
arrive as signed JSON at POST /refunds, the signature (`X-OMS-Signature: t=<unix seconds>,
v1=<hex>`) is an HMAC-SHA256 of the timestamp, a dot and the raw body, a request signed too long
ago is refused, and each idempotency key is paid once.

The platform's own idempotency hides a service that calls twice, so the fake also counts what a
test must assert on instead: every 2xx answer per refund id, and the most calls for one refund
id it was answering at once."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

SECRET = "whsec-test-1234"
# What the README advises platforms to accept: a request signed at most five minutes ago.
TOLERANCE_SECONDS = 300


class Signature(StrEnum):
    VALID = "VALID"
    # Not made with the shared secret, or not in the documented format.
    FORGED = "FORGED"
    # Made with the secret, too long ago: a replay.
    STALE = "STALE"


def verify(secret: str, header: str, body: bytes, now: float) -> Signature:
    """What a platform does with `X-OMS-Signature`, written from the README alone."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, digest = fields.get("t", ""), fields.get("v1", "")
    if not timestamp.isdigit():
        return Signature.FORGED
    signed = timestamp.encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(digest, expected):
        return Signature.FORGED
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return Signature.STALE
    return Signature.VALID


@dataclass
class Call:
    idempotency_key: str
    body: dict[str, Any]
    signature_ok: Signature
    headers: dict[str, str]
    raw_body: bytes
    status: int = 0


@dataclass
class FakePlatform:
    """The returns platform: POST /refunds, signed JSON, paid once per idempotency key; and a
    POST /moved that redirects to a GET /landing that answers 200, as a site that moved would."""

    port: int
    secret: str = SECRET
    # Answer 503 to this many calls first (a platform outage).
    fail_first: int = 0
    # Pay, then answer 503 to every nth payment, as if the answer were lost on its way back:
    # only a retry under the same idempotency key keeps the refund from being paid twice.
    lose_every_nth_answer: int = 0
    # Added to the platform's clock: how a test lets time pass for a replayed request.
    clock_offset_seconds: float = 0.0
    # How long each answer takes once decided: a slow platform, on which calls that overlap show.
    answer_delay_seconds: float = 0.0
    calls: list[Call] = field(default_factory=list)
    # Idempotency keys in the order they were paid.
    payments: list[str] = field(default_factory=list)
    # The methods of the requests that reached /landing.
    landed: list[str] = field(default_factory=list)
    # The most calls for one refund id that were being answered at once.
    most_in_flight: Counter[str] = field(default_factory=Counter)
    # Answers decided (and any payment recorded) but held back until `release_answers()`.
    held: int = 0
    server: uvicorn.Server | None = None
    serving: asyncio.Task[None] | None = None
    _in_flight: Counter[str] = field(default_factory=Counter, init=False, repr=False)
    _release: asyncio.Event | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/refunds"

    def now(self) -> float:
        return time.time() + self.clock_offset_seconds

    async def refunds(self, request: Request) -> Response:
        raw = await request.body()
        call = Call(
            request.headers.get("idempotency-key", ""),
            json.loads(raw),
            verify(self.secret, request.headers.get("x-oms-signature", ""), raw, self.now()),
            dict(request.headers),
            raw,
        )
        self.calls.append(call)
        refund_id = str(call.body.get("refund_id", ""))
        self._in_flight[refund_id] += 1
        self.most_in_flight[refund_id] = max(
            self.most_in_flight[refund_id], self._in_flight[refund_id]
        )
        try:
            call.status = self._decide(call)
            await self._answer_when_due()
        finally:
            self._in_flight[refund_id] -= 1
        return JSONResponse({"refund_id": refund_id}, status_code=call.status)

    def _decide(self, call: Call) -> int:
        """The answer's status, paying first when the call is the key's first valid one."""
        if call.signature_ok is not Signature.VALID:
            return 401
        if len(self.calls) <= self.fail_first:
            return 503
        if call.idempotency_key in self.payments:
            return 200  # a replay: the first answer again, nothing paid
        self.payments.append(call.idempotency_key)
        lost = self.lose_every_nth_answer and len(self.payments) % self.lose_every_nth_answer == 0
        return 503 if lost else 201

    async def _answer_when_due(self) -> None:
        if self.answer_delay_seconds:
            await asyncio.sleep(self.answer_delay_seconds)
        if self._release is not None:
            self.held += 1
            try:
                await self._release.wait()
            finally:
                self.held -= 1

    def hold_answers(self) -> None:
        """From now on every answer waits, after its payment is recorded, until released: the
        moment at which a caller that dies has been paid without knowing it."""
        self._release = asyncio.Event()

    def release_answers(self) -> None:
        if self._release is not None:
            self._release.set()
            self._release = None

    def in_flight(self, refund_id: str) -> int:
        """Calls for the refund being answered now."""
        return self._in_flight[refund_id]

    def answered_2xx(self, refund_id: str) -> int:
        """Calls for the refund that were answered 2xx (paid, or a replay told it was)."""
        return sum(200 <= c.status < 300 for c in self.calls_for(refund_id))

    async def moved(self, request: Request) -> Response:
        return RedirectResponse(f"http://127.0.0.1:{self.port}/landing", status_code=302)

    async def landing(self, request: Request) -> Response:
        self.landed.append(request.method)
        return PlainTextResponse("welcome to our new site")

    async def start(self) -> None:
        app = Starlette(
            routes=[
                Route("/refunds", self.refunds, methods=["POST"]),
                Route("/moved", self.moved, methods=["POST"]),
                Route("/landing", self.landing, methods=["GET", "POST"]),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.serving = asyncio.create_task(self.server.serve())
        while not self.server.started:
            assert not self.serving.done(), "the fake platform did not start"
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        assert self.server is not None and self.serving is not None
        self.release_answers()  # uvicorn waits for the answers it is giving
        self.server.should_exit = True
        await self.serving

    def calls_for(self, refund_id: str) -> list[Call]:
        return [c for c in self.calls if c.body.get("refund_id") == refund_id]
