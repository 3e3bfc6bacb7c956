"""The gateway's edge bound: every argument of every root field is checked before its resolver
runs — no text longer than its bound, none holding a NUL byte or a lone surrogate, no list
longer than its bound — so that no oversized or malformed value reaches a service, a protobuf
message or a database.

The services bound each field exactly (a channel is a 64-character code, an email 320
characters, ...: services/kernel/bounds.py) and answer with the same code and path; this edge
is the coarse guard in front of them, with room for the longest field of each kind.
"""

from __future__ import annotations

import inspect
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from gateway.errors import UserError, graphql_field_path
from gateway.mutations import Payload
from services.kernel import bounds
from services.kernel.errors import ErrorCode

# Any argument's text, and any list, at most; the fields below may be longer.
MAX_TEXT = bounds.MAX_TEXT
MAX_ITEMS = bounds.MAX_INSPECTED_UNITS
# A work order record's result holds a data-wipe certificate; a csv is a wholesale file.
LONGER_TEXT = {
    "notes": bounds.MAX_NOTES,
    "email": bounds.MAX_EMAIL,
    "result": bounds.MAX_NOTES,
    "csv": bounds.MAX_CSV_BYTES,
}


def argument_refusal(arguments: dict[str, Any]) -> UserError | None:
    """The first argument value out of bounds, as the refusal to answer with (its field is the
    GraphQL path: `input.shipTo.line1`); None when every argument is within."""
    for name, value in arguments.items():
        found = bounds.out_of_bounds(value, name, MAX_TEXT, MAX_ITEMS, LONGER_TEXT)
        if found is not None:
            return UserError(
                field=graphql_field_path(None, found.field),
                message=f"{graphql_field_path(None, found.field)} {found.message}",
                code=found.code,
            )
    return None


class InputBounds(FieldExtension):
    """Refuses a root field's call whose arguments are out of bounds (`argument_refusal`): a
    mutation answers its payload with the refusal as `userErrors`, a query or subscription a
    top-level error with its code."""

    def apply(self, field: StrawberryField) -> None:
        self._field = field

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        refusal = argument_refusal(kwargs)
        if refusal is not None:
            payload: object = self._field.type
            if isinstance(payload, type) and issubclass(payload, Payload):
                return payload(user_errors=[refusal])
            raise GraphQLError(refusal.message, extensions={"code": ErrorCode.INVALID_INPUT.value})
        result = next_(source, info, **kwargs)
        return result if inspect.isasyncgen(result) else await result
