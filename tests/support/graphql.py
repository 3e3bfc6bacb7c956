"""The one GraphQL client of the tests and the bench: JSON over HTTP to the gateway, as any role."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypedDict, Unpack

import httpx

from gateway.auth import issue_token
from services.kernel.caller import Role

PATH = "/graphql"
# The channels a storefront's token names unless a request says others.
STOREFRONT_CHANNELS = ("web",)


class Who(TypedDict, total=False):
    """Whom a request is for, besides its role: a token given as is, or what to mint one with."""

    location: str | None
    subject: str | None
    channels: tuple[str, ...] | None
    token: str | None


class Requester(Who, total=False):
    """Whom a request is for, role included: what a test spreads into a request as `**requester`
    to send it as someone else."""

    role: Role


@dataclass(frozen=True)
class Answer:
    """One response: its data, top-level errors, the payload's userErrors and the latency."""

    data: dict[str, Any] | None
    errors: list[dict[str, Any]]
    user_errors: list[dict[str, Any]]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.errors and not self.user_errors


class GraphQLClient:
    """Speaks GraphQL to the gateway at `base_url` over one keep-alive connection pool.

    Each request carries a bearer token: the one it is given, or one minted with `signing_key`
    for its role. A scanner's token names `scanner_location` unless the request names another.
    """

    def __init__(
        self,
        base_url: str,
        signing_key: bytes | None = None,
        *,
        scanner_location: str | None = None,
        timeout: float = 30.0,
        connections: int = 100,
    ) -> None:
        # Every connection kept alive: the bench sizes the pool to its concurrency, so that no
        # request waits for a connection or a handshake and latency is the gateway's alone.
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.base_url = base_url.rstrip("/")
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, limits=limits)
        self.signing_key = signing_key
        self.scanner_location = scanner_location

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.http.aclose()

    @property
    def ws_url(self) -> str:
        """Where subscriptions are served (graphql-transport-ws)."""
        return self.base_url.replace("http", "ws", 1) + PATH

    def token(
        self,
        role: Role = Role.ADMIN,
        location: str | None = None,
        subject: str | None = None,
        channels: tuple[str, ...] | None = None,
    ) -> str:
        """A bearer token for `role`, with the same subject on every request unless told another,
        so that a storefront sees the orders it placed a request ago; a storefront's names
        `channels` (by default STOREFRONT_CHANNELS)."""
        if self.signing_key is None:
            raise ValueError("this client has no signing key: give each request its token")
        at = (location or self.scanner_location) if role is Role.SCANNER else None
        sells_on = (channels or STOREFRONT_CHANNELS) if role is Role.STOREFRONT else ()
        return issue_token(
            self.signing_key, role, at, subject=subject or f"{role}-a", channels=sells_on
        )

    async def response(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        role: Role = Role.ADMIN,
        **who: Unpack[Who],
    ) -> httpx.Response:
        """The raw response, for the tests of status codes and headers."""
        token = who.get("token") or self.token(
            role, who.get("location"), who.get("subject"), who.get("channels")
        )
        return await self._send(token, document, variables or {})

    async def post(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        role: Role = Role.ADMIN,
        **who: Unpack[Who],
    ) -> dict[str, Any]:
        """The JSON body of a response that must be 200, errors and all."""
        response = await self.response(document, variables, role, **who)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def data(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        role: Role = Role.ADMIN,
        **who: Unpack[Who],
    ) -> dict[str, Any]:
        """The `data` of a response that must carry no top-level errors."""
        body = await self.post(document, variables, role, **who)
        assert "errors" not in body, body
        return dict(body["data"])

    async def call(self, token: str, document: str, **variables: Any) -> Answer:
        """Sends one operation, asserting nothing; latency runs from just before sending to the
        whole body read."""
        started = time.perf_counter()
        response = await self._send(token, document, variables)
        seconds = time.perf_counter() - started
        parsed = response.json()
        data = parsed.get("data")
        user_errors = [
            error
            for payload in (data or {}).values()
            if isinstance(payload, dict)
            for error in payload.get("userErrors") or []
        ]
        return Answer(data, list(parsed.get("errors") or []), user_errors, seconds)

    async def root_fields(self, token: str, type_name: str) -> set[str]:
        """The fields the schema serves on a root type (`Mutation`, `Query`), by introspection."""
        document = "query($name: String!) { __type(name: $name) { fields { name } } }"
        answer = await self.call(token, document, name=type_name)
        described = (answer.data or {}).get("__type") or {}
        return {field["name"] for field in described.get("fields") or []}

    async def _send(
        self, token: str, document: str, variables: Mapping[str, Any]
    ) -> httpx.Response:
        body = {"query": document, "variables": dict(variables)}
        headers = {"Authorization": f"Bearer {token}"}
        return await self.http.post(PATH, json=body, headers=headers)
