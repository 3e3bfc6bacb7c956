"""The gateway's way to the services: one gRPC stub per service, looked up by the stub's type,
so a resolver writes `info.context.services[OrdersServiceStub].PlaceOrder(...)` and a new
service needs no field of its own anywhere in the gateway. Every call carries whom it is for
(`Caller.metadata`), so the services decide what that caller may see and do."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import grpc

from services.kernel.caller import Caller

T = TypeVar("T")


def stub_type(service: str) -> type[Any]:
    """The generated stub class of a service: the one `*ServiceStub` in `oms.<name>.v1`."""
    module = importlib.import_module(f"oms.{service}.v1.{service}_pb2_grpc")
    (found,) = (value for name, value in vars(module).items() if name.endswith("ServiceStub"))
    return cast(type[Any], found)


class ServiceNotConfigured(LookupError):
    """The gateway was started without a target for a service a resolver needs (a fault)."""


class _OnBehalfOf:
    """A stub whose every call carries the caller's metadata."""

    def __init__(self, stub: object, metadata: tuple[tuple[str, str], ...]) -> None:
        self._stub = stub
        self._metadata = metadata

    def __getattr__(self, name: str) -> Any:
        return functools.partial(getattr(self._stub, name), metadata=self._metadata)


class ServiceStubs:
    """The stubs of the services the gateway reaches, by type."""

    def __init__(self, stubs: Mapping[type[Any], object], caller: Caller | None = None) -> None:
        self._stubs = dict(stubs)
        self._metadata = caller.metadata() if caller else ()

    def on_behalf_of(self, caller: Caller | None) -> ServiceStubs:
        """The same stubs, each call saying it is for `caller`."""
        return ServiceStubs(self._stubs, caller)

    @classmethod
    def over(cls, channels: Mapping[str, grpc.aio.Channel]) -> ServiceStubs:
        """A stub per service over its channel (`channels` is keyed by service name)."""
        return cls(
            {stub_type(name): stub_type(name)(channel) for name, channel in channels.items()}
        )

    def __getitem__(self, wanted: Callable[[grpc.aio.Channel], T]) -> T:
        """The stub of the `wanted` type (typed as its asyncio stub, what an aio channel makes)."""
        try:
            stub = self._stubs[cast(type[Any], wanted)]  # keyed by the stub class
        except KeyError:
            name = getattr(wanted, "__name__", repr(wanted))
            raise ServiceNotConfigured(f"the gateway has no target for {name}") from None
        return cast(T, _OnBehalfOf(stub, self._metadata) if self._metadata else stub)
