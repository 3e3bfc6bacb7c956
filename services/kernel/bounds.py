"""The bounds every input keeps — lengths, counts and ranges — shared by the services' rules and
the gateway's edge, and the check that finds the first value out of bounds in a request.

Text is refused when it holds a NUL byte (PostgreSQL cannot store one, so it would surface as a
fault on one backend and pass on the other) or a lone surrogate (not text at all: no UTF-8
encoding exists for it). Numbers are bounded so that every stored figure fits its column and
every total fits the gateway's 64-bit integers.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from services.kernel.errors import DomainError, ErrorCode

# Text, in characters.
MAX_CODE = 64  # a location, SKU or channel code
MAX_ID = 64  # an id the system issued (a UUID is 36)
MAX_TEXT = 200  # a name, a title, a reason, a part of an address
MAX_EXTERNAL_ID = 128  # an order's id in its sales channel
MAX_EMAIL = 320
MAX_SERIAL = 128
MAX_KEY = 128  # an idempotency key
MAX_POSTAL_CODE = 32
MAX_NOTES = 2000
MAX_CSV_BYTES = 1024 * 1024  # a wholesale order file
# Items in one request.
MAX_LINES = 200  # lines of an order or a return
MAX_CODES = 500  # SKUs, locations, orders or returns asked about at once
MAX_INSPECTED_UNITS = 1000  # units scanned in one inspection
MAX_CHANNELS = 50  # channels one storefront sells on
# Numbers.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
MAX_UNITS = 100_000  # units of one line of an order, a return or a work order
MAX_LEVEL_UNITS = 1_000_000_000  # units of one SKU in one state at one location
MAX_CENTS = INT32_MAX  # a price or cost per unit

# What any request may hold at most, whatever the field: the services' rules bound each field
# more tightly; this catches the field a rule forgot before it reaches a database.
MAX_ANY_TEXT = 4000
MAX_ANY_ITEMS = 5000


def text_problem(value: str, max_length: int) -> str | None:
    """Why `value` is not text the system keeps within `max_length` characters; None when it is."""
    if len(value) > max_length:
        return f"at most {max_length} characters"
    if "\x00" in value:
        return "no NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "text only (no lone surrogates)"
    return None


def require_text(
    value: str, field: str, what: str, max_length: int = MAX_TEXT, *, required: bool = True
) -> str:
    """The text trimmed; INVALID_INPUT on `field` when it is blank (and `required`), longer than
    `max_length` or not text (`text_problem`)."""
    text = value.strip()
    problem = text_problem(value, max_length)
    if problem is None and required and not text:
        problem = "not blank"
    if problem is not None:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{what} must be {problem}", field)
    return text


def require_code(value: str, field: str, what: str) -> str:
    """A business code: trimmed, 1-MAX_CODE printable characters without spaces."""
    code = value.strip()
    if (
        not code
        or len(code) > MAX_CODE
        or not code.isprintable()
        or any(ch.isspace() for ch in code)
        or text_problem(code, MAX_CODE) is not None
    ):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"{what} must be 1-{MAX_CODE} characters without spaces",
            field,
        )
    return code


def require_count(items: Sequence[object], field: str, most: int, what: str = "items") -> None:
    """INVALID_INPUT on `field` when there are more than `most` items."""
    if len(items) > most:
        raise DomainError(ErrorCode.INVALID_INPUT, f"at most {most} {what}", field)


def require_range(value: int, field: str, what: str, least: int, most: int) -> int:
    """INVALID_INPUT on `field` unless least <= value <= most."""
    if not least <= value <= most:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{what} must be within {least}..{most}", field)
    return value


def out_of_bounds(
    value: object,
    path: str = "",
    max_text: int = MAX_ANY_TEXT,
    max_items: int = MAX_ANY_ITEMS,
    text_bounds: dict[str, int] | None = None,
) -> DomainError | None:
    """The first string or list in `value` out of bounds, as an INVALID_INPUT refusal on its
    path (`lines.3.sku`); None when everything is within.

    `value` is a protobuf message, a dataclass (a GraphQL input), a list or plain text; fields
    are walked by name. A string may hold `text_bounds[name]` characters (its field's name, or
    its list's), else `max_text`; a list `max_items` items. Nothing is walked twice and lists
    are checked before their items, so a huge request is refused at its first excess.
    """
    bounds = text_bounds or {}
    pending: list[tuple[str, str, object]] = [(path, path.rpartition(".")[2], value)]
    while pending:
        where, name, item = pending.pop()
        if isinstance(item, str):
            problem = text_problem(item, bounds.get(name, max_text))
            if problem is not None:
                return DomainError(ErrorCode.INVALID_INPUT, f"must be {problem}", where or None)
        elif isinstance(item, (bytes, int, float, bool, enum.Enum)) or item is None:
            continue
        elif isinstance(item, Message):
            pending.extend(_message_fields(item, where))
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            pending.extend(
                (_join(where, f.name), f.name, getattr(item, f.name))
                for f in dataclasses.fields(item)
            )
        elif isinstance(item, Sequence):  # a list, a tuple, a protobuf repeated field
            items = list(item)
            if len(items) > max_items:
                return DomainError(
                    ErrorCode.INVALID_INPUT, f"must hold at most {max_items} items", where or None
                )
            pending.extend((_join(where, str(i)), name, x) for i, x in enumerate(items))
    return None


def _message_fields(message: Message, where: str) -> list[tuple[str, str, object]]:
    found: list[tuple[str, str, object]] = []
    for field, value in message.ListFields():
        descriptor: FieldDescriptor = field
        found.append((_join(where, descriptor.name), descriptor.name, value))
    return found


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
