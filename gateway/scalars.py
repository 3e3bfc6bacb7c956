"""The schema's own scalar: `Int64`, for figures that outgrow GraphQL's 32-bit `Int` — sums of
stock over locations, money totals.

It is sent as a JSON number, as `Int` is, so a client that reads numbers keeps working: only
the type's name is new. (JavaScript reads numbers exactly up to 2^53, 90 trillion in cents: far
past any total here.) Inputs keep `Int`: the contract fixes their types, and every input number
is bounded well within it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NewType

import strawberry
from graphql import IntValueNode, ValueNode
from strawberry.types.scalar import ScalarDefinition

from services.kernel.bounds import INT64_MAX

Int64 = NewType("Int64", int)


def _whole_number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"Int64 cannot represent {value!r}: not a whole number")
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise ValueError(f"Int64 cannot represent {value}: beyond 64 bits")
    return value


def _parse_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> int:
    if not isinstance(node, IntValueNode):
        raise TypeError("Int64 takes a whole number")
    return _whole_number(int(node.value))


SCALARS: Mapping[object, ScalarDefinition] = {
    Int64: strawberry.scalar(
        name="Int64",
        description="A whole number within 64 bits (±9.2·10^18), sent as a JSON number.",
        serialize=_whole_number,
        parse_value=_whole_number,
        parse_literal=_parse_literal,
    )
}
