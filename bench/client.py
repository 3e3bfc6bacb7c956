"""GraphQL over HTTP on one keep-alive connection pool, timing each request on the client side."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx


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
    def __init__(self, base_url: str, connections: int) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(30.0),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def call(self, token: str, document: str, **variables: Any) -> Answer:
        """Sends one operation; latency runs from just before sending to the whole body read."""
        body = {"query": document, "variables": variables}
        headers = {"Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        response = await self._http.post("/graphql", json=body, headers=headers)
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
