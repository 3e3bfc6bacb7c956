"""One way every mutation answers: a payload holding the changed object, or the service's
refusal as `userErrors` with the input path at fault — so a resolver is one line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import grpc
import strawberry

from gateway.errors import UserError, user_error_from_rpc


@strawberry.type
class Payload:
    """The answer of a mutation: its object, or why it was refused."""

    user_errors: list[UserError] = strawberry.field(default_factory=list)


P = TypeVar("P", bound=Payload)
R = TypeVar("R")


async def answer(
    payload: type[P],
    call: Awaitable[R],
    *,
    argument: str | None = "input",
    paths: Mapping[str, str] | None = None,
    **fields: Callable[[R], Any],
) -> P:
    """Awaits the service's reply and builds `payload` from it, each keyword naming a payload
    field and how to make it from the reply:

        return await answer(UpsertSkuPayload, stub.UpsertSku(request), sku=Sku.from_proto)

    A refusal becomes the payload's `userErrors`, its field under `argument` (or at the place
    `paths` gives, see `graphql_field_path`); any other failure is a fault and propagates.
    """
    try:
        reply = await call
    except grpc.RpcError as error:
        return payload(user_errors=[user_error_from_rpc(error, argument, paths)])
    return payload(**{name: build(reply) for name, build in fields.items()})
