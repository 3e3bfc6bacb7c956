"""Buyers race for the last units: two orders processes and two inventory processes share the
running PostgreSQL. Placements go to the two orders processes in turn, each over its own
channel, so the test sees that both answered; orders call inventory round-robin. The same
(channel, externalId) sent to both orders processes at once places one order."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from launcher.embedded_nats import EmbeddedNats
from launcher.ports import free_port
from oms.orders.v1 import orders_pb2 as pb
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from services.kernel.caller import Role
from services.kernel.errors import ErrorCode, from_rpc_error
from tests.support.databases import postgres_database
from tests.support.graphql import GraphQLClient
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.postgres

BUYERS = 60
UNITS = 5
# Buyers whose one request reaches both orders processes at once.
TWINS = 4
SECRET = "race-test-signing-key-0123456789abcdef"


@dataclass
class Cluster:
    gateway: str
    processes: list[ServiceProcess]
    orders: list[ServiceProcess]


def spread(processes: list[ServiceProcess]) -> str:
    """A gRPC target naming every replica: the channel balances calls over them."""
    return "ipv4:" + ",".join(p.target for p in processes)


@pytest.fixture
async def cluster(nats_server: EmbeddedNats, tmp_path: Path) -> AsyncIterator[Cluster]:
    logs = tmp_path / "logs"
    base = {"OMS_NATS_URL": nats_server.url, "OMS_JWT_SECRET": SECRET}
    with ExitStack() as stack:
        inventory_db = stack.enter_context(postgres_database())
        orders_db = stack.enter_context(postgres_database())
        inventories = []
        for _ in range(2):
            port = free_port()
            env = {
                **base,
                "OMS_INVENTORY_DATABASE_URL": inventory_db,
                "OMS_INVENTORY_GRPC_LISTEN": f"127.0.0.1:{port}",
            }
            inventories.append(ServiceProcess("inventory", env, logs, port))
        orders = []
        for _ in range(2):
            port = free_port()
            env = {**base, "OMS_ORDERS_DATABASE_URL": orders_db, "OMS_ORDERS_GRPC_LISTEN": f"127.0.0.1:{port}",
                   "OMS_INVENTORY_GRPC_TARGET": spread(inventories)}  # fmt: skip
            orders.append(ServiceProcess("orders", env, logs, port))
        gateway_port = free_port()
        gateway = ServiceProcess(
            "gateway",
            {**base, "OMS_GATEWAY_LISTEN": f"127.0.0.1:{gateway_port}", "OMS_DATA_DIR": str(tmp_path),
             "OMS_INVENTORY_GRPC_TARGET": spread(inventories), "OMS_ORDERS_GRPC_TARGET": spread(orders)},
            logs, gateway_port, module="gateway",
        )  # fmt: skip
        everything = [*inventories, *orders, gateway]
        try:
            for process in everything:
                process.start()
            for process in [*inventories, *orders]:
                await process.wait_serving()
            await gateway.wait_http_ok()
            yield Cluster(f"http://{gateway.target}", everything, orders)
        finally:
            for process in reversed(everything):
                process.terminate()


async def test_fifty_concurrent_buyers_never_share_a_unit(cluster: Cluster) -> None:
    async with GraphQLClient(cluster.gateway, SECRET.encode(), timeout=60) as client:
        admin, shop = client.token(Role.ADMIN), client.token(Role.STOREFRONT)

        async def call(token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
            return await client.data(query, variables, token=token)

        for code, kind, lat, lon, units in (
            ("HUB-BER", "RETURN_HUB", 52.5, 13.4, 3),
            ("DC-LIS", "DISTRIBUTION_CENTER", 38.7, -9.1, 2),
        ):
            await call(admin, "mutation($i: LocationInput!) { upsertLocation(input: $i) { userErrors { code } } }",
                       {"i": {"code": code, "name": code, "kind": kind, "latitude": lat, "longitude": lon}})  # fmt: skip
            if code == "HUB-BER":
                await call(admin, "mutation($i: SkuInput!) { upsertSku(input: $i) { userErrors { code } } }",
                           {"i": {"code": "LAST", "title": "Last units", "unitCostCents": 900, "weightGrams": 300}})  # fmt: skip
            await call(admin, "mutation($i: StockAdjustmentInput!) { adjustStock(input: $i) { userErrors { code } } }",
                       {"i": {"sku": "LAST", "locationCode": code, "delta": units, "reason": "count"}})  # fmt: skip

        def order(buyer: str) -> pb.PlaceOrderRequest:
            return pb.PlaceOrderRequest(
                channel="web", external_id=f"race-{buyer}", email=f"b{buyer}@example.com",
                ship_to=pb.Address(latitude=52.52, longitude=13.40),
                lines=[pb.OrderLine(sku="LAST", quantity=1, unit_price_cents=2500)],
            )  # fmt: skip

        channels = [process.channel(deadline_seconds=60) for process in cluster.orders]
        replicas = [OrdersServiceStub(channel) for channel in channels]
        answered: Counter[int] = Counter()

        async def place(replica: int, request: pb.PlaceOrderRequest) -> pb.Order | ErrorCode:
            """The order placed by that orders process, or the code it refused with."""
            try:
                return await replicas[replica].PlaceOrder(request)
            except grpc.aio.AioRpcError as error:
                refusal = from_rpc_error(error)
                assert refusal is not None and refusal.field == "lines", error
                return refusal.code
            finally:
                answered[replica] += 1

        try:
            results = await asyncio.gather(*(place(i % 2, order(str(i))) for i in range(BUYERS)))
            assert answered == {0: BUYERS // 2, 1: BUYERS // 2}, "both processes answered"
            winners = [r for r in results if isinstance(r, pb.Order)]
            assert len(winners) == UNITS
            assert all(w.status == pb.ORDER_STATUS_ALLOCATED for w in winners)
            assert [r for r in results if not isinstance(r, pb.Order)] == [
                ErrorCode.INSUFFICIENT_STOCK
            ] * (BUYERS - UNITS)

            promised: Counter[str] = Counter()
            for winner in winners:
                for shipment in winner.shipments:
                    promised[shipment.location_code] += sum(x.quantity for x in shipment.lines)
            assert promised == {"HUB-BER": 3, "DC-LIS": 2}, "the near hub's units go first"

            levels = await call(
                admin,
                'query { stockLevels(sku: "LAST") { location { code } onHand reserved available } }',
                {},
            )
            by_location = {
                x["location"]["code"]: (x["onHand"], x["reserved"], x["available"])
                for x in levels["stockLevels"]
            }
            assert by_location == {"HUB-BER": (3, 3, 0), "DC-LIS": (2, 2, 0)}, (
                "refused orders hold nothing"
            )
            availability = await call(
                shop, 'query { availability(skus: ["LAST"], channel: "web") { available } }', {}
            )
            assert availability["availability"] == [{"available": 0}]

            # Retrying every buyer's request on the other process (a client that timed out)
            # changes nothing.
            retried = await asyncio.gather(
                *(place((i + 1) % 2, order(str(i))) for i in range(BUYERS))
            )
            assert sorted(r.id for r in retried if isinstance(r, pb.Order)) == sorted(
                w.id for w in winners
            )
            assert await reserved(call, admin) == UNITS

            # The same request reaches both processes at once, for a few buyers: one order each.
            await call(admin, "mutation($i: StockAdjustmentInput!) { adjustStock(input: $i) { userErrors { code } } }",
                       {"i": {"sku": "LAST", "locationCode": "HUB-BER", "delta": TWINS, "reason": "count"}})  # fmt: skip
            twins = await asyncio.gather(
                *(place(replica, order(f"twin-{t}")) for t in range(TWINS) for replica in (0, 1))
            )
            assert all(
                isinstance(t, pb.Order) and t.status == pb.ORDER_STATUS_ALLOCATED for t in twins
            ), twins
            ids = [t.id for t in twins if isinstance(t, pb.Order)]
            assert ids[0::2] == ids[1::2], "both callers got the same order"
            assert len(set(ids)) == TWINS
            assert await reserved(call, admin) == UNITS + TWINS, "each twin reserved once"
        finally:
            for channel in channels:
                await channel.close()


async def reserved(call: Callable[..., Awaitable[dict[str, Any]]], admin: str) -> int:
    levels = await call(admin, 'query { stockLevels(sku: "LAST") { reserved } }', {})
    return sum(x["reserved"] for x in levels["stockLevels"])
