"""Refunds through the returns platform's webhook, on SQLite and PostgreSQL: a small real HTTP
server plays the platform (it checks the HMAC signature, pays once per idempotency key as the
platform promises, and can fail or vanish), and the returns service must get every verified
refund paid exactly once through failures, races between replicas and restarts."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from launcher.ports import free_port
from oms.events.v1.returns_pb2 import RefundIssued
from oms.returns.v1 import returns_pb2 as pb
from services.kernel.events import unpack
from services.returns.store import RefundRow
from tests.integration.conftest import ReturnsUnderTest
from tests.integration.test_returns_service import (
    eventually,
    inspection,
    published,
    received,
    seed,
)

SECRET = "whsec-test-1234"


@dataclass
class Call:
    idempotency_key: str
    body: dict[str, Any]
    signature_ok: bool
    status: int = 0


@dataclass
class FakePlatform:
    """The returns platform: POST /refunds, signed JSON, paid once per idempotency key."""

    port: int
    secret: str = SECRET
    # Answer 503 to this many calls first (a platform outage).
    fail_first: int = 0
    calls: list[Call] = field(default_factory=list)
    # Idempotency keys in the order they were paid.
    payments: list[str] = field(default_factory=list)
    server: uvicorn.Server | None = None
    serving: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/refunds"

    async def refunds(self, request: Request) -> Response:
        raw = await request.body()
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        call = Call(
            request.headers.get("idempotency-key", ""),
            json.loads(raw),
            hmac.compare_digest(request.headers.get("x-oms-signature", ""), expected),
        )
        self.calls.append(call)
        if not call.signature_ok:
            call.status = 401
        elif len(self.calls) <= self.fail_first:
            call.status = 503
        elif call.idempotency_key in self.payments:
            call.status = 200  # a replay: the first answer again, nothing paid
        else:
            self.payments.append(call.idempotency_key)
            call.status = 201
        return JSONResponse({"refund_id": call.body.get("refund_id")}, status_code=call.status)

    async def start(self) -> None:
        app = Starlette(routes=[Route("/refunds", self.refunds, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.serving = asyncio.create_task(self.server.serve())
        while not self.server.started:
            assert not self.serving.done(), "the fake platform did not start"
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        assert self.server is not None and self.serving is not None
        self.server.should_exit = True
        await self.serving

    def calls_for(self, refund_id: str) -> list[Call]:
        return [c for c in self.calls if c.body.get("refund_id") == refund_id]


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform(free_port())
    await fake.start()
    try:
        yield fake
    finally:
        if fake.serving is not None and not fake.serving.done():
            await fake.stop()


@pytest.fixture
def returns_env(platform: FakePlatform) -> dict[str, str]:
    """Refunds go to the fake platform; retries are quick so the tests are."""
    return {
        "OMS_REFUND_PROVIDER": "webhook",
        "OMS_REFUND_WEBHOOK_URL": platform.url,
        "OMS_REFUND_WEBHOOK_SECRET": SECRET,
        "OMS_REFUND_WEBHOOK_TIMEOUT_SECONDS": "2",
        "OMS_REFUND_RETRY_BASE_SECONDS": "0.05",
        "OMS_REFUND_RETRY_MAX_SECONDS": "0.3",
        "OMS_REFUND_WORKER_INTERVAL_SECONDS": "0.05",
        "OMS_REFUND_LEASE_SECONDS": "3",
    }


async def inspected(system: ReturnsUnderTest) -> pb.Return:
    """A verified return of two tees (2 x 25.00), inspected at the hub."""
    parcel = await received(system, ("TEE", 2))
    return await system.stub.InspectReturn(inspection(parcel.id, ("TEE", "NEW"), ("TEE", "NEW")))


async def refund_status(system: ReturnsUnderTest, return_id: str) -> int:
    found = await system.stub.GetReturn(pb.GetReturnRequest(id=return_id))
    return found.refund.status


async def issued_once(system: ReturnsUnderTest, platform: FakePlatform, answer: pb.Return) -> None:
    """The refund is ISSUED, paid once by the platform, and announced once."""
    refund_id = answer.refund.id

    async def is_issued() -> bool:
        return await refund_status(system, answer.id) == pb.REFUND_STATUS_ISSUED

    await eventually(is_issued, "the refund to be issued")
    assert platform.payments.count(refund_id) == 1
    assert all(
        c.idempotency_key == refund_id and c.signature_ok for c in platform.calls_for(refund_id)
    )

    async def announced() -> bool:
        return len(await published(system, "RefundIssued")) >= 1

    await eventually(announced, "RefundIssued on the stream")
    await asyncio.sleep(0.3)  # time for a wrongful second announcement to show up
    events = [unpack(e, RefundIssued) for e in await published(system, "RefundIssued")]
    assert [(e.refund_id, e.provider, e.amount_cents) for e in events] == [
        (refund_id, "webhook", 5000)
    ]


async def test_a_verified_return_is_refunded_with_a_signed_request_keyed_by_the_refund_id(
    returns: ReturnsUnderTest, platform: FakePlatform
) -> None:
    await seed(returns)
    answer = await inspected(returns)
    # The first attempt runs within the inspection: the answer already says ISSUED.
    assert answer.refund.status == pb.REFUND_STATUS_ISSUED and answer.refund.provider == "webhook"
    [call] = platform.calls
    assert call.signature_ok and call.idempotency_key == answer.refund.id
    assert call.body == {
        "refund_id": answer.refund.id,
        "return_id": answer.id,
        "order_id": answer.order_id,
        "amount_cents": 5000,
        "currency": "EUR",
    }
    await issued_once(returns, platform, answer)


async def test_a_refusal_is_not_retried_and_a_wrong_signature_is_refused(
    returns: ReturnsUnderTest, platform: FakePlatform
) -> None:
    await seed(returns)
    platform.secret = "rotated-on-the-platform-only"
    answer = await inspected(returns)
    assert answer.refund.status == pb.REFUND_STATUS_PENDING
    await asyncio.sleep(0.5)  # many worker rounds
    assert [(c.status, c.signature_ok) for c in platform.calls] == [(401, False)]
    assert platform.payments == []
    async with returns.running.db.snapshot() as session:
        row = (await session.exec(select(RefundRow))).one()
    assert (row.status, row.next_attempt_at, row.last_error) == ("PENDING", None, "HTTP 401")


async def test_outages_are_retried_with_backoff_until_the_refund_is_issued(
    returns: ReturnsUnderTest, platform: FakePlatform
) -> None:
    await seed(returns)
    platform.fail_first = 3
    answer = await inspected(returns)
    assert answer.refund.status == pb.REFUND_STATUS_PENDING  # the platform answered 503
    await issued_once(returns, platform, answer)
    assert [c.status for c in platform.calls] == [503, 503, 503, 201]
    assert (
        len({json.dumps(c.body, sort_keys=True) for c in platform.calls}) == 1
    )  # one request, resent

    # The platform unreachable altogether: connection refused until it is back.
    await platform.stop()
    second = await inspected(returns)
    assert second.refund.status == pb.REFUND_STATUS_PENDING
    await asyncio.sleep(0.3)
    await platform.start()

    async def paid() -> bool:
        return await refund_status(returns, second.id) == pb.REFUND_STATUS_ISSUED

    await eventually(paid, "the refund to be issued once the platform is back")
    assert platform.payments == [answer.refund.id, second.refund.id]
    async with returns.running.db.snapshot() as session:
        attempts = (
            await session.exec(select(RefundRow.attempts).where(RefundRow.id == second.refund.id))
        ).one()
    assert attempts >= 2


async def test_the_worker_the_inspection_and_a_second_replica_racing_pay_once(
    returns: ReturnsUnderTest, platform: FakePlatform
) -> None:
    await seed(returns)
    async with returns.service.replica():
        platform.fail_first = 2  # both replicas' workers and the inspection get a turn
        answers = await asyncio.gather(inspected(returns), inspected(returns))
        for answer in answers:
            refund_id = answer.refund.id

            async def settled(return_id: str = answer.id) -> bool:
                return await refund_status(returns, return_id) == pb.REFUND_STATUS_ISSUED

            await eventually(settled, "the refund to be issued")
            assert platform.payments.count(refund_id) == 1
        await asyncio.sleep(0.3)
        events = [unpack(e, RefundIssued) for e in await published(returns, "RefundIssued")]
        assert sorted(e.refund_id for e in events) == sorted(a.refund.id for a in answers)
        assert sorted(platform.payments) == sorted(a.refund.id for a in answers)


async def test_a_restart_neither_loses_nor_doubles_a_refund(
    returns: ReturnsUnderTest, platform: FakePlatform
) -> None:
    await seed(returns)
    platform.fail_first = 10**6  # down until told otherwise
    answer = await inspected(returns)
    assert answer.refund.status == pb.REFUND_STATUS_PENDING

    async def tried_again() -> bool:
        return len(platform.calls) >= 3

    await eventually(tried_again, "retries while the platform is down")
    await returns.restart()
    platform.fail_first = 0
    await issued_once(returns, platform, answer)

    # Issued is final: another restart sends nothing more.
    calls = len(platform.calls)
    await returns.restart()
    await asyncio.sleep(0.5)
    assert len(platform.calls) == calls
    assert platform.payments == [answer.refund.id]
