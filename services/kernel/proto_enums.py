"""Protobuf enum values by their names without the prefix the style guide puts on them
(`LocationKind.LOCATION_KIND_RETURN_HUB` <-> `"RETURN_HUB"`), the names our domains use."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # the generic wrapper exists in the type stubs only
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

V = TypeVar("V", bound=int)


def snake_case(camel: str) -> str:
    """`"StockLevelChanged"` -> `"stock_level_changed"`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def _prefix(enum: _EnumTypeWrapper[V]) -> str:
    return snake_case(enum.DESCRIPTOR.name).upper() + "_"


def enum_name(enum: _EnumTypeWrapper[V], value: int) -> str:
    """`enum_name(LocationKind, 4)` -> `"RETURN_HUB"`.

    A number the enum does not define (proto3 enums accept any) comes back as its digits,
    which no domain name matches, so the domain's validation refuses it like any bad name.
    """
    if value not in enum.values():
        return str(value)
    number = enum.values()[enum.values().index(value)]  # the same number, typed as the enum's
    return enum.Name(number).removeprefix(_prefix(enum))


def enum_value(enum: _EnumTypeWrapper[V], name: str) -> V:
    """`enum_value(LocationKind, "RETURN_HUB")` -> `4`, typed as the enum's values."""
    return enum.Value(_prefix(enum) + name)
