"""The gateway's HTTP and WebSocket edge, served by uvicorn over the real inventory service and
NATS: what a request may be before it is parsed, GraphQL over HTTP as its spec asks (checked by
graphql-http's own audit), tokens that expire, are revoked and are bound to a subject on HTTP
and WebSocket alike, a real `gql` client, and readiness on the services the schema calls."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from strawberry.extensions.parser_cache import _get_parse_cache
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gateway.auth import TokenPolicy, issue_token, read_token
from gateway.settings import QueryLimits, RequestLimits
from launcher.cli import main as oms
from launcher.embedded_nats import EmbeddedNats
from launcher.ports import free_port
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from oms.returns.v1.returns_pb2_grpc import ReturnsServiceStub
from oms.workorders.v1.workorders_pb2_grpc import WorkOrdersServiceStub
from services.inventory.bootstrap import SERVICE as INVENTORY
from services.kernel.caller import Role
from services.kernel.runtime import RunningService, ServiceDefinition
from services.kernel.settings import SERVICE_NAMES
from services.orders.bootstrap import SERVICE as ORDERS
from services.returns.bootstrap import SERVICE as RETURNS
from services.workorders.bootstrap import SERVICE as WORKORDERS
from tests.integration.conftest import eventually
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient
from tests.support.services import running_service
from tests.support.stock import ADJUST_STOCK, UPSERT_LOCATION, UPSERT_SKU

PROTOCOL = Subprotocol("graphql-transport-ws")
GRAPHQL_RESPONSE = "application/graphql-response+json"
LOCATIONS = "{ locations { code } }"
INVENTORY_CHANGED = 'subscription { inventoryChanged(skus: ["TEE"]) { sku available onHand } }'
AUDIT_DIR = Path(__file__).parents[1] / "http_audit"
# The gateway's policy here: the default lifetimes, one second of clock leeway so that a token
# made to expire soon does.
POLICY = TokenPolicy(leeway=timedelta(seconds=1))
# The default limits, but a short wait for a body that does not come.
LIMITS = RequestLimits(body_timeout_seconds=2)


@dataclass
class Edge:
    url: str
    client: GraphQLClient
    services: dict[str, RunningService]
    revocation_file: Path

    @property
    def ws_url(self) -> str:
        return self.client.ws_url

    def headers(self, token: str | None = None, **more: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.client.token(Role.ADMIN)}", **more}


async def serve(
    nats_server: EmbeddedNats, tmp_path: Path, definitions: list[ServiceDefinition]
) -> AsyncIterator[Edge]:
    """The gateway over `definitions` (SQLite files); the other services are down: nothing
    listens where the gateway looks for them."""
    stubs = {
        INVENTORY: InventoryServiceStub,
        ORDERS: OrdersServiceStub,
        RETURNS: ReturnsServiceStub,
        WORKORDERS: WorkOrdersServiceStub,
    }
    async with AsyncExitStack() as stack:
        targets: dict[str, str] = {}
        services: dict[str, RunningService] = {}
        for definition in definitions:
            database = f"sqlite:///{tmp_path / definition.name}.sqlite"
            service = await stack.enter_async_context(
                running_service(definition, stubs[definition], database, nats_server.url)
            )
            targets[definition.name] = service.target
            services[definition.name] = service.running
        for name in SERVICE_NAMES:
            targets.setdefault(name, f"127.0.0.1:{free_port()}")
        revocation_file = tmp_path / "revoked-tokens"
        url = await stack.enter_async_context(
            serving_gateway(
                targets,
                nats_server.url,
                SIGNING_KEY,
                tokens=POLICY,
                revocation_file=revocation_file,
                requests=LIMITS,
            )
        )
        client = await stack.enter_async_context(GraphQLClient(url, SIGNING_KEY, timeout=10))
        yield Edge(url, client, services, revocation_file)


@pytest.fixture
async def edge(nats_server: EmbeddedNats, tmp_path: Path) -> AsyncIterator[Edge]:
    """The gateway over the inventory service alone."""
    async for served in serve(nats_server, tmp_path, [INVENTORY]):
        yield served


async def post(edge: Edge, body: Any, headers: dict[str, str] | None = None) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    merged = {"Content-Type": "application/json", **(headers or {})}
    return await edge.client.http.post("/graphql", content=content, headers=merged)


def refusal_code(response: Any) -> str:
    body = response.json()
    assert "data" not in body, body
    assert "Traceback" not in response.text
    return str(body["errors"][0]["extensions"]["code"])


# Requests bounded before they are parsed


@pytest.mark.parametrize("token", [False, True], ids=["no-token", "token"])
async def test_deeply_nested_json_is_refused_not_a_500(edge: Edge, token: bool) -> None:
    nested = b'{"query": "{ __typename }", "variables": {"a": ' + b"[" * 50_000 + b"]" * 50_000
    response = await post(edge, nested + b"}}", edge.headers() if token else {})
    expected = (400, "JSON_TOO_DEEP") if token else (401, "UNAUTHENTICATED")
    assert (response.status_code, refusal_code(response)) == expected
    # Within the limit, nesting is fine (the variable is simply not one the query declares).
    shallow = {"query": "{ __typename }", "variables": {"a": [[[["deep enough"]]]]}}
    assert (await post(edge, shallow, edge.headers())).json() == {"data": {"__typename": "Query"}}


async def test_a_body_over_the_limit_is_refused_before_it_is_read(edge: Edge) -> None:
    too_big = {"query": "{ __typename }", "variables": {"pad": "x" * (256 * 1024)}}
    response = await post(edge, too_big, edge.headers())
    assert (response.status_code, refusal_code(response)) == (413, "REQUEST_TOO_LARGE")
    assert response.headers["content-type"].startswith("application/json")

    # Sent in chunks, with no Content-Length to go by: refused once it passes the limit.
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "variables": {"pad": "'
        for _ in range(64):
            yield b"x" * 8192
        yield b'"}}'

    chunked = await edge.client.http.post(
        "/graphql", content=chunks(), headers=edge.headers(**{"Content-Type": "application/json"})
    )
    assert (chunked.status_code, refusal_code(chunked)) == (413, "REQUEST_TOO_LARGE")

    # A WebSocket message is bounded the same way (plus room for its envelope).
    async with connect(edge.ws_url, subprotocols=[PROTOCOL], max_size=None) as ws:
        await init(ws, f"Bearer {edge.client.token(Role.STOREFRONT)}")
        await ws.send(json.dumps({"type": "ping", "payload": {"pad": "x" * 300_000}}))
        code, _ = await closed_with(ws, timeout=10)
    assert code == 1009  # message too big


async def raw_post(edge: Edge, content_length: int, body: bytes) -> tuple[int, dict[str, Any]]:
    """POSTs `body` announcing `content_length` bytes, over a plain socket (an HTTP client would
    send what it announces); the status and JSON body of the answer."""
    host, port = edge.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        head = (
            f"POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Authorization: {edge.headers()['Authorization']}\r\n"
            f"Content-Length: {content_length}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(65536), 30)
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


async def test_a_body_is_refused_by_its_announced_size_and_awaited_for_a_while_only(
    edge: Edge,
) -> None:
    # Announced too large: refused at once, without waiting for bytes that never come.
    status, body = await raw_post(edge, 10**9, b'{"query"')
    assert (status, body["errors"][0]["extensions"]["code"]) == (413, "REQUEST_TOO_LARGE")
    # Announced within the limit but sent in part: given up after the body deadline.
    status, body = await raw_post(edge, 100, b'{"query"')
    assert (status, body["errors"][0]["extensions"]["code"]) == (408, "REQUEST_TIMEOUT")


async def test_query_text_is_bounded_comments_included(edge: Edge) -> None:
    # The LRU cache strawberry's ParserCache (and the gateway's) parses through.
    cache: Any = _get_parse_cache(QueryLimits().parser_cache_size)
    await post(edge, {"query": "{ __typename }"}, edge.headers())
    cached = cache.cache_info().currsize
    for n in range(3):
        # A few tokens and a long comment: the token limit does not see comments.
        padded = "{ __typename }\n# " + str(n) * QueryLimits().max_query_chars
        response = await post(edge, {"query": padded}, edge.headers())
        assert (response.status_code, refusal_code(response)) == (400, "QUERY_TOO_LONG")
    assert cache.cache_info().currsize == cached

    async with connect(edge.ws_url, subprotocols=[PROTOCOL]) as ws:
        await init(ws, f"Bearer {edge.client.token(Role.STOREFRONT)}")
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": padded}}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert message["type"] == "error"
    assert [e["extensions"]["code"] for e in message["payload"]] == ["QUERY_TOO_LONG"]
    assert cache.cache_info().currsize == cached


# GraphQL over HTTP


async def test_get_runs_queries_and_refuses_mutations(edge: Edge) -> None:
    query = await edge.client.http.get(
        "/graphql", params={"query": LOCATIONS}, headers=edge.headers()
    )
    assert query.status_code == 200 and query.json() == {"data": {"locations": []}}

    create = 'mutation { upsertSku(input: {code: "GOT", title: "By GET", unitCostCents: 1, weightGrams: 1}) { sku { code } } }'
    mutation = await edge.client.http.get(
        "/graphql", params={"query": create}, headers=edge.headers()
    )
    assert (mutation.status_code, refusal_code(mutation)) == (405, "METHOD_NOT_ALLOWED")
    assert mutation.headers["allow"] == "POST"
    skus = await edge.client.data('{ skus(codes: ["GOT"]) { code } }')
    assert skus == {"skus": []}


@pytest.mark.parametrize(
    ("accept", "status", "media_type"),
    [
        (GRAPHQL_RESPONSE, 400, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", 400, GRAPHQL_RESPONSE),
        ("application/json", 200, "application/json"),
        ("*/*", 200, "application/json"),
        (None, 200, "application/json"),
    ],
)
async def test_refused_documents_are_answered_as_the_media_type_asks(
    edge: Edge, accept: str | None, status: int, media_type: str
) -> None:
    headers = edge.headers(**({"Accept": accept} if accept else {}))
    response = await post(edge, {"query": "{ locations { code nope } }"}, headers)
    assert response.status_code == status
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    body = response.json()
    assert "data" not in body and "Cannot query field 'nope'" in body["errors"][0]["message"]
    executed = await post(edge, {"query": LOCATIONS}, headers)
    assert executed.status_code == 200
    assert executed.headers["content-type"] == f"{media_type}; charset=utf-8"


async def audit_tools() -> Path:
    """graphql-http and graphql as the lock file pins them, installed by name from the npm
    registry on first use (the project's one download at test time)."""
    installed = AUDIT_DIR / "node_modules" / "graphql-http" / "package.json"
    if not installed.exists():
        npm = await asyncio.create_subprocess_exec(
            "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=AUDIT_DIR
        )
        assert await asyncio.wait_for(npm.wait(), 300) == 0, "npm ci failed"
    return AUDIT_DIR / "audit.mjs"


async def test_graphql_over_http_audit_passes_without_warnings(edge: Edge) -> None:
    script = await audit_tools()
    audit = await asyncio.create_subprocess_exec(
        "node",
        str(script),
        f"{edge.url}/graphql",
        edge.client.token(Role.ADMIN),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(audit.communicate(), 120)
    assert audit.returncode == 0, err.decode()
    results = [json.loads(line) for line in out.decode().splitlines()]
    assert len(results) >= 50
    assert [r for r in results if r["status"] != "ok"] == []


# Tokens


def crafted(**claims: Any) -> str:
    """A token signed with the gateway's own key, carrying exactly these claims."""
    now = datetime.now(UTC)
    base = {
        "iss": "oms",
        "sub": "shop-eu",
        "role": "storefront",
        "iat": now,
        "jti": "a1",
        "channels": ["web"],
    }
    return jwt.encode({**base, "exp": now + timedelta(hours=1), **claims}, SIGNING_KEY, "HS256")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (crafted(sub=""), "subject"),
        (crafted(sub="   "), "subject"),
        (crafted(exp=datetime.now(UTC) + timedelta(days=400)), "longer than"),
        (crafted(jti=None), "jti"),
        (crafted(iat=datetime.now(UTC) + timedelta(hours=1)), "not yet valid"),
    ],
    ids=["empty-subject", "blank-subject", "a-year-long", "no-id", "issued-in-the-future"],
)
async def test_tokens_that_break_the_rules_are_refused(edge: Edge, token: str, reason: str) -> None:
    response = await post(
        edge, {"query": "{ orders(first: 5) { edges { node { id } } } }"}, edge.headers(token)
    )
    assert (response.status_code, refusal_code(response)) == (401, "UNAUTHENTICATED")
    assert reason in response.json()["errors"][0]["message"]


async def test_a_revoked_token_is_refused_from_the_next_request_on(
    edge: Edge, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, other = edge.client.token(Role.BACKOFFICE), edge.client.token(Role.BACKOFFICE)
    assert (await post(edge, {"query": LOCATIONS}, edge.headers(token))).status_code == 200
    monkeypatch.setenv("OMS_TOKEN_REVOCATION_FILE", str(edge.revocation_file))
    assert oms(["token", "--revoke", read_token(SIGNING_KEY, token).token_id]) == 0

    refused = await post(edge, {"query": LOCATIONS}, edge.headers(token))
    assert (refused.status_code, refusal_code(refused)) == (401, "UNAUTHENTICATED")
    assert "revoked" in refused.json()["errors"][0]["message"]
    assert (await post(edge, {"query": LOCATIONS}, edge.headers(other))).status_code == 200


# WebSockets


async def init(ws: ClientConnection, authorization: str | None) -> None:
    payload = {"Authorization": authorization} if authorization else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "connection_ack"}


async def closed_with(ws: ClientConnection, timeout: float) -> tuple[int, str]:
    """The close code and reason the server ends the socket with; fails on any other message."""
    with pytest.raises(ConnectionClosed) as closed:
        message = await asyncio.wait_for(ws.recv(), timeout)
        pytest.fail(f"the socket answered instead of closing: {message!r}")
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_a_socket_closes_when_its_token_expires(edge: Edge) -> None:
    token = issue_token(
        SIGNING_KEY, Role.STOREFRONT, subject="shop", ttl=timedelta(seconds=2), channels=("web",)
    )
    async with connect(edge.ws_url, subprotocols=[PROTOCOL]) as ws:
        await init(ws, f"Bearer {token}")
        subscribe = {"query": INVENTORY_CHANGED}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        # Open and idle: the server closes it once the token (plus the leeway) has passed.
        code, reason = await closed_with(ws, timeout=30)
    assert (code, reason) == (4403, "Forbidden: the token has expired")


async def test_a_socket_checks_its_token_on_every_message(
    edge: Edge, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = edge.client.token(Role.STOREFRONT)
    async with connect(edge.ws_url, subprotocols=[PROTOCOL]) as ws:
        await init(ws, f"Bearer {token}")
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "pong"}

        monkeypatch.setenv("OMS_TOKEN_REVOCATION_FILE", str(edge.revocation_file))
        assert oms(["token", "--revoke", token]) == 0
        # The next message finds the token revoked: a close, not a pong.
        await ws.send(json.dumps({"type": "ping"}))
        code, reason = await closed_with(ws, timeout=10)
    assert (code, reason) == (4403, "Forbidden: the token has been revoked")


async def seed_tee(edge: Edge) -> None:
    location = {
        "code": "DC-EU",
        "name": "DC",
        "kind": "DISTRIBUTION_CENTER",
        "latitude": 50.1,
        "longitude": 8.7,
    }
    sku = {"code": "TEE", "title": "Tee", "unitCostCents": 800, "weightGrams": 200}
    await edge.client.data(UPSERT_LOCATION, {"input": location})
    await edge.client.data(UPSERT_SKU, {"input": sku})


async def test_the_gql_client_subscribes_with_its_token_on_the_upgrade(edge: Edge) -> None:
    await seed_tee(edge)
    transport = WebsocketsTransport(
        url=edge.ws_url,
        headers={"Authorization": f"Bearer {edge.client.token(Role.STOREFRONT)}"},
        connect_timeout=10,
    )
    seen: list[dict[str, Any]] = []
    async with Client(transport=transport) as session:

        async def listen() -> None:
            async for result in session.subscribe(gql(INVENTORY_CHANGED)):
                seen.append(result["inventoryChanged"])

        listening = asyncio.create_task(listen())
        try:
            adjust = {
                "input": {"sku": "TEE", "locationCode": "DC-EU", "delta": 1, "reason": "count"}
            }

            async def delivered() -> bool:
                # The subscription starts some time after it is sent: change TEE until it is seen.
                assert not listening.done(), listening
                if not seen:
                    await edge.client.data(ADJUST_STOCK, adjust)
                    await asyncio.sleep(0.2)
                return bool(seen)

            await eventually(delivered, timeout=20, what="a change delivered to gql")
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
    # A storefront sees what it may sell, not the shelf count (onHand) behind it.
    assert seen[0]["sku"] == "TEE" and seen[0]["available"] >= 1 and seen[0]["onHand"] is None


async def test_a_bad_token_on_the_upgrade_is_refused(edge: Edge) -> None:
    headers = {"Authorization": "Bearer not-a-jwt"}
    async with connect(edge.ws_url, subprotocols=[PROTOCOL], additional_headers=headers) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        code, _ = await closed_with(ws, timeout=10)
    assert code == 4403


# Readiness and start-up


async def test_readiness_waits_for_the_services_the_schema_calls_only(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    async for served in serve(nats_server, tmp_path, [INVENTORY, ORDERS, RETURNS]):
        # Procurement, work orders and channels are down; the schema calls every service now.
        down = await served.client.http.get("/readyz")
        assert down.status_code == 503, down.text
        assert down.json()["services"] == [
            "channels",
            "inventory",
            "orders",
            "procurement",
            "returns",
            "workorders",
        ]
        assert sorted(down.json()["notReady"]) == ["channels", "procurement", "workorders"]
        await served.services["returns"].grpc.set_serving(False)
        not_ready = await served.client.http.get("/readyz")
        assert not_ready.status_code == 503
        assert sorted(not_ready.json()["notReady"]) == [
            "channels",
            "procurement",
            "returns",
            "workorders",
        ]


@pytest.mark.parametrize("secret", ["CHANGE-ME", "too-short", "CHANGE-ME-" * 5])
def test_the_gateway_refuses_to_start_with_a_weak_key(tmp_path: Path, secret: str) -> None:
    env = {**os.environ, "OMS_JWT_SECRET": secret, "OMS_DATA_DIR": str(tmp_path)}
    started = subprocess.run(
        [sys.executable, "-m", "gateway"], env=env, capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 2
    assert "OMS_JWT_SECRET" in started.stderr and "secrets.token_urlsafe" in started.stderr
    assert "Traceback" not in started.stderr


async def test_a_document_that_does_not_parse_is_answered_on_a_socket_too(edge: Edge) -> None:
    async with connect(edge.ws_url, subprotocols=[PROTOCOL]) as ws:
        await init(ws, f"Bearer {edge.client.token(Role.STOREFRONT)}")
        broken = {"query": "subscription { inventoryChanged { sku "}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": broken}))
        # graphql-transport-ws answers a document that does not parse by closing with 4400 and
        # the syntax error as the reason (not a bare `complete`, the fault's answer).
        code, reason = await closed_with(ws, timeout=10)
    assert code == 4400 and reason.startswith("Syntax Error"), (code, reason)
