"""What a refused call answered: the stable code and the field at fault, from a use case (a
DomainError) or over gRPC (the rich status the kernel maps it to)."""

from __future__ import annotations

from collections.abc import Awaitable

import grpc
import pytest

from services.kernel.errors import DomainError, ErrorCode, from_rpc_error


async def refused(call: Awaitable[object]) -> tuple[ErrorCode, str | None]:
    """The code and field a use case refused the call with (it must refuse)."""
    with pytest.raises(DomainError) as raised:
        await call
    return raised.value.code, raised.value.field


async def refusal(call: Awaitable[object]) -> tuple[ErrorCode, str | None]:
    """The code and field a service refused the gRPC call with (it must refuse)."""
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    error = from_rpc_error(raised.value)
    assert error is not None, raised.value
    return error.code, error.field
