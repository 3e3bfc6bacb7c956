"""The services the gateway really calls, found in its code rather than listed by hand.

Every call to a service goes through `services[<Service>Stub]`, so the stub class is named in the
function that calls it, or in a function of the gateway that it calls. Following the schema's
resolvers (and the context they share, which holds the loaders) through the gateway's own
functions to the stub classes they name gives the services a request can reach: readiness waits
for those, and a service no operation calls yet cannot hold the gateway back.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from types import CodeType, FunctionType
from typing import Any

import strawberry
from strawberry.types.base import StrawberryObjectDefinition

from gateway.context import Context
from gateway.services import stub_type
from services.kernel.settings import SERVICE_NAMES

GATEWAY_PACKAGE = "gateway"


def services_called(schema: strawberry.Schema) -> frozenset[str]:
    """Names of the services whose stubs the schema's resolvers (or the shared context) name."""
    by_stub = {stub_type(name): name for name in SERVICE_NAMES}
    roots: list[object] = [*resolvers(schema), Context.create]
    return frozenset(by_stub[found] for found in classes_reached(roots) if found in by_stub)


def resolvers(schema: strawberry.Schema) -> Iterator[object]:
    """The functions behind the schema's fields, on every type it has."""
    for concrete in schema.schema_converter.type_map.values():
        definition = concrete.definition
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for field in definition.fields:
            if field.base_resolver is not None:
                yield field.base_resolver.wrapped_func


def classes_reached(roots: Iterable[object]) -> set[type]:
    """Every class the roots name as a global, and those named by the gateway's functions and
    classes they name in turn (a resolver calling a helper that names the stub)."""
    found: set[type] = set()
    pending: list[Any] = [getattr(root, "__func__", root) for root in roots]
    seen: set[int] = set()
    while pending:
        function = inspect.unwrap(pending.pop())
        if id(function) in seen or not isinstance(function, FunctionType):
            continue
        seen.add(id(function))
        for value in _globals_named(function):
            if isinstance(value, type):
                found.add(value)
            pending.extend(_gateway_functions(value))
    return found


def _globals_named(function: FunctionType) -> Iterator[object]:
    namespace = function.__globals__
    for name in _names(function.__code__):
        if name in namespace:
            yield namespace[name]


def _names(code: CodeType) -> Iterator[str]:
    """Names a code object uses, including those of the functions and comprehensions in it."""
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _names(constant)


def _gateway_functions(value: object) -> Iterator[Any]:
    """`value` when it is a function of the gateway, or the methods of a gateway class."""
    module = getattr(value, "__module__", "") or ""
    if not module.startswith(GATEWAY_PACKAGE + "."):
        return
    if isinstance(value, FunctionType):
        yield value
    elif isinstance(value, type):
        for member in vars(value).values():
            function = getattr(member, "__func__", member)  # classmethods and staticmethods
            if isinstance(function, FunctionType):
                yield function
