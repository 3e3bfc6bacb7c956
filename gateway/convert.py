"""GraphQL inputs to requests and replies to GraphQL types, by field name (see
services/kernel/messages.py): an input field left out (UNSET) is a request field left unset."""

from __future__ import annotations

from typing import Any, TypeVar

from google.protobuf.message import Message
from strawberry.types.unset import UnsetType

from services.kernel.messages import from_message, to_message

M = TypeVar("M", bound=Message)
T = TypeVar("T")


class _Given:
    """An input's fields as a request sees them: UNSET reads as None."""

    def __init__(self, source: object) -> None:
        self._source = source

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._source, name)
        return None if isinstance(value, UnsetType) else value


def request(message_type: type[M], given: object, /, **overrides: object) -> M:
    """The request made of a GraphQL input's same-named fields."""
    return to_message(message_type, _Given(given), **overrides)


def reply(graphql_type: type[T], message: Message, /, **overrides: object) -> T:
    """The GraphQL type made of a reply's same-named fields."""
    return from_message(graphql_type, message, **overrides)
