"""Buyers race for the last units through the gateway: two orders processes and two inventory
processes share the running PostgreSQL, calls spread over the replicas round-robin."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from launcher.embedded_nats import EmbeddedNats
from launcher.ports import free_port
from services.kernel.caller import Role
from tests.support.databases import postgres_database
from tests.support.graphql import GraphQLClient
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.postgres

BUYERS = 60
UNITS = 5
SECRET = "race-test-signing-key-0123456789abcdef"

PLACE = """mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    order { id status shipments { location { code } lines { sku quantity } } }
    userErrors { field message code }
  }
}"""


@dataclass
class Cluster:
    gateway: str
    processes: list[ServiceProcess]


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
            yield Cluster(f"http://{gateway.target}", everything)
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

        def order(buyer: int) -> dict[str, Any]:
            return {"input": {
                "channel": "web", "externalId": f"race-{buyer}", "email": f"b{buyer}@example.com",
                "shipTo": {"latitude": 52.52, "longitude": 13.40},
                "lines": [{"sku": "LAST", "quantity": 1, "unitPriceCents": 2500}],
            }}  # fmt: skip

        results = await asyncio.gather(*(call(shop, PLACE, order(i)) for i in range(BUYERS)))
        payloads = [r["placeOrder"] for r in results]
        winners = [p["order"] for p in payloads if p["order"]]
        losers = [p["userErrors"] for p in payloads if not p["order"]]
        assert len(winners) == UNITS
        assert all(w["status"] == "ALLOCATED" for w in winners)
        assert losers == [
            [
                {
                    "field": "input.lines",
                    "message": losers[0][0]["message"],
                    "code": "INSUFFICIENT_STOCK",
                }
            ]
        ] * (BUYERS - UNITS)

        promised: Counter[str] = Counter()
        for winner in winners:
            for shipment in winner["shipments"]:
                for line in shipment["lines"]:
                    promised[shipment["location"]["code"]] += line["quantity"]
        assert promised == {"HUB-BER": 3, "DC-LIS": 2}, "the near hub's units go first, none twice"

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

        # Retrying every buyer's request (a client that timed out) changes nothing.
        retried = await asyncio.gather(*(call(shop, PLACE, order(i)) for i in range(BUYERS)))
        assert sorted(
            r["placeOrder"]["order"]["id"] for r in retried if r["placeOrder"]["order"]
        ) == sorted(w["id"] for w in winners)
        levels = await call(admin, 'query { stockLevels(sku: "LAST") { reserved } }', {})
        assert sum(x["reserved"] for x in levels["stockLevels"]) == UNITS
