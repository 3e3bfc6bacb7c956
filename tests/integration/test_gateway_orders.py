"""The gateway's orders over the real inventory and orders services, on SQLite and PostgreSQL:
GraphQL over HTTP to the gateway under uvicorn, sending the contract's own documents."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
import pytest

from gateway.context import Context
from gateway.feed import InventoryFeed
from gateway.schema import build_schema
from gateway.services import ServiceStubs
from launcher.embedded_nats import EmbeddedNats
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from oms.orders.v1.orders_pb2_grpc import OrdersServiceStub
from services.kernel.caller import Caller, Role
from services.kernel.tls import GATEWAY
from tests.integration.conftest import InventoryUnderTest, OrdersUnderTest
from tests.support.contract import operation
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient, Requester
from tests.support.stock import levels, seed
from tests.support.trust import credentials

# code: (kind, latitude, longitude). The customer is in Berlin: the hub is a few km away, the
# distribution centre is in Lisbon.
LOCATIONS = {
    "DC-LIS": ("DISTRIBUTION_CENTER", 38.72, -9.14),
    "HUB-BER": ("RETURN_HUB", 52.50, 13.45),
}
BERLIN = {"name": "Ada", "city": "Berlin", "latitude": 52.52, "longitude": 13.40}
# (sku, location): on-hand. CAP is only at the hub and MUG only at the DC, so an order of both
# must split.
STOCK = {("TEE", "DC-LIS"): 50, ("TEE", "HUB-BER"): 2, ("MUG", "DC-LIS"): 5, ("CAP", "HUB-BER"): 1}
# What a call the interceptor counts carries and answers, whatever the method.
Request = TypeVar("Request")
Response = TypeVar("Response")

ORDER_ROUTING = """
query OrderRouting($id: ID!) {
  order(id: $id) {
    id email shipTo { city latitude longitude } lines { sku quantity unitPriceCents }
    placedAt shippedAt cancelledAt status
    shipments { id status trackingNumber shippedAt location { code } }
    routing {
      parcels { location { code kind } distanceKm shippingCents handlingCents extraParcelCents
                totalCents units }
      totalCents algorithm candidatesConsidered explanation addressPlacement
    }
  }
}"""
SHIP = """
mutation Ship($id: ID!, $trackingNumber: String) {
  shipShipment(id: $id, trackingNumber: $trackingNumber) {
    shipment { id status trackingNumber location { code } }
    order { status shippedAt }
    userErrors { field message code }
  }
}"""


def order_input(external_id: str, lines: dict[str, int], **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "channel": "web",
            "externalId": external_id,
            "email": "ada@example.com",
            "shipTo": BERLIN,
            "lines": [
                {"sku": sku, "quantity": units, "unitPriceCents": 2500}
                for sku, units in lines.items()
            ],
            **extra,
        }
    }


class Gateway(GraphQLClient):
    """The one client, with this module's shortcuts."""

    async def place(
        self, external_id: str, lines: dict[str, int], role: Role = Role.ADMIN, **extra: Any
    ) -> dict[str, Any]:
        variables = order_input(external_id, lines, **extra)
        answer = await self.data(operation("PlaceOrder"), variables, role)
        placed: dict[str, Any] = answer["placeOrder"]
        return placed

    async def stock(self, sku: str) -> dict[str, tuple[int, int]]:
        """(on hand, reserved) by location."""
        found = await levels(self, sku)
        return {code: (x["onHand"], x["reserved"]) for code, x in found.items()}

    async def seed(self) -> None:
        await seed(self, LOCATIONS, sorted({sku for sku, _ in STOCK}), STOCK)


@pytest.fixture
async def gateway(
    orders: OrdersUnderTest, inventory: InventoryUnderTest, nats_server: EmbeddedNats
) -> AsyncIterator[Gateway]:
    """The gateway under uvicorn, as `python -m gateway` runs it, over the two services."""
    targets = {"inventory": inventory.target, "orders": orders.service.target}
    async with serving_gateway(targets, nats_server.url, SIGNING_KEY) as url:
        async with Gateway(url, SIGNING_KEY, scanner_location="HUB-BER", timeout=10) as gateway:
            await gateway.seed()
            yield gateway


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def test_an_order_ships_from_the_hub_near_the_customer_and_explains_why(
    gateway: Gateway,
) -> None:
    placed = await gateway.place("w-1", {"TEE": 1})
    assert placed["userErrors"] == []
    order = placed["order"]
    assert order | {"id": None, "number": None} == {
        "id": None,
        "number": None,
        "status": "ALLOCATED",
        "channel": "web",
        "externalId": "w-1",
        "lines": [{"sku": "TEE", "quantity": 1}],
        "shipments": [
            {
                "id": order["shipments"][0]["id"],
                "status": "ALLOCATED",
                "location": {"code": "HUB-BER", "kind": "RETURN_HUB"},
                "lines": [{"sku": "TEE", "quantity": 1}],
            }
        ],
    }
    assert (await gateway.data(operation("Order"), {"id": order["id"]}))["order"] == order

    detail = (await gateway.data(ORDER_ROUTING, {"id": order["id"]}))["order"]
    assert detail["email"] == "ada@example.com"
    assert detail["shipTo"] == {"city": "Berlin", "latitude": 52.52, "longitude": 13.40}
    assert detail["lines"] == [{"sku": "TEE", "quantity": 1, "unitPriceCents": 2500}]
    assert detail["placedAt"].endswith("+00:00")
    assert detail["shippedAt"] is None and detail["cancelledAt"] is None
    routing = detail["routing"]
    (parcel,) = routing["parcels"]
    assert parcel["location"] == {"code": "HUB-BER", "kind": "RETURN_HUB"}
    assert parcel["units"] == 1 and parcel["distanceKm"] < 10
    assert parcel["extraParcelCents"] == 0
    assert parcel["totalCents"] == parcel["shippingCents"] + parcel["handlingCents"]
    assert routing["totalCents"] == parcel["totalCents"]
    # Both locations had the TEE; the plan weighed them and says why it chose the hub.
    assert routing["candidatesConsidered"] >= 2
    assert routing["algorithm"] == "exact"
    assert "HUB-BER" in routing["explanation"]
    assert routing["addressPlacement"] == "COORDINATES"
    assert await gateway.stock("TEE") == {"DC-LIS": (50, 0), "HUB-BER": (2, 1)}

    again = await gateway.place("w-1", {"TEE": 1})
    assert again == placed
    assert await gateway.stock("TEE") == {"DC-LIS": (50, 0), "HUB-BER": (2, 1)}


async def test_an_external_id_used_for_another_order_is_refused(gateway: Gateway) -> None:
    placed = await gateway.place("w-reused", {"TEE": 1})
    assert placed["userErrors"] == []
    reused = await gateway.place("w-reused", {"TEE": 2})
    assert reused == {
        "order": None,
        "userErrors": [
            {
                "field": "input.externalId",
                "message": "externalId 'w-reused' was already used for a different order",
                "code": "INVALID_INPUT",
            }
        ],
    }
    moved = await gateway.place("w-reused", {"TEE": 1}, shipTo={**BERLIN, "city": "Potsdam"})
    assert codes(moved) == [("INVALID_INPUT", "input.externalId")]
    assert await gateway.place("w-reused", {"TEE": 1}) == placed
    assert await gateway.stock("TEE") == {"DC-LIS": (50, 0), "HUB-BER": (2, 1)}


async def test_short_stock_is_refused_and_holds_nothing(gateway: Gateway) -> None:
    short = await gateway.place("w-short", {"CAP": 1, "TEE": 60})
    assert short["order"] is None
    assert codes(short) == [("INSUFFICIENT_STOCK", "input.lines")]
    assert await gateway.stock("TEE") == {"DC-LIS": (50, 0), "HUB-BER": (2, 0)}
    assert await gateway.stock("CAP") == {"HUB-BER": (1, 0)}


async def test_ship_complete_refuses_what_no_single_location_has(gateway: Gateway) -> None:
    whole = await gateway.place("w-whole", {"CAP": 1, "MUG": 1}, splitPolicy="SHIP_COMPLETE")
    assert whole["order"] is None
    assert codes(whole) == [("INSUFFICIENT_STOCK", "input.lines")]
    assert "one location" in whole["userErrors"][0]["message"]
    assert await gateway.stock("CAP") == {"HUB-BER": (1, 0)}

    split = await gateway.place("w-whole", {"CAP": 1, "MUG": 1})
    assert split["userErrors"] == []
    shipments = split["order"]["shipments"]
    assert sorted((s["location"]["code"], s["lines"][0]["sku"]) for s in shipments) == [
        ("DC-LIS", "MUG"),
        ("HUB-BER", "CAP"),
    ]


@pytest.mark.parametrize(
    ("external_id", "lines", "shift", "expected"),
    [
        ("w-x", {"NOPE": 1}, {}, ("NOT_FOUND", "input.lines.0.sku")),
        ("w-x", {"TEE": 0}, {}, ("INVALID_QUANTITY", "input.lines.0.quantity")),
        ("w-x", {"TEE": 1}, {"latitude": 91.0}, ("INVALID_INPUT", "input.shipTo.latitude")),
        (" ", {"TEE": 1}, {}, ("INVALID_INPUT", "input.externalId")),
    ],
    ids=["unknown-sku", "zero-quantity", "latitude", "external-id"],
)
async def test_refusals_name_the_input_field(
    gateway: Gateway,
    external_id: str,
    lines: dict[str, int],
    shift: dict[str, float],
    expected: tuple[str, str],
) -> None:
    variables = order_input(external_id, lines)
    variables["input"]["shipTo"] = BERLIN | shift
    refused = (await gateway.data(operation("PlaceOrder"), variables))["placeOrder"]
    assert refused["order"] is None
    assert codes(refused) == [expected]
    assert await gateway.stock("TEE") == {"DC-LIS": (50, 0), "HUB-BER": (2, 0)}


async def test_an_address_without_coordinates_is_placed_from_its_city(gateway: Gateway) -> None:
    variables = order_input("w-city", {"TEE": 1})
    variables["input"]["shipTo"] = {"city": "Berlin", "postalCode": "10115", "country": "DE"}
    placed = (await gateway.data(operation("PlaceOrder"), variables))["placeOrder"]
    assert placed["userErrors"] == []
    assert [s["location"]["code"] for s in placed["order"]["shipments"]] == ["HUB-BER"]
    detail = (await gateway.data(ORDER_ROUTING, {"id": placed["order"]["id"]}))["order"]
    assert detail["routing"]["addressPlacement"] == "CITY"
    assert round(detail["shipTo"]["latitude"]) == 53 and round(detail["shipTo"]["longitude"]) == 13


async def test_an_address_that_cannot_be_placed_is_refused_and_holds_nothing(
    gateway: Gateway,
) -> None:
    variables = order_input("w-nowhere", {"TEE": 1})
    variables["input"]["shipTo"] = {"city": "Atlantis", "postalCode": "00000", "country": "XX"}
    refused = (await gateway.data(operation("PlaceOrder"), variables))["placeOrder"]
    assert refused["order"] is None
    assert codes(refused) == [("INVALID_ADDRESS", "input.shipTo")]
    assert await gateway.stock("TEE") == {"DC-LIS": (50, 0), "HUB-BER": (2, 0)}


async def test_shipping_takes_units_off_on_hand_and_moves_the_order(gateway: Gateway) -> None:
    order = (await gateway.place("w-ship", {"CAP": 1, "MUG": 2}))["order"]
    by_location = {s["location"]["code"]: s["id"] for s in order["shipments"]}

    shipped = await gateway.data(
        operation("ShipShipment"), {"id": by_location["DC-LIS"], "trackingNumber": "TRK-1"}
    )
    assert shipped["shipShipment"] == {
        "shipment": {"id": by_location["DC-LIS"], "status": "SHIPPED"},
        "userErrors": [],
    }
    assert await gateway.stock("MUG") == {"DC-LIS": (3, 0)}
    assert await gateway.stock("CAP") == {"HUB-BER": (1, 1)}
    detail = (await gateway.data(ORDER_ROUTING, {"id": order["id"]}))["order"]
    assert detail["status"] == "PARTIALLY_SHIPPED" and detail["shippedAt"] is None
    dc = next(s for s in detail["shipments"] if s["location"]["code"] == "DC-LIS")
    assert dc["trackingNumber"] == "TRK-1" and dc["shippedAt"]

    # Shipping it again moves nothing.
    again = (await gateway.data(SHIP, {"id": by_location["DC-LIS"]}))["shipShipment"]
    assert again["userErrors"] == [] and again["order"]["status"] == "PARTIALLY_SHIPPED"
    assert await gateway.stock("MUG") == {"DC-LIS": (3, 0)}

    last = (await gateway.data(SHIP, {"id": by_location["HUB-BER"], "trackingNumber": "TRK-2"}))[
        "shipShipment"
    ]
    assert last["shipment"]["status"] == "SHIPPED"
    assert last["shipment"]["location"] == {"code": "HUB-BER"}
    assert last["order"]["status"] == "SHIPPED" and last["order"]["shippedAt"]
    assert await gateway.stock("CAP") == {"HUB-BER": (0, 0)}

    late = (await gateway.data(operation("CancelOrder"), {"id": order["id"]}))["cancelOrder"]
    assert late["order"] is None
    assert codes(late) == [("INVALID_STATE", "id")]

    unknown = (await gateway.data(SHIP, {"id": "no-such-shipment"}))["shipShipment"]
    assert unknown["shipment"] is None and codes(unknown) == [("NOT_FOUND", "id")]


async def test_cancelling_releases_what_the_order_held(gateway: Gateway) -> None:
    order = (await gateway.place("w-cancel", {"TEE": 2}))["order"]
    assert await gateway.stock("TEE") == {"DC-LIS": (50, 0), "HUB-BER": (2, 2)}

    cancelled = (await gateway.data(operation("CancelOrder"), {"id": order["id"]}))["cancelOrder"]
    assert cancelled == {"order": {"id": order["id"], "status": "CANCELLED"}, "userErrors": []}
    assert await gateway.stock("TEE") == {"DC-LIS": (50, 0), "HUB-BER": (2, 0)}
    detail = (await gateway.data(ORDER_ROUTING, {"id": order["id"]}))["order"]
    assert detail["cancelledAt"] and [s["status"] for s in detail["shipments"]] == ["CANCELLED"]

    again = (await gateway.data(operation("CancelOrder"), {"id": order["id"]}))["cancelOrder"]
    assert again == cancelled
    ship = (await gateway.data(SHIP, {"id": order["shipments"][0]["id"]}))["shipShipment"]
    assert codes(ship) == [("INVALID_STATE", "id")]
    assert await gateway.stock("TEE") == {"DC-LIS": (50, 0), "HUB-BER": (2, 0)}

    unknown = await gateway.data(operation("CancelOrder"), {"id": "no-such-order"})
    assert codes(unknown["cancelOrder"]) == [("NOT_FOUND", "id")]
    assert (await gateway.data(operation("Order"), {"id": "no-such-order"})) == {"order": None}


async def test_orders_are_paged_most_recent_first_and_filtered_by_status(
    gateway: Gateway,
) -> None:
    placed = [(await gateway.place(f"w-page-{n}", {"TEE": 1}))["order"] for n in range(5)]
    await gateway.data(operation("CancelOrder"), {"id": placed[1]["id"]})

    seen: list[dict[str, Any]] = []
    after = None
    has_next = True
    pages = 0
    while has_next:
        page = (await gateway.data(operation("Orders"), {"first": 2, "after": after}))["orders"]
        seen += [edge["node"] for edge in page["edges"]]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after, has_next = page["pageInfo"]["endCursor"], page["pageInfo"]["hasNextPage"]
        pages += 1
    assert pages == 3
    assert [o["id"] for o in seen] == [o["id"] for o in reversed(placed)]
    assert [o["status"] for o in seen] == ["ALLOCATED"] * 3 + ["CANCELLED", "ALLOCATED"]

    cancelled = await gateway.data(operation("Orders"), {"first": 10, "status": "CANCELLED"})
    assert [e["node"]["id"] for e in cancelled["orders"]["edges"]] == [placed[1]["id"]]
    assert cancelled["orders"]["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": cancelled["orders"]["edges"][0]["cursor"],
    }

    # Bad arguments to a query are top-level errors with a code, not faults.
    for variables in ({"first": 0}, {"first": 2, "after": "not-a-cursor"}):
        body = await gateway.post(operation("Orders"), variables)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_INPUT"]


async def test_a_storefront_sees_only_the_orders_it_placed(gateway: Gateway) -> None:
    order = (await gateway.place("w-mine", {"TEE": 1}, role=Role.STOREFRONT))["order"]
    assert (await gateway.data(operation("Order"), {"id": order["id"]}, Role.STOREFRONT))[
        "order"
    ] == order

    other: Requester = {"role": Role.STOREFRONT, "subject": "storefront-b"}
    assert (await gateway.data(operation("Order"), {"id": order["id"]}, **other)) == {"order": None}
    refused = await gateway.data(operation("CancelOrder"), {"id": order["id"]}, **other)
    assert refused["cancelOrder"] == {
        "order": None,
        "userErrors": [{"field": "id", "message": f"no order {order['id']}", "code": "NOT_FOUND"}],
    }
    mine = await gateway.data(operation("Orders"), {"first": 10}, Role.STOREFRONT)
    theirs = await gateway.data(operation("Orders"), {"first": 10}, **other)
    assert [e["node"]["id"] for e in mine["orders"]["edges"]] == [order["id"]]
    assert theirs["orders"]["edges"] == []
    # Reusing the (channel, externalId) of another's order tells nothing about it.
    variables = order_input("w-mine", {"TEE": 1})
    taken = (await gateway.data(operation("PlaceOrder"), variables, **other))["placeOrder"]
    assert taken["order"] is None and codes(taken) == [("INVALID_INPUT", "input.externalId")]
    assert order["id"] not in str(taken)

    backoffice = await gateway.data(operation("Order"), {"id": order["id"]}, Role.BACKOFFICE)
    assert backoffice["order"]["status"] == "ALLOCATED"
    assert await gateway.stock("TEE") == {"DC-LIS": (50, 0), "HUB-BER": (2, 1)}


async def test_the_scanner_may_not_touch_orders(gateway: Gateway) -> None:
    order = (await gateway.place("w-scan", {"TEE": 1}))["order"]
    attempts = {
        "PlaceOrder": order_input("w-scan-2", {"TEE": 1}),
        "Order": {"id": order["id"]},
        "CancelOrder": {"id": order["id"]},
        "ShipShipment": {"id": order["shipments"][0]["id"]},
        "Orders": {"first": 10},
    }
    for name, variables in attempts.items():
        body = await gateway.post(operation(name), variables, Role.SCANNER)
        assert not any((body["data"] or {}).values()), name
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], name
    storefront_may_not_ship = await gateway.post(
        operation("ShipShipment"), attempts["ShipShipment"], Role.STOREFRONT
    )
    assert [e["extensions"]["code"] for e in storefront_may_not_ship["errors"]] == ["FORBIDDEN"]
    page = await gateway.data(operation("Orders"), {"first": 10})
    assert [e["node"]["status"] for e in page["orders"]["edges"]] == ["ALLOCATED"]


class CallCounter(grpc.aio.UnaryUnaryClientInterceptor):
    """Counts the calls made over a channel, by method; the calls themselves go through."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    async def intercept_unary_unary(
        self,
        continuation: Callable[
            [grpc.aio.ClientCallDetails, Request],
            Awaitable[grpc.aio.UnaryUnaryCall[Request, Response]],
        ],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Request,
    ) -> Response | grpc.aio.UnaryUnaryCall[Request, Response]:
        method = client_call_details.method
        self.calls[method.decode() if isinstance(method, bytes) else method] += 1
        return await continuation(client_call_details, request)


async def test_a_page_of_orders_asks_inventory_once_for_its_locations(
    gateway: Gateway, orders: OrdersUnderTest, inventory: InventoryUnderTest
) -> None:
    for n in range(50):  # the first two from the hub, the rest from the DC
        assert (await gateway.place(f"w-bulk-{n}", {"TEE": 1}))["userErrors"] == []
    # The same schema the gateway serves, executed in-process so the inventory channel can be
    # watched.
    counter = CallCounter()
    channel = grpc.aio.secure_channel(
        f"127.0.0.1:{inventory.running.port}",
        credentials(GATEWAY).for_channel(),
        options=[("grpc.ssl_target_name_override", "inventory")],
        interceptors=[counter],
    )
    try:
        services = ServiceStubs(
            {InventoryServiceStub: InventoryServiceStub(channel), OrdersServiceStub: orders.stub}
        )
        context = Context.create(
            services, InventoryFeed(), Caller(subject="ops", role=Role.BACKOFFICE)
        )
        result = await build_schema().execute(
            "{ orders(first: 50) { edges { node { shipments { location { code kind } } "
            "routing { parcels { location { code } } } } } } }",
            context_value=context,
        )
    finally:
        await channel.close()
    assert result.errors is None, result.errors
    assert result.data is not None
    edges = result.data["orders"]["edges"]
    assert len(edges) == 50
    shipped_from = Counter(e["node"]["shipments"][0]["location"]["code"] for e in edges)
    assert shipped_from == {"HUB-BER": 2, "DC-LIS": 48}
    assert counter.calls == {"/oms.inventory.v1.InventoryService/ListLocations": 1}
