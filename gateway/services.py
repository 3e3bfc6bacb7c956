"""The gateway's way to the services: one gRPC stub per service, looked up by the stub's type,
so a resolver writes `info.context.services[OrdersServiceStub].PlaceOrder(...)` and a new
service needs no field of its own anywhere in the gateway."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, TypeVar

import grpc

T = TypeVar("T")


def stub_type(service: str) -> type[Any]:
    """The generated stub class of a service: the one `*ServiceStub` in `oms.<name>.v1`."""
    module = importlib.import_module(f"oms.{service}.v1.{service}_pb2_grpc")
    (found,) = (value for name, value in vars(module).items() if name.endswith("ServiceStub"))
    return found  # type: ignore[no-any-return]


class ServiceNotConfigured(LookupError):
    """The gateway was started without a target for a service a resolver needs (a fault)."""


class ServiceStubs:
    """The stubs of the services the gateway reaches, by type."""

    def __init__(self, stubs: Mapping[type[Any], object]) -> None:
        self._stubs = dict(stubs)

    @classmethod
    def over(cls, channels: Mapping[str, grpc.aio.Channel]) -> ServiceStubs:
        """A stub per service over its channel (`channels` is keyed by service name)."""
        return cls(
            {stub_type(name): stub_type(name)(channel) for name, channel in channels.items()}
        )

    def __getitem__(self, wanted: type[T]) -> T:
        try:
            found: T = self._stubs[wanted]  # type: ignore[assignment]
        except KeyError:
            raise ServiceNotConfigured(f"the gateway has no target for {wanted.__name__}") from None
        return found
