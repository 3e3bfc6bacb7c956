"""Returns platforms over the real gateway, orders, inventory and returns services, on SQLite and
PostgreSQL: Loop, Happy Returns and Narvar start returns with their published webhook payloads
(tests/fixtures/), and a small real HTTP server plays each platform's API. A return is routed
from the customer's drop-off point, scanned, inspected and refunded through the platform it came
from exactly once, also through an outage; a fraud-flagged one is reported with its flags and
not refunded; a bad signature changes nothing; a redelivery creates nothing twice; one we
cannot map is parked."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from launcher.ports import free_port
from services.kernel.caller import Role
from services.returns.tables import PlatformUpdateRow, ReturnRow
from tests.integration.conftest import ReturnsUnderTest, eventually
from tests.integration.test_gateway_returns import Gateway
from tests.support.gateway import SIGNING_KEY
from tests.support.returns_platforms import (
    SECRET,
    TOKEN,
    FakeReturnsPlatform,
    fixture,
    signed_headers,
)

CONNECT = """
mutation Connect($input: ConnectReturnsPlatformInput!) {
  connectReturnsPlatform(input: $input) {
    connection { code platform channel apiBaseUrl }
    userErrors { field code }
  }
}"""
RETURN = """
query Return($id: ID!) {
  return(id: $id) {
    status destination { code } platformCode platformReturnId trackingNumber
    refund { status }
    platformUpdates { direction kind status detail }
  }
}"""
PARKED = """
query Parked($first: Int!) {
  parkedPlatformReturns(first: $first) {
    connectionCode platform platformReturnId problemCode problem recordedAt
  }
}"""
# The drop-off point in every payload is in Munich; the order ships to Berlin.
DROP_OFF_HUB = "HUB-MUC"


@pytest.fixture
def returns_env() -> dict[str, str]:
    """Retries and the workers quick, so an outage of a few seconds is ridden out fast."""
    return {
        "OMS_REFUND_RETRY_BASE_SECONDS": "0.1",
        "OMS_REFUND_RETRY_MAX_SECONDS": "0.5",
        "OMS_REFUND_WORKER_INTERVAL_SECONDS": "0.05",
        "OMS_REFUND_LEASE_SECONDS": "5",
    }


@pytest.fixture
async def gateway(loop_gateway: str) -> AsyncIterator[Gateway]:
    async with Gateway(loop_gateway, SIGNING_KEY, scanner_location="HUB-BER", timeout=10) as client:
        await client.seed()
        yield client


async def platform_for(name: str, gateway: Gateway) -> FakeReturnsPlatform:
    fake = FakeReturnsPlatform(name, free_port())
    await fake.start()
    variables = {
        "input": {
            "code": f"{name.lower()}-eu",
            "platform": name,
            "channel": "web",
            "webhookSecret": SECRET,
            "apiBaseUrl": fake.url,
            "accessToken": TOKEN,
        }
    }
    connected = (await gateway.data(CONNECT, variables))["connectReturnsPlatform"]
    assert connected["userErrors"] == [], connected
    return fake


@pytest.fixture
async def loop(gateway: Gateway) -> AsyncIterator[FakeReturnsPlatform]:
    fake = await platform_for("LOOP", gateway)
    yield fake
    await fake.stop()


async def deliver(
    gateway: Gateway, platform: str, body: bytes, secret: str = SECRET
) -> httpx.Response:
    path = {"LOOP": "loop", "HAPPY_RETURNS": "happy-returns", "NARVAR": "narvar"}[platform]
    headers = signed_headers(platform, body, secret)
    return await gateway.http.post(f"/webhooks/{path}", content=body, headers=headers)


def loop_payload(return_id: str = "1673", order: str = "loop-order-1", **changes: Any) -> bytes:
    payload = json.loads(fixture("loop", "return_created.json"))
    payload |= {"id": return_id, "provider_order_id": order, **changes}
    return json.dumps(payload).encode()


async def count_returns(returns: ReturnsUnderTest) -> int:
    async with returns.running.db.snapshot() as session:
        return int((await session.exec(select(func.count()).select_from(ReturnRow))).one())


async def the_return(gateway: Gateway, return_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gateway.data(RETURN, {"id": return_id}))["return"]
    return found


def told(found: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(u["direction"], u["kind"], u["status"]) for u in found["platformUpdates"]]


async def scanned_and_inspected(
    gateway: Gateway, return_id: str, *grades: str, grams: int | None = None
) -> dict[str, Any]:
    received = await gateway.receive(return_id, at=DROP_OFF_HUB)
    assert received["userErrors"] == [], received
    inspected = await gateway.inspect(
        return_id, *grades, grams=grams, role=Role.SCANNER, location=DROP_OFF_HUB
    )
    assert inspected["userErrors"] == [], inspected
    return inspected


async def test_a_loop_return_is_routed_to_the_drop_off_hub_and_refunded_through_loop_once(
    gateway: Gateway, loop: FakeReturnsPlatform, returns: ReturnsUnderTest
) -> None:
    await gateway.shipped_order("loop-order-1", units=2)
    body = loop_payload()

    # A forged signature is refused and changes nothing.
    forged = await deliver(gateway, "LOOP", body, secret="not-the-secret")
    assert forged.status_code == 401
    assert await count_returns(returns) == 0

    created = await deliver(gateway, "LOOP", body)
    assert created.status_code == 200 and created.text.startswith("CREATED"), created.text
    return_id = created.text.split()[1]
    # Loop redelivers: nothing is created twice.
    again = await deliver(gateway, "LOOP", body)
    assert again.text == f"DUPLICATE {return_id}"
    assert await count_returns(returns) == 1

    found = await the_return(gateway, return_id)
    assert found["destination"]["code"] == DROP_OFF_HUB  # not Berlin, where the order went
    assert (found["platformCode"], found["platformReturnId"], found["trackingNumber"]) == (
        "loop-eu",
        "1673",
        "JJD000390007726514",
    )
    assert told(found) == [("IN", "RETURN_CREATED", "ACCEPTED")]

    # Loop is down from the scan on: updates and the refund wait for it, then it comes back.
    loop.down()
    inspected = await scanned_and_inspected(gateway, return_id, "NEW", "NEW")
    assert inspected["return"]["refund"]["status"] == "PENDING"

    async def outage_met() -> bool:
        return any(c.status == 500 and "/process" in c.path for c in loop.calls)

    await eventually(outage_met, timeout=30, what="the refund tried during the outage")
    loop.up()

    async def refunded() -> bool:
        found = await the_return(gateway, return_id)
        return found["refund"]["status"] == "ISSUED" and all(
            u["status"] == "SENT" for u in found["platformUpdates"] if u["direction"] == "OUT"
        )

    await eventually(refunded, timeout=30, what="the refund through Loop and every update sent")
    await asyncio.sleep(0.5)  # time for a wrongful second refund to show
    assert loop.refunded == ["1673"]
    assert len(loop.taken("/process")) == 1
    assert any(c.status == 500 for c in loop.calls)  # the outage was met, and ridden out
    notes = [c.body["note"] for c in loop.taken("/warehouse/return/1673/note")]
    assert sorted(notes) == ["OMS: INSPECTED", "OMS: RECEIVED"]
    assert told(await the_return(gateway, return_id)) == [
        ("IN", "RETURN_CREATED", "ACCEPTED"),
        ("OUT", "RECEIVED", "SENT"),
        ("OUT", "INSPECTED", "SENT"),
        ("OUT", "REFUNDED", "SENT"),
    ]


async def test_a_fraud_flagged_loop_return_is_flagged_on_loop_with_its_flags_and_not_refunded(
    gateway: Gateway, loop: FakeReturnsPlatform
) -> None:
    await gateway.shipped_order("loop-order-2", units=2)
    created = await deliver(gateway, "LOOP", loop_payload("1674", "loop-order-2"))
    return_id = created.text.split()[1]
    # Two tees weigh 400 g; the parcel weighs 40 g.
    inspected = await scanned_and_inspected(gateway, return_id, "NEW", "NEW", grams=40)
    assert inspected["return"]["status"] == "REJECTED"

    async def reported() -> bool:
        return len(loop.taken("/warehouse/return/1674/note")) == 2

    await eventually(reported, what="the rejection reported to Loop")
    assert len(loop.taken("/warehouse/return/1674/flag")) == 1
    assert loop.taken("/note")[-1].body["note"] == "OMS: REJECTED (WEIGHT_MISMATCH)"
    assert loop.refunded == [] and loop.taken("/process") == []
    found = await the_return(gateway, return_id)
    assert found["refund"]["status"] == "WITHHELD"
    assert ("OUT", "REJECTED", "SENT") in told(found)


async def test_a_loop_return_of_an_unknown_order_is_parked_and_not_retried(
    gateway: Gateway, loop: FakeReturnsPlatform, returns: ReturnsUnderTest
) -> None:
    answer = await deliver(gateway, "LOOP", loop_payload("1675", "no-such-order"))
    # Taken (so Loop does not retry it forever) and kept for an operator.
    assert answer.status_code == 200 and answer.text.startswith("PARKED NOT_FOUND"), answer.text
    assert await count_returns(returns) == 0
    async with returns.running.db.snapshot() as session:
        parked = (await session.exec(select(PlatformUpdateRow))).one()
    assert (parked.status, parked.platform_return_id, parked.return_id) == ("PARKED", "1675", None)
    # The back office sees it, with the platform and the problem, newest first.
    (listed,) = (await gateway.data(PARKED, {"first": 10}))["parkedPlatformReturns"]
    assert {k: v for k, v in listed.items() if k not in ("problem", "recordedAt")} == {
        "connectionCode": "loop-eu",
        "platform": "LOOP",
        "platformReturnId": "1675",
        "problemCode": "NOT_FOUND",
    }
    assert "no-such-order" in listed["problem"] and listed["recordedAt"]
    too_many = await gateway.post(PARKED, {"first": 1000}, role=Role.BACKOFFICE)
    assert too_many["errors"][0]["extensions"]["code"] == "INVALID_INPUT", too_many
    storefront = await gateway.post(PARKED, {"first": 10}, role=Role.STOREFRONT)
    assert storefront["errors"][0]["extensions"]["code"] == "FORBIDDEN", storefront
    # Not JSON at all: refused, nothing kept.
    assert (await deliver(gateway, "LOOP", b"not json")).status_code == 400


@pytest.mark.parametrize(
    ("platform", "payload", "order", "platform_return_id", "hub"),
    [
        (
            "HAPPY_RETURNS",
            ("happy_returns", "return_started.json"),
            "hr-order-1",
            "5035789d-f873-4bad-b2f3-2daca346c111",
            "HUB-BER",  # no drop-off address published: routed from the ship-to
        ),
        ("NARVAR", ("narvar", "rma_initiated.json"), "narvar-order-1", "993338", DROP_OFF_HUB),
    ],
)
async def test_happy_returns_and_narvar_returns_are_created_and_refunded_through_them(
    gateway: Gateway,
    platform: str,
    payload: tuple[str, str],
    order: str,
    platform_return_id: str,
    hub: str,
) -> None:
    fake = await platform_for(platform, gateway)
    try:
        await gateway.shipped_order(order, units=1)
        body = fixture(*payload)
        assert (await deliver(gateway, platform, body, secret="wrong-secret")).status_code == 401
        created = await deliver(gateway, platform, body)
        assert created.text.startswith("CREATED"), created.text
        return_id = created.text.split()[1]
        assert (await deliver(gateway, platform, body)).text == f"DUPLICATE {return_id}"
        found = await the_return(gateway, return_id)
        assert (found["destination"]["code"], found["platformReturnId"]) == (
            hub,
            platform_return_id,
        )
        await gateway.receive(return_id, at=hub)
        inspected = await gateway.inspect(return_id, "NEW", role=Role.SCANNER, location=hub)
        assert inspected["userErrors"] == [], inspected

        async def refunded() -> bool:
            found = await the_return(gateway, return_id)
            return found["refund"]["status"] == "ISSUED" and len(fake.taken()) >= 3

        await eventually(refunded, what=f"the refund through {platform}")
        assert fake.refunded == [platform_return_id]
    finally:
        await fake.stop()
