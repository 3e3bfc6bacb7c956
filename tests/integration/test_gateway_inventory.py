"""The gateway served by uvicorn on a free port, over the real inventory service and NATS:
GraphQL over HTTP and the inventoryChanged subscription over a real WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import grpc
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gateway.auth import issue_token
from launcher.embedded_nats import EmbeddedNats
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from oms.procurement.v1.procurement_pb2_grpc import ProcurementServiceStub
from oms.returns.v1.returns_pb2_grpc import ReturnsServiceStub
from oms.workorders.v1.workorders_pb2_grpc import WorkOrdersServiceStub
from services.inventory.bootstrap import SERVICE as INVENTORY
from services.kernel.caller import Role
from services.kernel.runtime import RunningService, ServiceDefinition
from services.orders.bootstrap import SERVICE as ORDERS
from services.procurement.bootstrap import SERVICE as PROCUREMENT
from services.returns.bootstrap import SERVICE as RETURNS
from services.workorders.bootstrap import SERVICE as WORKORDERS
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient
from tests.support.services import ServiceUnderTest, running_service
from tests.support.stock import ADJUST_STOCK, STOCK_LEVELS, UPSERT_LOCATION, UPSERT_SKU

# The services the gateway reaches, and their clients.
SERVICES: list[tuple[ServiceDefinition, Callable[[grpc.aio.Channel], object]]] = [
    (INVENTORY, InventoryServiceStub),
    (ORDERS, OrdersServiceStub),
    (RETURNS, ReturnsServiceStub),
    (PROCUREMENT, ProcurementServiceStub),
    (WORKORDERS, WorkOrdersServiceStub),
]

AVAILABILITY = """
query Availability($skus: [String!]!, $channel: String!) {
  availability(skus: $skus, channel: $channel) { sku available }
}"""
PROTOCOL = Subprotocol("graphql-transport-ws")
INVENTORY_CHANGED = """
subscription InventoryChanged($skus: [String!]) {
  inventoryChanged(skus: $skus) { sku location { code } available onHand reason occurredAt }
}"""

STOCK_LEVELS_AT = """
query StockLevelsAt($locationCode: String!, $first: Int, $after: String) {
  stockLevelsAt(locationCode: $locationCode, first: $first, after: $after) {
    edges { cursor node { sku location { code } onHand } }
    pageInfo { hasNextPage endCursor }
  }
}"""


class Gateway(GraphQLClient):
    """The one client, with the services behind the gateway and a shortcut to adjust stock."""

    def __init__(self, url: str, services: dict[str, RunningService]) -> None:
        super().__init__(url, SIGNING_KEY, scanner_location="HUB-BER", timeout=10)
        self.services = services

    async def adjust(self, sku: str, location: str, delta: int) -> dict[str, Any]:
        variables = {
            "input": {"sku": sku, "locationCode": location, "delta": delta, "reason": "count"}
        }
        answer = await self.data(ADJUST_STOCK, variables)
        adjusted: dict[str, Any] = answer["adjustStock"]
        return adjusted


@pytest.fixture
async def gateway(db_url: str, nats_server: EmbeddedNats, tmp_path: Path) -> AsyncIterator[Gateway]:
    """Every service in-process (inventory on the test's database, the others on SQLite files)
    and the gateway under uvicorn, as `python -m gateway` runs it."""
    async with AsyncExitStack() as stack:
        started: list[ServiceUnderTest[object]] = []
        for definition, stub in SERVICES:
            database = db_url
            if definition is not INVENTORY:
                database = f"sqlite:///{tmp_path / definition.name}.sqlite"
            service = running_service(definition, stub, database, nats_server.url)
            started.append(await stack.enter_async_context(service))
        targets = {s.definition.name: s.target for s in started}
        async with serving_gateway(targets, nats_server.url, SIGNING_KEY) as url:
            async with Gateway(url, {s.definition.name: s.running for s in started}) as gateway:
                yield gateway


async def seed(gateway: Gateway) -> None:
    """A DC and a return hub near Berlin, two SKUs, stock of one of them at both."""
    for code, kind in (("DC-EU", "DISTRIBUTION_CENTER"), ("HUB-BER", "RETURN_HUB")):
        variables = {
            "input": {"code": code, "name": code, "kind": kind, "latitude": 52.5, "longitude": 13.4}
        }
        assert (await gateway.data(UPSERT_LOCATION, variables))["upsertLocation"][
            "userErrors"
        ] == []
    for code in ("TEE", "MUG"):
        variables = {
            "input": {"code": code, "title": code.title(), "unitCostCents": 800, "weightGrams": 200}
        }
        assert (await gateway.data(UPSERT_SKU, variables))["upsertSku"]["userErrors"] == []
    await gateway.adjust("TEE", "DC-EU", 10)
    await gateway.adjust("TEE", "HUB-BER", 3)


async def test_health_and_readiness(gateway: Gateway) -> None:
    assert (await gateway.http.get("/healthz")).status_code == 200
    ready = await gateway.http.get("/readyz")
    assert ready.status_code == 200, ready.text
    await gateway.services["orders"].grpc.set_serving(False)
    not_ready = await gateway.http.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["notReady"] == ["orders"]
    assert (await gateway.http.get("/healthz")).status_code == 200


async def test_locations_skus_stock_and_availability(gateway: Gateway) -> None:
    hub = {
        "code": "HUB-BER",
        "name": "Berlin hub",
        "kind": "RETURN_HUB",
        "latitude": 52.52,
        "longitude": 13.40,
    }
    created = (await gateway.data(UPSERT_LOCATION, {"input": hub}))["upsertLocation"]
    assert created["userErrors"] == []
    assert created["location"] | {"id": None} == hub | {
        "id": None,
        "shipsOrders": True,
        "acceptsReturns": True,
    }
    updated = await gateway.data(
        UPSERT_LOCATION, {"input": hub | {"name": "Berlin return hub", "shipsOrders": False}}
    )
    assert updated["upsertLocation"]["location"]["id"] == created["location"]["id"]
    assert updated["upsertLocation"]["location"]["shipsOrders"] is False

    sku = {
        "code": "PHONE",
        "title": "Phone",
        "unitCostCents": 25_000,
        "weightGrams": 180,
        "serialized": True,
    }
    assert (await gateway.data(UPSERT_SKU, {"input": sku}))["upsertSku"] == {
        "sku": sku,
        "userErrors": [],
    }

    dc = {
        "code": "DC-EU",
        "name": "EU DC",
        "kind": "DISTRIBUTION_CENTER",
        "latitude": 50.1,
        "longitude": 8.7,
    }
    await gateway.data(UPSERT_LOCATION, {"input": dc})
    adjusted = await gateway.adjust("PHONE", "DC-EU", 7)
    assert adjusted == {
        "stockLevel": {"sku": "PHONE", "location": {"code": "DC-EU"}, "onHand": 7, "available": 7},
        "userErrors": [],
    }
    await gateway.adjust("PHONE", "HUB-BER", 2)

    levels = (await gateway.data(STOCK_LEVELS, {"sku": "PHONE"}, role=Role.BACKOFFICE))[
        "stockLevels"
    ]
    by_location = {level["location"]["code"]: level for level in levels}
    assert by_location["DC-EU"] == {
        "sku": "PHONE", "location": {"code": "DC-EU", "kind": "DISTRIBUTION_CENTER"}, "onHand": 7,
        "reserved": 0, "available": 7, "inTransit": 0, "pendingInspection": 0, "inRepair": 0,
    }  # fmt: skip
    assert by_location["HUB-BER"]["location"]["kind"] == "RETURN_HUB"

    # The hub no longer ships orders, so only the DC's units are for sale.
    availability = await gateway.data(
        AVAILABILITY, {"skus": ["PHONE"], "channel": "web"}, role=Role.STOREFRONT
    )
    assert availability == {"availability": [{"sku": "PHONE", "available": 7}]}


async def test_refusals_are_user_errors_with_codes_and_input_paths(gateway: Gateway) -> None:
    await seed(gateway)
    zero = await gateway.adjust("TEE", "DC-EU", 0)
    assert zero["stockLevel"] is None
    assert [(e["code"], e["field"]) for e in zero["userErrors"]] == [
        ("INVALID_QUANTITY", "input.delta")
    ]
    unknown = await gateway.adjust("NOPE", "DC-EU", 1)
    assert [(e["code"], e["field"]) for e in unknown["userErrors"]] == [("NOT_FOUND", "input.sku")]
    assert "NOPE" in unknown["userErrors"][0]["message"]
    unknown_location = await gateway.adjust("TEE", "NOWHERE", 1)
    assert [(e["code"], e["field"]) for e in unknown_location["userErrors"]] == [
        ("NOT_FOUND", "input.locationCode")
    ]
    too_many = await gateway.adjust("TEE", "DC-EU", -11)
    assert [e["code"] for e in too_many["userErrors"]] == ["INSUFFICIENT_STOCK"]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        f"Bearer {issue_token(b'some-other-key-0123456789abcdefghij', Role.ADMIN)}",
    ],
    ids=["missing", "garbage", "not-bearer", "wrong-key"],
)
async def test_requests_without_a_valid_token_are_401(
    gateway: Gateway, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await gateway.http.post(
        "/graphql", json={"query": "{ locations { code } }"}, headers=headers
    )
    assert response.status_code == 401
    body = response.json()
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert "data" not in body


async def test_graphiql_page_needs_no_token(gateway: Gateway) -> None:
    response = await gateway.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_storefront_may_not_adjust_stock(gateway: Gateway) -> None:
    await seed(gateway)
    variables = {"input": {"sku": "TEE", "locationCode": "DC-EU", "delta": 100, "reason": "steal"}}
    response = await gateway.response(ADJUST_STOCK, variables, role=Role.STOREFRONT)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert "backoffice" in body["errors"][0]["message"]
    levels = (await gateway.data(STOCK_LEVELS, {"sku": "TEE"}))["stockLevels"]
    assert {level["location"]["code"]: level["onHand"] for level in levels} == {
        "DC-EU": 10,
        "HUB-BER": 3,
    }


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"query": "{ locations { code } ', "application/json", "JSON"),
        (b'["not", "an", "object"]', "application/json", "JSON object"),
        (
            b'{"query": "{ locations { code nope } }"}',
            "application/json",
            "Cannot query field 'nope'",
        ),
        (
            b'{"query": "{ warehouses { code } }"}',
            "application/json",
            "Cannot query field 'warehouses'",
        ),
        (b'{"query": "{ locations { code }"}', "application/json", "Syntax Error"),
        (b"query { locations { code } }", "text/plain", "content type"),
        (
            b'{"query": "subscription { inventoryChanged { sku } }"}',
            "application/json",
            "WebSocket",
        ),
    ],
    ids=[
        "truncated-json",
        "json-array",
        "unknown-field",
        "unknown-root-field",
        "bad-syntax",
        "not-json",
        "subscription-over-http",
    ],
)
async def test_malformed_requests_get_a_clear_graphql_error(
    gateway: Gateway, body: bytes, content_type: str, message: str
) -> None:
    # The GraphQL response media type answers a refused document with 400 (application/json
    # with 200: tests/integration/test_gateway_edge.py).
    headers = {
        "Authorization": f"Bearer {gateway.token(Role.ADMIN)}",
        "Content-Type": content_type,
        "Accept": "application/graphql-response+json",
    }
    response = await gateway.http.post("/graphql", content=body, headers=headers)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert message in errors[0]["message"]
    assert "Traceback" not in response.text and ".py" not in response.text


async def test_unknown_input_fields_are_refused_before_execution(gateway: Gateway) -> None:
    await seed(gateway)
    variables = {
        "input": {
            "sku": "TEE",
            "locationCode": "DC-EU",
            "delta": 1,
            "reason": "count",
            "warehouse": "X",
        }
    }
    response = await gateway.http.post(
        "/graphql",
        json={"query": ADJUST_STOCK, "variables": variables},
        headers={
            "Authorization": f"Bearer {gateway.token(Role.ADMIN)}",
            "Accept": "application/graphql-response+json",
        },
    )
    assert response.status_code == 400
    assert "warehouse" in response.json()["errors"][0]["message"]
    levels = (await gateway.data(STOCK_LEVELS, {"sku": "TEE"}))["stockLevels"]
    assert {level["location"]["code"]: level["onHand"] for level in levels}["DC-EU"] == 10


class Subscriber:
    """A graphql-transport-ws client: one connection, several subscriptions by id."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: dict[str, list[dict[str, Any]]] = {}

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls, gateway: Gateway, authorization: str | None
    ) -> AsyncIterator[Subscriber]:
        async with connect(gateway.ws_url, subprotocols=[PROTOCOL]) as ws:
            payload = {"Authorization": authorization} if authorization else {}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            yield cls(ws)

    async def acknowledged(self) -> None:
        assert json.loads(await asyncio.wait_for(self.ws.recv(), 5)) == {"type": "connection_ack"}

    async def subscribe(self, id: str, skus: list[str] | None) -> None:
        self.received[id] = []
        payload = {"query": INVENTORY_CHANGED, "variables": {"skus": skus}}
        await self.ws.send(json.dumps({"id": id, "type": "subscribe", "payload": payload}))

    async def receive(self, timeout: float) -> None:
        """Records one `next` message; fails on anything else."""
        message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        assert message["type"] == "next" and "errors" not in message["payload"], message
        self.received[message["id"]].append(message["payload"]["data"]["inventoryChanged"])

    async def receive_until(self, done: Callable[[], object], timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not done():
                await self.receive(timeout)


@contextlib.asynccontextmanager
async def listening(gateway: Gateway) -> AsyncIterator[Subscriber]:
    """A back-office subscriber whose subscriptions "tee" (TEE) and "all" listen, with nothing
    received yet.

    A subscription starts listening some time after `subscribe` is sent, and the protocol does
    not say when: change TEE until both have seen a change; once both listen, one more change
    marks the end of the warm-up."""
    async with Subscriber.connect(
        gateway, f"Bearer {gateway.token(Role.BACKOFFICE)}"
    ) as subscriber:
        await subscriber.acknowledged()
        await subscriber.subscribe("tee", ["TEE"])
        await subscriber.subscribe("all", None)
        await _warm_up(subscriber, gateway)
        yield subscriber


async def _warm_up(subscriber: Subscriber, gateway: Gateway) -> None:
    for _attempt in range(50):
        if subscriber.received["tee"] and subscriber.received["all"]:
            break
        await gateway.adjust("TEE", "DC-EU", 1)
        with contextlib.suppress(TimeoutError):
            await subscriber.receive_until(lambda: False, timeout=0.2)
    else:
        pytest.fail("the subscriptions never started")
    marker = (await gateway.adjust("TEE", "DC-EU", 1))["stockLevel"]["onHand"]

    def saw_marker(id: str) -> bool:
        return any(change["onHand"] == marker for change in subscriber.received[id])

    await subscriber.receive_until(lambda: saw_marker("tee") and saw_marker("all"), timeout=5)
    subscriber.received = {"tee": [], "all": []}


async def test_inventory_changed_delivers_each_change_to_subscribers_of_its_sku(
    gateway: Gateway,
) -> None:
    await seed(gateway)
    # The back office: it sees each change whole (a storefront sees less, see
    # test_gateway_exposure.py).
    async with listening(gateway) as subscriber:
        await gateway.adjust("MUG", "DC-EU", 2)
        level = (await gateway.adjust("TEE", "HUB-BER", -1))["stockLevel"]
        # Both subscribers get the changes; how fast is the benchmark's to measure, not a test's.
        await subscriber.receive_until(
            lambda: subscriber.received["tee"] and len(subscriber.received["all"]) == 2, timeout=10
        )
        # Then a short window, in which a wrongful extra delivery would show up.
        with contextlib.suppress(TimeoutError):
            await subscriber.receive_until(lambda: False, timeout=0.3)
        tee = subscriber.received["tee"]
        assert [(c["sku"], c["location"]["code"], c["available"], c["onHand"]) for c in tee] == [
            ("TEE", "HUB-BER", level["available"], level["onHand"])
        ]
        assert tee[0]["reason"] == "count" and tee[0]["occurredAt"]
        assert [(c["sku"], c["available"]) for c in subscriber.received["all"]] == [
            ("MUG", 2),
            ("TEE", 2),
        ]


async def test_inventory_changed_delivers_each_level_of_a_bulk_import(gateway: Gateway) -> None:
    await seed(gateway)
    async with listening(gateway) as subscriber:
        rows = [
            {"sku": "MUG", "locationCode": "DC-EU", "onHand": 7},
            {"sku": "TEE", "locationCode": "HUB-BER", "onHand": 50},
        ]
        imported = await gateway.data(
            "mutation($input: ImportStockInput!) { importStock(input: $input) "
            "{ stockImport { levelsChanged } userErrors { code } } }",
            {"input": {"rows": rows}},
        )
        assert imported["importStock"]["stockImport"] == {"levelsChanged": 2}
        await subscriber.receive_until(
            lambda: subscriber.received["tee"] and len(subscriber.received["all"]) == 2, timeout=10
        )
        assert [
            (c["sku"], c["location"]["code"], c["onHand"]) for c in subscriber.received["all"]
        ] == [
            ("MUG", "DC-EU", 7),
            ("TEE", "HUB-BER", 50),
        ]
        assert subscriber.received["tee"][0]["reason"] == "import"


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-jwt"], ids=["missing", "garbage"])
async def test_subscriptions_without_a_valid_token_are_rejected(
    gateway: Gateway, authorization: str | None
) -> None:
    async with Subscriber.connect(gateway, authorization) as subscriber:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(subscriber.ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_scanner_may_not_subscribe(gateway: Gateway) -> None:
    async with Subscriber.connect(gateway, f"Bearer {gateway.token(Role.SCANNER)}") as subscriber:
        await subscriber.acknowledged()
        await subscriber.subscribe("tee", ["TEE"])
        message = json.loads(await asyncio.wait_for(subscriber.ws.recv(), 5))
    assert message["type"] == "error", message
    assert [e["extensions"]["code"] for e in message["payload"]] == ["FORBIDDEN"]


async def test_a_scanner_sees_stock_at_its_own_location_only(gateway: Gateway) -> None:
    await seed(gateway)
    query = 'query { stockLevels(sku: "TEE") { location { code } onHand } }'
    everywhere = await gateway.data(query, role=Role.BACKOFFICE)
    at_the_hub = await gateway.data(query, role=Role.SCANNER)
    assert sorted(x["location"]["code"] for x in everywhere["stockLevels"]) == ["DC-EU", "HUB-BER"]
    assert at_the_hub["stockLevels"] == [{"location": {"code": "HUB-BER"}, "onHand": 3}]


async def test_a_locations_stock_pages_by_sku_for_the_back_office_and_its_own_scanner(
    gateway: Gateway,
) -> None:
    await seed(gateway)
    await gateway.adjust("MUG", "DC-EU", 4)
    for code in ("CAP", "BAG"):
        variables = {
            "input": {"code": code, "title": code.title(), "unitCostCents": 800, "weightGrams": 200}
        }
        assert (await gateway.data(UPSERT_SKU, variables))["upsertSku"]["userErrors"] == []
        await gateway.adjust(code, "DC-EU", 1)
    pages, after = [], None
    while True:
        paging = {"locationCode": "DC-EU", "first": 3, "after": after}
        page = (await gateway.data(STOCK_LEVELS_AT, paging))["stockLevelsAt"]
        pages.append([(e["node"]["sku"], e["node"]["onHand"]) for e in page["edges"]])
        assert {e["node"]["location"]["code"] for e in page["edges"]} == {"DC-EU"}
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == [[("BAG", 1), ("CAP", 1), ("MUG", 4)], [("TEE", 10)]]

    at_the_hub = await gateway.data(STOCK_LEVELS_AT, {"locationCode": "HUB-BER"}, role=Role.SCANNER)
    assert [e["node"]["sku"] for e in at_the_hub["stockLevelsAt"]["edges"]] == ["TEE"]
    refusals: list[tuple[dict[str, object], Role, str]] = [
        ({"locationCode": "DC-EU"}, Role.SCANNER, "FORBIDDEN"),
        ({"locationCode": "DC-EU"}, Role.STOREFRONT, "FORBIDDEN"),
        ({"locationCode": "NOWHERE"}, Role.BACKOFFICE, "NOT_FOUND"),
        ({"locationCode": "DC-EU", "first": 0}, Role.BACKOFFICE, "INVALID_INPUT"),
        ({"locationCode": "DC-EU", "after": "TEE"}, Role.BACKOFFICE, "INVALID_INPUT"),
    ]
    for asked, role, code in refusals:
        body = await gateway.post(STOCK_LEVELS_AT, asked, role=role)
        assert body["data"] is None, (asked, role)
        assert [e["extensions"]["code"] for e in body["errors"]] == [code], (asked, role)


async def test_a_location_declares_its_daily_capacities(gateway: Gateway) -> None:
    hub = {
        "code": "HUB-1",
        "name": "Hub",
        "kind": "RETURN_HUB",
        "latitude": 52.5,
        "longitude": 13.4,
    }
    declared = await gateway.data(
        CAPACITIES, {"input": hub | {"dailyShipCapacity": 5, "dailyInspectionCapacity": 40}}
    )
    assert declared["upsertLocation"] == {
        "location": {"code": "HUB-1", "dailyShipCapacity": 5, "dailyInspectionCapacity": 40},
        "userErrors": [],
    }
    # Left out: no limit.
    unlimited = await gateway.data(CAPACITIES, {"input": hub | {"dailyShipCapacity": 8}})
    assert unlimited["upsertLocation"]["location"] == {
        "code": "HUB-1",
        "dailyShipCapacity": 8,
        "dailyInspectionCapacity": None,
    }
    negative = await gateway.data(CAPACITIES, {"input": hub | {"dailyShipCapacity": -1}})
    assert negative["upsertLocation"]["location"] is None
    assert [(e["code"], e["field"]) for e in negative["upsertLocation"]["userErrors"]] == [
        ("INVALID_INPUT", "input.dailyShipCapacity")
    ]
    listed = await gateway.data("{ locations { code dailyShipCapacity } }")
    assert listed == {"locations": [{"code": "HUB-1", "dailyShipCapacity": 8}]}


CAPACITIES = """
mutation UpsertLocation($input: LocationInput!) {
  upsertLocation(input: $input) {
    location { code dailyShipCapacity dailyInspectionCapacity }
    userErrors { field message code }
  }
}"""
