"""Service refusals in GraphQL: `userErrors` entries for mutations, coded errors for queries."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import grpc
import strawberry
from graphql import GraphQLError
from strawberry.utils.str_converters import to_camel_case

from services.kernel import errors as kernel_errors

T = TypeVar("T")

ErrorCode = strawberry.enum(kernel_errors.ErrorCode, name="ErrorCode")


@strawberry.type
class UserError:
    """A refused request: why, with a stable code, and the input path at fault."""

    field: str | None
    message: str
    code: ErrorCode


def graphql_field_path(argument: str, service_field: str | None) -> str | None:
    """`("input", "lines.0.unit_price_cents")` -> `"input.lines.0.unitPriceCents"`."""
    if not service_field:
        return None
    return ".".join([argument, *(to_camel_case(part) for part in service_field.split("."))])


def user_error_from_rpc(error: grpc.RpcError, argument: str) -> UserError:
    """The refusal a service answered with, its field path prefixed by the GraphQL argument.

    Anything else (unreachable service, deadline, bug) is re-raised: it is an internal fault,
    reported as a masked top-level error, not the caller's mistake.
    """
    refusal = kernel_errors.from_rpc_error(error)
    if refusal is None:
        raise error
    return UserError(
        field=graphql_field_path(argument, refusal.field),
        message=refusal.message,
        code=refusal.code,
    )


async def query_answer(call: Awaitable[T]) -> T:
    """The reply to a query's RPC. Queries have no `userErrors`, so a service's refusal becomes a
    top-level error with its code; anything else is re-raised, like in `user_error_from_rpc`."""
    try:
        return await call
    except grpc.RpcError as error:
        refusal = kernel_errors.from_rpc_error(error)
        if refusal is None:
            raise
        raise GraphQLError(refusal.message, extensions={"code": refusal.code.value}) from None
