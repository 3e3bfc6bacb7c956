"""The listed bad inputs, sent to the whole system started by `oms up`: each is refused with its
exact status and code, its answer well-formed (tests/gauntlet/answers.py), and no service
database has a row more or less afterwards. Then what must still work after them: the next
order is placed and published, figures past 32 bits are answered, the system is consistent.

The body cap is raised to 8 MiB, as an operator may, so that megabyte fields reach the bounds of
their own fields; one case sends a body past that cap."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from gateway.auth import ALGORITHM, ISSUER, load_or_create_signing_key
from gateway.edge import MediaType
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.orders_pb2 import OrderPlaced
from services.kernel.events import unpack
from tests.gauntlet.answers import assert_well_formed
from tests.gauntlet.consistency import assert_consistent, row_counts
from tests.gauntlet.load import until
from tests.gauntlet.published import last_published
from tests.gauntlet.system import CHANNEL, PLACES, System, started
from tests.support.contract import operation
from tests.support.stock import ADJUST_STOCK, UPSERT_LOCATION, UPSERT_SKU

pytestmark = [
    pytest.mark.timeout(300),
    # The weak key is the point of one case.
    pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
]

MAX_BODY_BYTES = 8 * 1024 * 1024
PATH = "/graphql"
BERLIN = {"name": "Ada", "city": "Berlin", "latitude": 52.52, "longitude": 13.40}
OTHER_CHANNEL = "eu"
A_BILLION = 1_000_000_000


@pytest.fixture(scope="module")
async def system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    env = {"OMS_GATEWAY_MAX_BODY_BYTES": str(MAX_BODY_BYTES)}
    async with started(tmp_path_factory.mktemp("gauntlet") / "data", env) as running:
        yield running


def order(external_id: str, **changes: Any) -> dict[str, Any]:
    """placeOrder's variables: one TEE to Berlin on the storefront's channel, with `changes`."""
    return {
        "input": {
            "channel": CHANNEL,
            "externalId": external_id,
            "email": "ada@example.com",
            "shipTo": BERLIN,
            "lines": [{"sku": "TEE", "quantity": 1, "unitPriceCents": 2500}],
            **changes,
        }
    }


def forged_token(key: bytes, **claims: Any) -> str:
    """A back-office token as the gateway would issue it, with `claims` changed."""
    now = datetime.now(UTC)
    defaults = {
        "iss": ISSUER,
        "sub": "forger",
        "role": "backoffice",
        "iat": now,
        "exp": now + timedelta(hours=1),
        "jti": "forged0001",
    }
    return jwt.encode({**defaults, **claims}, key, algorithm=ALGORITHM)


async def post(
    system: System, body: str | bytes, role: str | None = "storefront", token: str | None = None
) -> httpx.Response:
    """`body` as sent, with the role's token (or `token`, or none), asking for the GraphQL
    response media type."""
    headers = {"content-type": "application/json", "accept": MediaType.GRAPHQL_RESPONSE.value}
    if token or role:
        headers["Authorization"] = f"Bearer {token or system.tokens[role or '']}"
    return await system.graphql.http.post(PATH, content=body, headers=headers)


def graphql(document: str, variables: dict[str, Any] | None = None) -> str:
    # Escaped JSON, as a client sends what Python cannot encode in UTF-8 (a lone surrogate).
    return json.dumps({"query": document, "variables": variables or {}})


def place(variables: dict[str, Any]) -> str:
    return graphql(operation("PlaceOrder"), variables)


def new_sku(title: str) -> str:
    sku = {"code": "NEW", "title": title, "unitCostCents": 800, "weightGrams": 200}
    return graphql(UPSERT_SKU, {"input": sku})


def key_of(system: System) -> bytes:
    return load_or_create_signing_key(system.data_dir)


@dataclass(frozen=True)
class Bad:
    """A bad input: how to send it, and the status, code and field it must be refused with
    (`field` for a mutation's userErrors entry; None for a top-level error)."""

    send: Callable[[System], Awaitable[httpx.Response]]
    status: int
    code: str
    field: str | None = None


CASES = {
    "a 1.1 MB channel": Bad(
        lambda s: post(s, place(order("w-huge", channel="w" * 1_100_000))),
        200,
        "INVALID_INPUT",
        "input.channel",
    ),
    "deeply nested JSON, no token": Bad(
        lambda s: post(s, "[" * 100_000 + "]" * 100_000, role=None), 401, "UNAUTHENTICATED"
    ),
    "deeply nested JSON": Bad(
        lambda s: post(s, "[" * 100_000 + "]" * 100_000), 400, "JSON_TOO_DEEP"
    ),
    "a body over the cap (not JSON: refused before parsing)": Bad(
        lambda s: post(s, b"x" * (MAX_BODY_BYTES + 1)), 413, "REQUEST_TOO_LARGE"
    ),
    "a mutation by GET": Bad(
        lambda s: s.graphql.http.get(
            PATH,
            params={"query": UPSERT_SKU, "variables": json.dumps({"input": {"code": "NEW"}})},
            headers=s.headers("admin"),
        ),
        405,
        "METHOD_NOT_ALLOWED",
    ),
    "a query with huge comments": Bad(
        lambda s: post(s, graphql("#" + "x" * 50_000 + "\n{ skus { code } }")),
        400,
        "QUERY_TOO_LONG",
    ),
    "a lone surrogate in a variable": Bad(
        lambda s: post(s, new_sku("mug\ud800"), role="admin"), 200, "INVALID_INPUT", "input.title"
    ),
    "a NUL byte in a variable": Bad(
        lambda s: post(s, place(order("w-nul\u0000"))), 200, "INVALID_INPUT", "input.externalId"
    ),
    "a lone surrogate in the document": Bad(
        lambda s: post(s, graphql('{ stockLevels(sku: "\\ud800") { onHand } }'), role="admin"),
        400,
        "GRAPHQL_PARSE_FAILED",
    ),
    # GraphQL's lexer takes a NUL within a string; the gateway's bound refuses it.
    "a NUL byte in the document": Bad(
        lambda s: post(s, graphql('{ stockLevels(sku: "T\u0000") { onHand } }'), role="admin"),
        200,
        "INVALID_INPUT",
    ),
    "40,000 SKUs in one request": Bad(
        lambda s: post(
            s,
            graphql(
                operation("Availability"),
                {"skus": [f"SKU-{i}" for i in range(40_000)], "channel": CHANNEL},
            ),
        ),
        200,
        "INVALID_INPUT",
    ),
    "a 4.5 MB address": Bad(
        lambda s: post(s, place(order("w-far", shipTo=BERLIN | {"line1": "x" * 4_500_000}))),
        200,
        "INVALID_INPUT",
        "input.shipTo.line1",
    ),
    "an expired token": Bad(
        lambda s: post(
            s,
            new_sku("mug"),
            token=forged_token(
                key_of(s),
                iat=datetime.now(UTC) - timedelta(hours=2),
                exp=datetime.now(UTC) - timedelta(hours=1),
            ),
        ),
        401,
        "UNAUTHENTICATED",
    ),
    "a token with an empty subject": Bad(
        lambda s: post(s, new_sku("mug"), token=forged_token(key_of(s), sub="")),
        401,
        "UNAUTHENTICATED",
    ),
    "a token signed with a weak key": Bad(
        lambda s: post(s, new_sku("mug"), token=forged_token(b"secret")), 401, "UNAUTHENTICATED"
    ),
    "a storefront placing under another channel's externalId": Bad(
        lambda s: post(s, place(order("eu-1", channel=OTHER_CHANNEL))),
        200,
        "FORBIDDEN",
        "input.channel",
    ),
}


def codes(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The codes (and fields) of the answer's userErrors, or else of its top-level errors."""
    payloads = [p for p in (body.get("data") or {}).values() if isinstance(p, dict)]
    user_errors = [e for p in payloads for e in p.get("userErrors") or []]
    if user_errors:
        return [(e["code"], e["field"]) for e in user_errors]
    return [(e["extensions"]["code"], None) for e in body.get("errors") or []]


@pytest.fixture(scope="module")
async def other_channels_order(system: System) -> str:
    """An order on another channel, placed by the back office under `eu-1`."""
    body = await post(system, place(order("eu-1", channel=OTHER_CHANNEL)), role="admin")
    placed = body.json()["data"]["placeOrder"]
    assert placed["userErrors"] == [], placed
    return str(placed["order"]["id"])


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_a_bad_input_is_refused_with_its_code_and_writes_nothing(
    system: System, other_channels_order: str, case: Bad
) -> None:
    await assert_consistent(system)
    before = row_counts(system)
    response = await case.send(system)
    assert response.status_code == case.status, response.text[:2000]
    body = response.json()
    assert codes(body) == [(case.code, case.field)], response.text[:2000]
    # A GET is answered in JSON: it asked for no media type.
    accept = MediaType.JSON if response.request.method == "GET" else MediaType.GRAPHQL_RESPONSE
    assert_well_formed(response, accept, authenticated=case.status != 401)
    assert row_counts(system) == before


async def test_after_a_megabyte_channel_the_next_order_is_placed_and_published(
    system: System,
) -> None:
    refused = await CASES["a 1.1 MB channel"].send(system)
    assert codes(refused.json()) == [("INVALID_INPUT", "input.channel")]
    placed = (await post(system, place(order("w-next")))).json()["data"]["placeOrder"]
    assert placed["userErrors"] == [], placed
    order_id = placed["order"]["id"]

    async def published() -> bool:
        envelope: EventEnvelope | None = await last_published(system, "orders", "OrderPlaced")
        return envelope is not None and unpack(envelope, OrderPlaced).order_id == order_id

    await until(published, "the next order's OrderPlaced on the stream", timeout=30)
    await assert_consistent(system)


async def test_availability_past_32_bits_is_answered_as_int64(system: System) -> None:
    """A billion units at three locations that ship: 3·10⁹, past GraphQL's 32-bit Int."""
    admin = system.graphql
    store = {"code": "STORE-BER", "name": "Store", "kind": "STORE"} | {
        "latitude": 52.52,
        "longitude": 13.41,
    }
    assert (await admin.data(UPSERT_LOCATION, {"input": store}))["upsertLocation"][
        "userErrors"
    ] == []
    sku = {"code": "BIG", "title": "Big", "unitCostCents": 1, "weightGrams": 1}
    assert (await admin.data(UPSERT_SKU, {"input": sku}))["upsertSku"]["userErrors"] == []
    for at in (*PLACES, "STORE-BER"):
        adjustment = {"sku": "BIG", "locationCode": at, "delta": A_BILLION, "reason": "count"}
        answer = await admin.data(ADJUST_STOCK, {"input": adjustment})
        assert answer["adjustStock"]["userErrors"] == [], answer
    response = await post(
        system, graphql(operation("Availability"), {"skus": ["BIG"], "channel": CHANNEL})
    )
    assert_well_formed(response, MediaType.GRAPHQL_RESPONSE, authenticated=True)
    assert response.json() == {
        "data": {"availability": [{"sku": "BIG", "available": 3 * A_BILLION}]}
    }
    await assert_consistent(system)
