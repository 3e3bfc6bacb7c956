"""A service's clients and its replicas: calls spread over every address of a target and go on
with the others when one replica is away, and a replica that comes back after a while is found
again quickly (the capped reconnect backoff), not after gRPC's default minutes-long one."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import grpc
import pytest

from launcher.ports import free_port
from services.kernel.grpc_client import open_channel, replicas_target
from services.kernel.grpc_server import ServicerContext
from tests.gauntlet.load import until

METHOD = "/test.Replica/Name"
# Long enough for gRPC's default backoff to grow past several seconds between tries.
AWAY_SECONDS = 10.0
# What the capped backoff (at most a second between tries) leaves a client waiting, with room
# for a busy machine; gRPC's default would, after AWAY_SECONDS of failures, wait longer.
FOUND_AGAIN_WITHIN_SECONDS = 3.0


@asynccontextmanager
async def replica(name: str, port: int) -> AsyncIterator[None]:
    """A server on `port` that answers with its name."""

    async def answer(_request: bytes, _context: ServicerContext) -> bytes:
        return name.encode()

    server = grpc.aio.server()
    handler: grpc.RpcMethodHandler[bytes, bytes] = grpc.unary_unary_rpc_method_handler(answer)
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("test.Replica", {"Name": handler})]
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        yield
    finally:
        await server.stop(0)


def caller(channel: grpc.aio.Channel) -> Callable[[], Awaitable[str | None]]:
    """Asks whichever replica the channel picks for its name; None when the call fails."""
    call: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(METHOD)

    async def ask() -> str | None:
        try:
            return (await call(b"", timeout=0.5)).decode()
        except grpc.aio.AioRpcError:
            return None

    return ask


async def test_calls_spread_over_every_replica_and_go_on_when_one_is_away() -> None:
    first, second = free_port(), free_port()
    channel = open_channel(
        replicas_target([f"127.0.0.1:{first}", f"127.0.0.1:{second}"]), "t", None
    )
    ask = caller(channel)
    try:
        async with replica("second", second):
            async with replica("first", first):
                answered = Counter([await ask() for _ in range(20)])
                assert set(answered) == {"first", "second"}, answered

            async def only_the_second_answers() -> bool:
                return await ask() == "second"

            await until(only_the_second_answers, "the channel to leave the stopped replica", 5)
            answered = Counter([await ask() for _ in range(20)])
            assert answered == Counter({"second": 20}), answered
    finally:
        await channel.close()


@pytest.mark.timeout(60)
async def test_a_replica_back_after_a_while_is_found_again_within_seconds() -> None:
    port = free_port()
    channel = open_channel(f"127.0.0.1:{port}", "t", None)
    ask = caller(channel)
    try:
        async with replica("before", port):
            assert await ask() == "before"
        loop = asyncio.get_running_loop()
        away_until = loop.time() + AWAY_SECONDS
        # Calls keep failing meanwhile, as a gateway's do under load.
        while loop.time() < away_until:
            assert await ask() is None
            await asyncio.sleep(0.1)
        async with replica("after", port):

            async def found_again() -> bool:
                return await ask() == "after"

            await until(found_again, "the replica back", timeout=FOUND_AGAIN_WITHIN_SECONDS)
    finally:
        await channel.close()
