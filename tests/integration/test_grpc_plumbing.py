"""What every service offers operators and callers: health, deadlines (reflection, which is off
unless asked for, is in test_internal_trust.py)."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from services.kernel.grpc_client import is_serving, open_channel
from services.kernel.grpc_server import ServicerContext
from tests.integration.conftest import InventoryUnderTest
from tests.support.trust import gateway_channel


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_service_answers_health(inventory: InventoryUnderTest) -> None:
    target = f"127.0.0.1:{inventory.running.port}"
    channel = gateway_channel(target, "inventory")
    assert await is_serving(channel)
    await inventory.running.grpc.set_serving(False)
    assert not await is_serving(channel)
    await channel.close()


async def test_a_call_without_a_deadline_gets_the_default_one() -> None:
    async def slow(_request: bytes, _context: ServicerContext) -> bytes:
        await asyncio.sleep(5)
        return b""

    server = grpc.aio.server()
    handler: grpc.RpcMethodHandler[bytes, bytes] = grpc.unary_unary_rpc_method_handler(slow)
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("test.Slow", {"Call": handler})]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = open_channel(f"127.0.0.1:{port}", "test", None, deadline_seconds=0.2)
    try:
        call: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
            "/test.Slow/Call"
        )
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call(b"")
        assert raised.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    finally:
        await channel.close()
        await server.stop(0)
