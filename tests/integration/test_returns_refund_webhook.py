"""Refunds through the returns platform's webhook, on SQLite and PostgreSQL: a small real HTTP
server plays the platform (it checks the timestamped HMAC signature and refuses a stale one, pays
once per idempotency key as the platform promises, and can fail, vanish, redirect or answer a byte
at a time), and the returns service must get every verified refund paid exactly once through
failures, races between replicas and restarts — and never take a redirect or a platform that
keeps it waiting for a payment."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc
import httpx
import pytest
from sqlmodel import select

from launcher.ports import free_port
from oms.events.v1.returns_pb2 import RefundIssued
from oms.returns.v1 import returns_pb2 as pb
from oms.returns.v1.returns_pb2_grpc import ReturnsServiceStub
from services.kernel.db import Database
from services.kernel.errors import ErrorCode, from_rpc_error
from services.kernel.events import unpack
from services.returns.store import RefundRow
from tests.integration.conftest import ReturnsClient, ReturnsUnderTest
from tests.integration.test_returns_service import (
    eventually,
    inspection,
    published,
    received,
    seed,
)
from tests.support.processes import ServiceProcess
from tests.support.refund_platform import SECRET, FakePlatform, Signature


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform(free_port())
    await fake.start()
    try:
        yield fake
    finally:
        if fake.serving is not None and not fake.serving.done():
            await fake.stop()


class Trickle:
    """A platform that reads the request, then answers `201 Created` a byte every 0.1 s, its
    headers taking a minute: no single read waits long, the whole answer takes long."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self._answering: set[asyncio.StreamWriter] = set()
        # Answers cut short because the caller hung up, and answers sent in full.
        self.hung_up = 0
        self.finished = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/refunds"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._answer, "127.0.0.1", self.port)

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self._answering:
            writer.close()
        await self.server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answer = b"HTTP/1.1 201 Created\r\nX-Padding: " + b"." * 600 + b"\r\n\r\n"
        self._answering.add(writer)
        try:
            await reader.readuntil(b"\r\n\r\n")
            for byte in answer:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.1)
            self.finished += 1
        except (ConnectionError, asyncio.IncompleteReadError):
            self.hung_up += 1
        finally:
            self._answering.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@pytest.fixture
async def trickle() -> AsyncIterator[Trickle]:
    slow = Trickle()
    await slow.start()
    yield slow
    await slow.stop()


@pytest.fixture
def refunds_to() -> str:
    """Which of the platform's doors the service is told to use; a test parametrizes it."""
    return "refunds"


@pytest.fixture
def returns_env(platform: FakePlatform, trickle: Trickle, refunds_to: str) -> dict[str, str]:
    """Refunds go to the fake platform; retries are quick so the tests are."""
    url = {
        "refunds": platform.url,
        "moved": platform.url.replace("/refunds", "/moved"),
        "trickle": trickle.url,
    }[refunds_to]
    return {
        "OMS_REFUND_PROVIDER": "webhook",
        "OMS_REFUND_WEBHOOK_URL": url,
        "OMS_REFUND_WEBHOOK_SECRET": SECRET,
        "OMS_REFUND_WEBHOOK_TIMEOUT_SECONDS": "1",
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


def paid_once(platform: FakePlatform, refund_id: str) -> None:
    """The service itself called once with success and never twice at once: the platform's
    idempotency, which would hide a second payment, is not what this counts on."""
    assert platform.answered_2xx(refund_id) == 1, [c.status for c in platform.calls_for(refund_id)]
    assert platform.most_in_flight[refund_id] == 1


async def issued_once(system: ReturnsUnderTest, platform: FakePlatform, answer: pb.Return) -> None:
    """The refund is ISSUED, paid once by the platform, and announced once."""
    refund_id = answer.refund.id

    async def is_issued() -> bool:
        return await refund_status(system, answer.id) == pb.REFUND_STATUS_ISSUED

    await eventually(is_issued, "the refund to be issued")
    paid_once(platform, refund_id)
    assert all(
        c.idempotency_key == refund_id and c.signature_ok is Signature.VALID
        for c in platform.calls_for(refund_id)
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
    assert call.signature_ok is Signature.VALID and call.idempotency_key == answer.refund.id
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
    # The inspection's own attempt was refused and left the refund to an operator ...
    assert [(c.status, c.signature_ok) for c in platform.calls] == [(401, Signature.FORGED)]
    async with returns.running.db.snapshot() as session:
        row = (await session.exec(select(RefundRow))).one()
    assert (row.status, row.next_attempt_at, row.last_error) == ("PENDING", None, "HTTP 401")
    # ... and many worker rounds later (one each 0.05 s) nothing was tried again.
    await asyncio.sleep(0.5)
    assert len(platform.calls) == 1
    assert platform.payments == []


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

    async def retried_while_down() -> bool:
        async with returns.running.db.snapshot() as session:
            row = await session.get(RefundRow, second.refund.id)
        assert row is not None
        return row.attempts >= 2 and row.last_error.startswith("ConnectError")

    await eventually(retried_while_down, "a retry refused a connection")
    await platform.start()

    async def paid() -> bool:
        return await refund_status(returns, second.id) == pb.REFUND_STATUS_ISSUED

    await eventually(paid, "the refund to be issued once the platform is back")
    assert platform.payments == [answer.refund.id, second.refund.id]
    paid_once(platform, second.refund.id)


async def test_the_worker_the_inspection_and_a_second_replica_racing_pay_once(
    returns: ReturnsUnderTest, platform: FakePlatform
) -> None:
    await seed(returns)
    async with returns.service.replica():
        platform.fail_first = 2  # both replicas' workers and the inspection get a turn
        platform.answer_delay_seconds = 0.2  # calls that overlap would be seen overlapping
        answers = await asyncio.gather(inspected(returns), inspected(returns))
        for answer in answers:
            refund_id = answer.refund.id

            async def settled(return_id: str = answer.id) -> bool:
                return await refund_status(returns, return_id) == pb.REFUND_STATUS_ISSUED

            await eventually(settled, "the refund to be issued")
            paid_once(platform, refund_id)
        expected = sorted(a.refund.id for a in answers)

        async def announced() -> list[str]:
            events = await published(returns, "RefundIssued")
            return sorted(unpack(e, RefundIssued).refund_id for e in events)

        async def all_announced() -> bool:
            return set(await announced()) == set(expected)

        # The outbox relays on its own schedule: wait for both, then give a
        # wrongful second announcement time to show up before counting.
        await eventually(all_announced, "both refunds to be announced")
        await asyncio.sleep(0.3)
        assert await announced() == expected
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


async def test_a_replayed_request_is_refused_once_its_signature_is_stale(
    returns: ReturnsUnderTest, platform: FakePlatform
) -> None:
    await seed(returns)
    answer = await inspected(returns)
    assert answer.refund.status == pb.REFUND_STATUS_ISSUED
    [call] = platform.calls
    replay = {
        name: call.headers[name] for name in ("content-type", "x-oms-signature", "idempotency-key")
    }

    async def send_again() -> int:
        async with httpx.AsyncClient() as client:
            response = await client.post(platform.url, content=call.raw_body, headers=replay)
        return response.status_code

    # Within the tolerance a copy is the same request: answered as before, nothing paid again.
    assert await send_again() == 200
    # Six minutes later a copy captured on the way is refused, whatever the platform remembers.
    platform.clock_offset_seconds = 6 * 60
    assert await send_again() == 401
    assert platform.calls[-1].signature_ok is Signature.STALE
    assert platform.payments == [answer.refund.id]


@pytest.mark.parametrize("refunds_to", ["moved"])
async def test_a_redirect_is_not_followed_and_the_refund_is_not_issued(
    returns: ReturnsUnderTest, platform: FakePlatform
) -> None:
    await seed(returns)
    answer = await inspected(returns)
    assert answer.refund.status == pb.REFUND_STATUS_PENDING
    assert platform.landed == [], "the redirect was followed"

    async def refund_row() -> RefundRow:
        async with returns.running.db.snapshot() as session:
            return (await session.exec(select(RefundRow))).one()

    async def redirect_seen() -> bool:
        # The first attempt meets the redirect; on a machine too busy to answer within the
        # deadline, a retry does (a call cut off by the deadline is retried, as it should be).
        return (await refund_row()).last_error.startswith("HTTP 302")

    await eventually(redirect_seen, "the redirect refused")
    row = await refund_row()
    # A refusal for an operator: the address is wrong, trying again would not pay.
    assert (row.status, row.next_attempt_at) == ("PENDING", None)
    assert row.last_error.startswith("HTTP 302: redirect to http://127.0.0.1:"), row.last_error
    assert row.last_error.endswith("/landing not followed"), row.last_error

    await asyncio.sleep(0.5)  # many worker rounds, in which a wrongful retry would show
    assert platform.landed == [], "the redirect was followed"
    assert (await refund_row()).attempts == row.attempts, "tried again after the redirect"
    assert await refund_status(returns, answer.id) == pb.REFUND_STATUS_PENDING
    assert await published(returns, "RefundIssued") == []


@pytest.mark.parametrize("refunds_to", ["trickle"])
async def test_a_platform_that_answers_a_byte_at_a_time_is_cut_off_at_the_deadline(
    returns: ReturnsUnderTest, trickle: Trickle
) -> None:
    await seed(returns)
    # Each byte comes well within the deadline of 1 s; the whole answer would take a minute.
    answer = await inspected(returns)
    assert answer.refund.status == pb.REFUND_STATUS_PENDING

    async def retried() -> bool:
        return trickle.hung_up >= 2

    await eventually(retried, "two attempts, each cut off at its deadline")
    async with returns.running.db.snapshot() as session:
        row = (await session.exec(select(RefundRow))).one()
    assert (row.status, row.last_error) == ("PENDING", "no answer within 1s")
    assert row.attempts >= 2 and trickle.finished == 0


# Replicas in processes of their own: raced, and killed mid-payment.


class ReturnsReplica:
    """A returns process taking over from the in-process service: its database, broker,
    platform and settings, with `env` on top."""

    def __init__(self, returns: ReturnsUnderTest, env: dict[str, str], logs: Path) -> None:
        settings = returns.running.settings
        port = free_port()
        self.process = ServiceProcess(
            "returns",
            {
                **env,
                "OMS_RETURNS_DATABASE_URL": settings.database_url,
                "OMS_RETURNS_GRPC_LISTEN": f"127.0.0.1:{port}",
                "OMS_NATS_URL": settings.nats_url,
                "OMS_INVENTORY_GRPC_TARGET": settings.grpc_targets["inventory"],
                "OMS_ORDERS_GRPC_TARGET": settings.grpc_targets["orders"],
            },
            logs,
            port,
        )
        self.channel: grpc.aio.Channel | None = None

    @property
    def stub(self) -> ReturnsClient:
        assert self.channel is not None, "not started"
        return ReturnsServiceStub(self.channel)

    async def start(self) -> None:
        """Starts the process (again, after a kill: the channel reconnects to its port)."""
        self.process.start()
        await self.process.wait_serving()
        if self.channel is None:
            self.channel = self.process.channel()

    def kill(self) -> None:
        """SIGKILL: no grace, no drain, nothing written on the way out."""
        self.process.kill()

    async def close(self) -> None:
        self.kill()
        if self.channel is not None:
            await self.channel.close()


@pytest.fixture
async def replicas(
    returns: ReturnsUnderTest, returns_env: dict[str, str], tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[ReturnsReplica]]]:
    """Starts returns processes with `env` on top of the test's; the in-process service stops
    before the first starts, so that from then on only the processes work."""
    made: list[ReturnsReplica] = []

    async def replica(**env: str) -> ReturnsReplica:
        if not made:
            await returns.service.stop()
        made.append(ReturnsReplica(returns, {**returns_env, **env}, tmp_path / "logs"))
        await made[-1].start()
        return made[-1]

    yield replica
    for each in made:
        await each.close()


async def refund_rows(returns: ReturnsUnderTest) -> list[RefundRow]:
    """The refund table as the replicas left it, read on a connection of the test's own."""
    db = Database(returns.running.settings.database_url)
    try:
        async with db.snapshot() as session:
            return list((await session.exec(select(RefundRow))).all())
    finally:
        await db.dispose()


async def announced_once(returns: ReturnsUnderTest, refund_id: str) -> None:
    """RefundIssued for the refund is on the stream, and stays alone there."""

    async def announced() -> bool:
        return len(await published(returns, "RefundIssued")) >= 1

    await eventually(announced, "RefundIssued on the stream")
    await asyncio.sleep(0.3)  # time for a wrongful second announcement to show up
    events = [unpack(e, RefundIssued) for e in await published(returns, "RefundIssued")]
    assert [e.refund_id for e in events] == [refund_id]


async def answer_or_refusal(
    call: Awaitable[pb.Return],
) -> pb.Return | tuple[ErrorCode, str | None]:
    """The return a call answered, or the code and field it was refused with."""
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        refused = from_rpc_error(error)
        assert refused is not None, error
        return refused.code, refused.field


async def test_two_processes_inspecting_the_same_return_at_once_refund_it_once(
    returns: ReturnsUnderTest,
    platform: FakePlatform,
    replicas: Callable[..., Awaitable[ReturnsReplica]],
) -> None:
    await seed(returns)
    parcel = await received(returns, ("TEE", 2))
    first, second = await replicas(), await replicas()
    platform.answer_delay_seconds = 0.2  # calls that overlap would be seen overlapping

    request = inspection(parcel.id, ("TEE", "NEW"), ("TEE", "NEW"))
    outcomes = await asyncio.gather(
        *(answer_or_refusal(r.stub.InspectReturn(request)) for r in (first, second))
    )
    # Either may win; the other must be refused.
    answers = [o for o in outcomes if isinstance(o, pb.Return)]
    refusals = [o for o in outcomes if not isinstance(o, pb.Return)]
    assert len(answers) == 1 and refusals == [(ErrorCode.INVALID_STATE, "return_id")], outcomes
    [answer] = answers

    [row] = await refund_rows(returns)
    assert (row.id, row.return_id) == (answer.refund.id, parcel.id)

    async def issued() -> bool:
        [row] = await refund_rows(returns)
        return row.status == "ISSUED"

    await eventually(issued, "the refund to be issued")
    paid_once(platform, answer.refund.id)
    await announced_once(returns, answer.refund.id)


async def test_a_process_killed_after_the_platform_paid_leaves_the_refund_to_its_restart(
    returns: ReturnsUnderTest,
    platform: FakePlatform,
    replicas: Callable[..., Awaitable[ReturnsReplica]],
) -> None:
    await seed(returns)
    parcel = await received(returns, ("TEE", 2))
    # A deadline well within the lease, so the kill comes while the call still waits.
    replica = await replicas(OMS_REFUND_WEBHOOK_TIMEOUT_SECONDS="2.5")
    platform.hold_answers()
    # A gRPC call runs once made; it is awaited when its answer matters.
    inspecting = replica.stub.InspectReturn(inspection(parcel.id, ("TEE", "NEW"), ("TEE", "NEW")))

    async def paid_and_held() -> bool:
        return platform.held == 1

    await eventually(paid_and_held, "the platform to pay and hold its answer")
    replica.kill()
    with pytest.raises(grpc.aio.AioRpcError) as lost:
        await inspecting
    assert lost.value.code() == grpc.StatusCode.UNAVAILABLE
    [row] = await refund_rows(returns)
    # Paid, and nothing of it written: the refund is PENDING under its first attempt's lease.
    assert platform.payments == [row.id]
    assert (row.status, row.attempts, row.last_error) == ("PENDING", 1, "")

    platform.release_answers()  # into a closed connection

    async def answered() -> bool:
        return platform.in_flight(row.id) == 0

    await eventually(answered, "the held answer to be let go")
    # Restarted at once; the refund falls to it when the lease runs out.
    await replica.start()

    async def issued() -> bool:
        [row] = await refund_rows(returns)
        return row.status == "ISSUED"

    await eventually(issued, "the restarted process to issue the refund")
    # One payment: the killed attempt's 201 never arrived; the retry under the same key was
    # told it was paid (200) and nothing more was asked.
    assert [c.status for c in platform.calls_for(row.id)] == [201, 200]
    assert platform.payments == [row.id]
    assert platform.most_in_flight[row.id] == 1
    await announced_once(returns, row.id)
