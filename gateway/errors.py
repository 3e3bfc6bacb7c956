"""Service refusals in GraphQL: `userErrors` entries for mutations, coded errors for queries;
and the one place a service that is away becomes a coded top-level error (UNAVAILABLE, TIMEOUT)
while every other fault is masked."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TypeVar

import grpc
import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.utils.str_converters import to_camel_case

from services.kernel import errors as kernel_errors

T = TypeVar("T")

# The kernel's codes, registered as the schema's ErrorCode enum.
ErrorCode = kernel_errors.ErrorCode
strawberry.enum(ErrorCode, name="ErrorCode")

# Top-level codes of a request a service could not answer: the client may retry.
UNAVAILABLE = "UNAVAILABLE"
TIMEOUT = "TIMEOUT"
# An internal fault, its message masked ("Unexpected error."): a bug to report, not to retry.
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
UNEXPECTED_ERROR = "Unexpected error."
AWAY = {
    grpc.StatusCode.UNAVAILABLE: (
        UNAVAILABLE,
        "A service this request needs is unavailable; retry shortly.",
    ),
    grpc.StatusCode.DEADLINE_EXCEEDED: (
        TIMEOUT,
        "A service this request needs did not answer in time. A change it asked for may or may "
        "not have been made: retry it with the same idempotency key (or external id).",
    ),
}


@strawberry.type
class UserError:
    """A refused request: why, with a stable code, and the input path at fault."""

    field: str | None
    message: str
    code: ErrorCode


def graphql_field_path(
    argument: str | None, service_field: str | None, paths: Mapping[str, str] | None = None
) -> str | None:
    """Where the service's field is in the GraphQL request.

    Under an input argument: `("input", "lines.0.unit_price_cents")` ->
    `"input.lines.0.unitPriceCents"`. With no argument, the service's fields are the root
    field's own arguments: `(None, "tracking_number")` -> `"trackingNumber"`. `paths` names
    the GraphQL place of service fields called differently there, by their leading segments:
    with `{"serials": "serialNumbers"}`, `"serials.0.serial_numbers"` ->
    `"serialNumbers.0.serialNumbers"` (the longest matching prefix wins).
    """
    if not service_field:
        return None
    parts = service_field.split(".")
    for size in range(len(parts), 0, -1):
        prefix = ".".join(parts[:size])
        if paths and prefix in paths:
            return ".".join([paths[prefix], *(to_camel_case(p) for p in parts[size:])])
    path = [to_camel_case(part) for part in parts]
    return ".".join([argument, *path] if argument else path)


def user_error_from_rpc(
    error: grpc.RpcError, argument: str | None, paths: Mapping[str, str] | None = None
) -> UserError:
    """The refusal a service answered with, its field path in GraphQL (`graphql_field_path`).

    Anything else (unreachable service, deadline, bug) is re-raised: it is an internal fault,
    reported as a masked top-level error, not the caller's mistake.
    """
    refusal = kernel_errors.from_rpc_error(error)
    if refusal is None:
        raise error
    return UserError(
        field=graphql_field_path(argument, refusal.field, paths),
        message=refusal.message,
        code=refusal.code,
    )


def not_served_yet(field: str, name: str) -> UserError:
    """The refusal of an input field the contract names before the system acts on it: refused,
    not silently ignored, so a client never believes it took effect."""
    return UserError(field=field, message=f"{name} is not served yet", code=ErrorCode.INVALID_INPUT)


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


def away(error: BaseException | None) -> tuple[str, str] | None:
    """(code, message) when `error` is a call to a service that is unreachable or past its
    deadline; None for anything else."""
    if isinstance(error, grpc.aio.AioRpcError):
        return AWAY.get(error.code())
    return None


class MaskFaults(MaskErrors):
    """Masks internal faults ("Unexpected error.", code INTERNAL_SERVER_ERROR), except a
    service that is away: that answers its code (`away`), so a client can tell a retry may
    help."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        code, message = away(error.original_error) or (INTERNAL_SERVER_ERROR, self.error_message)
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": code},
        )
