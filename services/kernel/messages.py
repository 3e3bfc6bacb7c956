"""Protobuf messages to and from plain objects by field name, so that a field added to a
message and to a dataclass (or a GraphQL type) needs no converter line between them.

Conventions the protos follow, which the conversion relies on: an enum's values carry the
enum's name as prefix (`LOCATION_KIND_RETURN_HUB`, see `proto_enums`); times travel as RFC 3339
text; a field that may be left out is `optional`, and None on the Python side.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar, cast

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from services.kernel.proto_enums import snake_case

M = TypeVar("M", bound=Message)
T = TypeVar("T")


def to_message(message_type: type[M], source: object, /, **overrides: object) -> M:
    """A `message_type` whose fields take the same-named attributes of `source`.

    Enum members (by name) become the proto enum's numbers, datetimes RFC 3339 text, nested
    objects nested messages; None leaves a field unset. `overrides` give fields by name,
    for those `source` has under another name or not at all.
    """
    message = message_type()
    fields = cast(list[FieldDescriptor], list(message_type.DESCRIPTOR.fields))
    for field in fields:
        if field.name in overrides:
            value = overrides[field.name]
        elif hasattr(source, field.name):
            value = getattr(source, field.name)
        else:
            continue
        _assign(message, field, value)
    return message


def _assign(message: Message, field: FieldDescriptor, value: object) -> None:
    if value is None or (field.enum_type is not None and value == ""):
        return  # left out; an enum's empty name is its unspecified value
    if field.is_repeated:
        items = [_wire_value(field, item) for item in cast(Iterable[object], value)]
        getattr(message, field.name).extend(items)
    elif field.message_type is not None:
        getattr(message, field.name).CopyFrom(_wire_value(field, value))
    else:
        setattr(message, field.name, _wire_value(field, value))


def _wire_value(field: FieldDescriptor, value: object) -> Any:
    if field.message_type is not None:
        if isinstance(value, Message):
            return value
        return to_message(GetMessageClass(field.message_type), value)
    if field.enum_type is not None:
        if isinstance(value, int):
            return value
        name = value.name if isinstance(value, enum.Enum) else str(value)
        return field.enum_type.values_by_name[_enum_prefix(field.enum_type.name) + name].number
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def from_message(target: type[T], message: Message, /, **overrides: object) -> T:
    """A `target` (a dataclass) built from the message's same-named fields.

    Enum numbers become the field's enum type (by name, without the proto prefix); an unset
    optional field, and empty text where the target allows None (a datetime, an optional
    string), become None; nested messages become the field's dataclass type. `overrides` give
    fields by name.
    """
    proto_fields = message.DESCRIPTOR.fields_by_name
    values: dict[str, object] = {}
    for target_field in _target_fields(cast(Any, target)):
        name = target_field.name
        if name in overrides:
            values[name] = overrides[name]
        elif name in proto_fields:
            proto_field = cast(FieldDescriptor, proto_fields[name])
            values[name] = _python_value(message, proto_field, target_field)
    return target(**values)


@dataclasses.dataclass(frozen=True)
class _TargetField:
    """A dataclass field and its resolved type: `kind` without `| None`, `item` inside a
    list or tuple."""

    name: str
    hint: Any
    kind: Any
    item: Any


@functools.cache
def _target_fields(target: type[Any]) -> tuple[_TargetField, ...]:
    # Once per class: resolving the annotations (get_type_hints) costs far more than a
    # conversion, and the gateway converts every answer it returns.
    hints = typing.get_type_hints(target)
    # A field without an annotation of its own (a GraphQL type's resolver) is never filled
    # from the message; Any stands in for its type.
    typed = ((f.name, hints.get(f.name, Any)) for f in dataclasses.fields(target))
    return tuple(_TargetField(name, h, _concrete(h), _item_type(h)) for name, h in typed)


@functools.cache
def _enum_prefix(enum_name: str) -> str:
    """`LocationKind` -> `LOCATION_KIND_`: what the proto's values of that enum start with."""
    return snake_case(enum_name).upper() + "_"


def _python_value(message: Message, field: FieldDescriptor, target: _TargetField) -> object:
    if field.has_presence and not field.is_repeated:
        if not message.HasField(field.name):
            return None
    raw = getattr(message, field.name)
    kind = target.kind
    if raw == "" and kind is not target.hint:
        return None  # text that may be absent: proto3 sends its absence as ""
    if field.is_repeated:
        items = [_convert(field, value, target.item) for value in raw]
        return items if typing.get_origin(kind) is list else tuple(items)
    return _convert(field, raw, kind)


def _convert(field: FieldDescriptor, raw: object, kind: Any) -> object:
    if field.enum_type is not None and isinstance(kind, type) and issubclass(kind, enum.Enum):
        if raw not in field.enum_type.values_by_number or raw == 0:  # unknown or unspecified
            return None
        name = field.enum_type.values_by_number[cast(int, raw)].name
        return kind[name.removeprefix(_enum_prefix(field.enum_type.name))]
    if isinstance(raw, str) and isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind[raw] if raw else None  # an enum the message carries by name
    if field.message_type is not None and dataclasses.is_dataclass(kind):
        return from_message(cast(type[Any], kind), cast(Message, raw))
    if kind is datetime:
        return datetime.fromisoformat(str(raw)) if raw else None
    return raw


def _concrete(hint: Any) -> Any:
    """`X | None` -> `X`."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return options[0] if len(options) == 1 else hint
    return hint


def _item_type(hint: Any) -> Any:
    """`tuple[X, ...]` or `list[X]` -> `X`."""
    args = typing.get_args(_concrete(hint))
    return args[0] if args else Any


def fields_of(source: object) -> Mapping[str, object]:
    """A dataclass's fields by name (for overrides built from another object)."""
    return {f.name: getattr(source, f.name) for f in dataclasses.fields(cast(Any, source))}
