"""What every answer of the gateway must look like, whatever it was sent: never a 5xx, the status
GraphQL over HTTP gives it, and each error coded from the documented set, with nothing in it of
the Python underneath (no trace, no exception name, no masked "Unexpected error")."""

from __future__ import annotations

import builtins
import json
import re
from typing import Any

import httpx

from gateway.document_errors import DocumentErrorCode
from gateway.edge import MediaType, RefusalCode
from gateway.errors import TIMEOUT, UNAVAILABLE
from gateway.permissions import FORBIDDEN, UNAUTHENTICATED
from services.kernel.errors import ErrorCode

USER_ERROR_CODES = frozenset(code.value for code in ErrorCode)
DOCUMENTED_CODES = frozenset(
    {
        *USER_ERROR_CODES,
        *(code.value for code in RefusalCode),
        *(code.value for code in DocumentErrorCode),
        UNAVAILABLE,
        TIMEOUT,
        FORBIDDEN,
        UNAUTHENTICATED,
    }
)
# Exception names of Python and of the libraries under the gateway, as a leaked one would read.
EXCEPTIONS = sorted(
    {
        *(
            name
            for name, value in vars(builtins).items()
            if isinstance(value, type) and issubclass(value, BaseException)
        ),
        "RpcError",
        "AioRpcError",
        "DomainError",
        "GraphQLError",
        "IntegrityError",
        "OperationalError",
        "StatementError",
    }
)
LEAK = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]*\.py\"|Unexpected error|"
    r"<[\w.]+ object at 0x|\b(" + "|".join(map(re.escape, EXCEPTIONS)) + r")\b"
)


def leaks(text: str) -> list[str]:
    """What in `text` reads like the inside of the server."""
    return [match.group(0) for match in LEAK.finditer(text)]


# The statuses of refusals at the edge, before any GraphQL (README, "Limits").
EDGE_STATUSES = {
    RefusalCode.BAD_REQUEST.value: 400,
    RefusalCode.JSON_TOO_DEEP.value: 400,
    RefusalCode.QUERY_TOO_LONG.value: 400,
    RefusalCode.METHOD_NOT_ALLOWED.value: 405,
    RefusalCode.REQUEST_TIMEOUT.value: 408,
    RefusalCode.REQUEST_TOO_LARGE.value: 413,
}


def expected_status(body: dict[str, Any], accept: MediaType, authenticated: bool) -> int:
    """The status this answer must have: 401 without a token; an edge refusal's own; with the
    GraphQL response media type 400 when nothing ran (no `data` entry), else 200; with JSON,
    200."""
    if not authenticated:
        return 401
    codes = [(error.get("extensions") or {}).get("code") for error in body.get("errors") or []]
    if len(codes) == 1 and codes[0] in EDGE_STATUSES and "data" not in body:
        return EDGE_STATUSES[codes[0]]
    if accept is MediaType.GRAPHQL_RESPONSE and "data" not in body:
        return 400
    return 200


def assert_well_formed(response: httpx.Response, accept: MediaType, authenticated: bool) -> None:
    """The answer is one of the documented shapes (see the module's docstring)."""
    assert response.status_code < 500, response.text
    body = response.json()
    assert isinstance(body, dict), response.text
    assert response.status_code == expected_status(body, accept, authenticated), response.text
    errors = body.get("errors") or []
    assert body.get("data") is not None or errors, response.text
    for error in errors:
        assert (error.get("extensions") or {}).get("code") in DOCUMENTED_CODES, error
    user_errors = [
        user_error
        for payload in (body.get("data") or {}).values()
        if isinstance(payload, dict)
        for user_error in payload.get("userErrors") or []
    ]
    # A generated selection may leave `code` out.
    assert all(e.get("code", "INVALID_INPUT") in USER_ERROR_CODES for e in user_errors), user_errors
    assert not leaks(json.dumps([errors, user_errors], ensure_ascii=False)), response.text
