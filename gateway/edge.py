"""What the gateway checks of a request before parsing it — its size, how long it takes to arrive,
the nesting of its JSON — and the refusals it answers with, each with a stable code."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from enum import StrEnum
from http import HTTPStatus

from cross_web import HTTPException
from starlette.responses import JSONResponse
from starlette.types import Message, Receive

from gateway.permissions import UNAUTHENTICATED

# A JSON string, escapes included: brackets inside one do not nest anything.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_STRING_BYTES = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_BRACKET_BYTES = re.compile(rb"[\[\]{}]")


class RefusalCode(StrEnum):
    """Why the gateway refused a request before running any operation in it."""

    BAD_REQUEST = "BAD_REQUEST"
    UNAUTHENTICATED = UNAUTHENTICATED
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    JSON_TOO_DEEP = "JSON_TOO_DEEP"
    QUERY_TOO_LONG = "QUERY_TOO_LONG"


class Refusal(HTTPException):
    """A request refused at the edge: its HTTP status, stable code, message and headers."""

    def __init__(
        self,
        status: HTTPStatus,
        code: RefusalCode,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, message)
        self.code = code
        self.headers = dict(headers or {})


class JsonTooDeep(json.JSONDecodeError):
    """JSON nested deeper than the gateway parses (a decode error, so every reader refuses it)."""

    def __init__(self, document: str | bytes, limit: int) -> None:
        text = document if isinstance(document, str) else document.decode("utf-8", "replace")
        super().__init__(f"JSON nested deeper than {limit} levels", text, 0)
        self.limit = limit


def nested_deeper_than(document: str | bytes, limit: int) -> bool:
    """Whether arrays and objects in `document` nest deeper than `limit`, found without parsing
    it (the parser recurses once per level, so depth is what must be bounded before it runs)."""
    if isinstance(document, bytes):
        brackets = _BRACKET_BYTES.findall(_STRING_BYTES.sub(b"", document))
        opening: tuple[str | bytes, ...] = (b"[", b"{")
    else:
        brackets, opening = _BRACKET.findall(_STRING.sub("", document)), ("[", "{")
    depth = 0
    for bracket in brackets:
        depth += 1 if bracket in opening else -1
        if depth > limit:
            return True
    return False


async def read_body(receive: Receive, max_bytes: int, timeout_seconds: float) -> bytes:
    """The request body, refused once it passes `max_bytes` (before the rest is read) or when
    it takes longer than `timeout_seconds` to arrive."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_seconds):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise Refusal(HTTPStatus.BAD_REQUEST, RefusalCode.BAD_REQUEST, "Disconnected")
                chunk: bytes = message.get("body", b"")
                size += len(chunk)
                if size > max_bytes:
                    raise too_large(max_bytes)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        raise Refusal(
            HTTPStatus.REQUEST_TIMEOUT,
            RefusalCode.REQUEST_TIMEOUT,
            f"The request body did not arrive within {timeout_seconds:g} seconds",
        ) from None


def query_too_long(query: object, max_chars: int) -> Refusal | None:
    """The refusal of a document longer than `max_chars`; None for any other.

    Checked where documents come in, before the schema parses them: the parser and validation
    caches are keyed by the whole text, comments included.
    """
    if not isinstance(query, str) or len(query) <= max_chars:
        return None
    return Refusal(
        HTTPStatus.BAD_REQUEST,
        RefusalCode.QUERY_TOO_LONG,
        f"The GraphQL document is longer than {max_chars} characters",
    )


def too_large(max_bytes: int) -> Refusal:
    return Refusal(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        RefusalCode.REQUEST_TOO_LARGE,
        f"The request body is larger than {max_bytes} bytes",
    )


def declared_length(headers: Mapping[str, str]) -> int | None:
    """The body size the client announced (Content-Length), when it announced a valid one."""
    value = headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the body already read to whoever reads the request next, then
    passes on what the connection says (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


class MediaType(StrEnum):
    """The JSON media types GraphQL over HTTP answers in."""

    GRAPHQL_RESPONSE = "application/graphql-response+json"
    JSON = "application/json"

    @property
    def content_type(self) -> str:
        return f"{self.value}; charset=utf-8"


def answer_media_type(accept: str | None) -> MediaType:
    """The media type to answer in: `application/graphql-response+json` when the client prefers
    it, else `application/json` (also for `*/*`, no Accept header, or only types we lack, as
    the GraphQL-over-HTTP spec asks of servers that still serve legacy clients)."""
    ranked: list[tuple[float, int, str]] = []
    for position, entry in enumerate((accept or "").lower().split(",")):
        media, *parameters = (part.strip() for part in entry.split(";"))
        options = dict(p.partition("=")[::2] for p in parameters)
        if options.get("charset", "utf-8").strip('"') != "utf-8":
            continue
        try:
            quality = float(options.get("q", "1"))
        except ValueError:
            continue
        if quality > 0:
            ranked.append((-quality, position, media))
    for _, _, media in sorted(ranked):
        if media == MediaType.GRAPHQL_RESPONSE:
            return MediaType.GRAPHQL_RESPONSE
        if media in ("application/json", "application/*", "*/*"):
            return MediaType.JSON
    return MediaType.JSON


def refusal_response(refusal: HTTPException, media_type: MediaType) -> JSONResponse:
    """A refusal outside of execution, shaped like any GraphQL error response."""
    code = refusal.code if isinstance(refusal, Refusal) else _code_of(refusal.status_code)
    headers = dict(refusal.headers) if isinstance(refusal, Refusal) else {}
    if refusal.status_code == HTTPStatus.UNAUTHORIZED:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        {"errors": [{"message": refusal.reason, "extensions": {"code": code}}]},
        status_code=refusal.status_code,
        headers=headers,
        media_type=media_type.content_type,
    )


def _code_of(status: int) -> str:
    """The code of a refusal strawberry raised, by its status."""
    if status == HTTPStatus.UNAUTHORIZED:
        return RefusalCode.UNAUTHENTICATED
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        return RefusalCode.METHOD_NOT_ALLOWED
    return RefusalCode.BAD_REQUEST
