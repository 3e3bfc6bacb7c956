"""Every error of a document refused unrun carries the code of the step that refused it: parse,
token/depth/alias limits, validation, variables; faults are coded too, their message masked."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError

from gateway.document_errors import DocumentErrorCodes
from gateway.schema import build_schema
from gateway.settings import QueryLimits
from services.kernel.caller import Role
from tests.fakes.gateway import FakeInventory, context_for

LIMITS = QueryLimits(max_depth=2, max_aliases=2, max_tokens=40)
ALIASES = "{ a: locations { code } b: locations { code } c: locations { code } }"
TOO_DEEP = (
    'mutation { upsertChannel(input: {code: "web", defaultSafetyStock: 1}) '
    "{ channel { safetyStock { sku } } } }"
)
MANY_TOKENS = "{ " + " ".join(f"l{i}: locations {{ code }}" for i in range(10)) + " }"
AVAILABILITY = (
    'query($skus: [String!]!) { availability(skus: $skus, channel: "web") { sku available } }'
)

CASES = [
    pytest.param("{ locations { code ", None, "GRAPHQL_PARSE_FAILED", id="unterminated"),
    pytest.param("query { ! }", None, "GRAPHQL_PARSE_FAILED", id="bad-token"),
    pytest.param(MANY_TOKENS, None, "TOO_MANY_TOKENS", id="tokens"),
    pytest.param(TOO_DEEP, None, "QUERY_TOO_DEEP", id="depth"),
    pytest.param(ALIASES, None, "TOO_MANY_ALIASES", id="aliases"),
    pytest.param("{ locations { nope } }", None, "GRAPHQL_VALIDATION_FAILED", id="unknown-field"),
    pytest.param("{ availability { sku } }", None, "GRAPHQL_VALIDATION_FAILED", id="no-arg"),
    pytest.param(AVAILABILITY, {}, "BAD_USER_INPUT", id="variable-missing"),
    pytest.param(AVAILABILITY, {"skus": [1, {"a": 2}]}, "BAD_USER_INPUT", id="variable-type"),
]


@pytest.mark.parametrize(("document", "variables", "code"), CASES)
async def test_a_refused_document_carries_the_code_of_the_step_that_refused_it(
    document: str, variables: dict[str, Any] | None, code: str
) -> None:
    result = await build_schema(LIMITS).execute(
        document, variable_values=variables, context_value=context_for(Role.ADMIN)
    )
    assert result.data is None
    assert result.errors
    assert {(error.extensions or {}).get("code") for error in result.errors} == {code}, [
        error.formatted for error in result.errors
    ]


async def test_a_cached_validation_error_keeps_its_code_from_request_to_request() -> None:
    schema = build_schema(LIMITS)
    for _ in range(2):
        result = await schema.execute(ALIASES, context_value=context_for(Role.ADMIN))
        assert [e.extensions for e in result.errors or []] == [{"code": "TOO_MANY_ALIASES"}]


async def test_a_field_error_keeps_the_code_it_was_raised_with() -> None:
    result = await build_schema().execute(
        "{ locations { code } }", context_value=context_for(Role.STOREFRONT)
    )
    assert [e.extensions for e in result.errors or []] == [{"code": "FORBIDDEN"}]


async def test_an_internal_fault_is_coded_and_masked() -> None:
    inventory = FakeInventory(fail_with=RuntimeError("password=hunter2"))
    result = await build_schema().execute(
        "{ locations { code } }", context_value=context_for(Role.ADMIN, inventory)
    )
    assert [e.formatted for e in result.errors or []] == [
        {
            "message": "Unexpected error.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["locations"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]


def test_a_field_error_graphql_raised_itself_is_coded_and_masked() -> None:
    raised = GraphQLError(
        "Int cannot represent non 32-bit signed integer value: 3000000000", path=["availability"]
    )
    coded = DocumentErrorCodes(max_tokens=LIMITS.max_tokens).coded(raised)
    assert (coded.message, coded.path, coded.extensions) == (
        "Unexpected error.",
        ["availability"],
        {"code": "INTERNAL_SERVER_ERROR"},
    )
