"""Bounded everything, through the gateway and straight to the services over gRPC, on SQLite and
PostgreSQL: oversized text, NUL bytes and lone surrogates, huge lists and forged cursors are
refused with INVALID_INPUT on their field and write nothing; totals past 32 bits are answered."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.settings import RequestLimits
from oms.inventory.v1 import inventory_pb2 as ipb
from oms.orders.v1 import orders_pb2 as opb
from services.kernel.caller import Caller, Role
from tests.integration.conftest import (
    InventoryUnderTest,
    OrdersUnderTest,
    eventually,
    outbox_drained,
)
from tests.integration.test_gateway_orders import order_input
from tests.support.contract import operation
from tests.support.gateway import SIGNING_KEY
from tests.support.graphql import PATH, GraphQLClient
from tests.support.refusals import refusal
from tests.support.stock import ADJUST_STOCK, seed

# code: (kind, latitude, longitude). The customer is in Berlin.
LOCATIONS = {
    "DC-LIS": ("DISTRIBUTION_CENTER", 38.72, -9.14),
    "HUB-BER": ("RETURN_HUB", 52.50, 13.45),
    "STORE-BER": ("STORE", 52.52, 13.41),
}
ORDERS_PAGE = """
query Orders($first: Int!, $after: String) {
  orders(first: $first, after: $after) { edges { node { id shipTo { line1 } } } }
}"""
A_BILLION = 1_000_000_000
STOREFRONT = Caller("storefront-a", Role.STOREFRONT, channels=("web",)).metadata()


class Gateway(GraphQLClient):
    async def place(self, variables: dict[str, Any]) -> dict[str, Any]:
        answer = await self.data(operation("PlaceOrder"), variables, Role.STOREFRONT)
        placed: dict[str, Any] = answer["placeOrder"]
        return placed

    async def raw(self, document: str, variables: dict[str, Any]) -> httpx.Response:
        """The request as escaped JSON, as a client sends text Python cannot encode as UTF-8
        (a lone surrogate travels as the escape `\\ud800`)."""
        body = json.dumps({"query": document, "variables": variables})
        headers = {
            "Authorization": f"Bearer {self.token(Role.STOREFRONT)}",
            "content-type": "application/json",
        }
        return await self.http.post(PATH, content=body, headers=headers)

    async def order_count(self) -> int:
        page = await self.data(ORDERS_PAGE, {"first": 100})
        return len(page["orders"]["edges"])


@pytest.fixture
def gateway_settings() -> dict[str, Any]:
    # Bodies of megabytes get through (an operator may raise the body cap): the bounds of each
    # field must hold on their own. The default cap is tested in test_gateway_edge.py.
    return {"requests": RequestLimits(max_body_bytes=16 * 1024 * 1024)}


@pytest.fixture
async def gateway(loop_gateway: str) -> AsyncIterator[Gateway]:
    async with Gateway(loop_gateway, SIGNING_KEY, scanner_location="HUB-BER", timeout=30) as gw:
        await seed(gw, LOCATIONS, ["TEE"], {("TEE", "DC-LIS"): 50})
        yield gw


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


def top_level_codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


async def test_a_megabyte_channel_is_refused_and_later_orders_still_publish(
    gateway: Gateway, orders: OrdersUnderTest
) -> None:
    huge = order_input("w-huge", {"TEE": 1})
    huge["input"]["channel"] = "w" * 1_100_000
    refused = await gateway.place(huge)
    assert (refused["order"], codes(refused)) == (None, [("INVALID_INPUT", "input.channel")])
    # Straight to the orders service, past the gateway: refused there too, at its own edge and
    # by its rules (a channel is a code of at most 64 characters).
    direct = opb.PlaceOrderRequest(
        channel="w" * 1_100_000,
        external_id="w-huge",
        email="ada@example.com",
        ship_to=opb.Address(latitude=52.5, longitude=13.4),
        lines=[opb.OrderLine(sku="TEE", quantity=1, unit_price_cents=100)],
    )
    assert await refusal(orders.stub.PlaceOrder(direct, metadata=STOREFRONT)) == (
        "INVALID_INPUT",
        "channel",
    )
    direct.channel = "w" * 65
    assert await refusal(orders.stub.PlaceOrder(direct)) == ("INVALID_INPUT", "channel")
    assert await gateway.order_count() == 0
    # Nothing was held, and the next order's event leaves the outbox.
    placed = await gateway.place(order_input("w-next", {"TEE": 1}))
    assert placed["userErrors"] == []
    await eventually(lambda: outbox_drained(orders.running), what="the orders outbox drained")


async def test_a_megabytes_long_address_is_refused_and_order_pages_stay_whole(
    gateway: Gateway, orders: OrdersUnderTest
) -> None:
    for attempt in range(2):
        variables = order_input(f"w-{attempt}", {"TEE": 1})
        variables["input"]["shipTo"] = variables["input"]["shipTo"] | {"line1": "x" * 4_500_000}
        refused = await gateway.place(variables)
        assert codes(refused) == [("INVALID_INPUT", "input.shipTo.line1")]
    direct = opb.PlaceOrderRequest(
        channel="web",
        external_id="w-direct",
        email="ada@example.com",
        ship_to=opb.Address(latitude=52.5, longitude=13.4, line1="x" * 4_500_000),
        lines=[opb.OrderLine(sku="TEE", quantity=1, unit_price_cents=100)],
    )
    assert await refusal(orders.stub.PlaceOrder(direct)) == ("INVALID_INPUT", "ship_to.line1")
    direct.ship_to.line1 = "x" * 201
    assert await refusal(orders.stub.PlaceOrder(direct)) == ("INVALID_INPUT", "ship_to.line1")
    assert (await gateway.place(order_input("w-fine", {"TEE": 1})))["userErrors"] == []
    page = await gateway.data(ORDERS_PAGE, {"first": 100})
    assert [edge["node"]["shipTo"]["line1"] for edge in page["orders"]["edges"]] == [None]


async def test_nul_bytes_and_lone_surrogates_are_invalid_input_not_faults(
    gateway: Gateway, inventory: InventoryUnderTest, orders: OrdersUnderTest
) -> None:
    cases = [
        ("externalId", "w-1\u0000", "input.externalId"),
        ("channel", "web\ud800", "input.channel"),
        ("email", "ada\udfff@example.com", "input.email"),
    ]
    for name, value, field in cases:
        variables = order_input("w-1", {"TEE": 1})
        variables["input"][name] = value
        response = await gateway.raw(operation("PlaceOrder"), variables)
        assert response.status_code == 200, response.text
        payload = response.json()["data"]["placeOrder"]
        assert codes(payload) == [("INVALID_INPUT", field)], name
    adjustment = {"sku": "TEE", "locationCode": "DC-LIS", "delta": 1, "reason": "count\u0000"}
    body = await gateway.post(ADJUST_STOCK, {"input": adjustment})
    assert codes(body["data"]["adjustStock"]) == [("INVALID_INPUT", "input.reason")]
    levels = await gateway.post('{ stockLevels(sku: "TEE\\u0000") { onHand } }')
    assert top_level_codes(levels) == ["INVALID_INPUT"]
    # Over gRPC a NUL byte is valid UTF-8, and PostgreSQL cannot store or even compare it.
    lookup = ipb.GetStockLevelsRequest(skus=["TEE\x00"])
    assert await refusal(inventory.stub.GetStockLevels(lookup)) == ("INVALID_INPUT", "skus.0")
    adjust = ipb.AdjustStockRequest(sku="TEE", location_code="DC-LIS", delta=1, reason="a\x00b")
    assert await refusal(inventory.stub.AdjustStock(adjust)) == ("INVALID_INPUT", "reason")
    # Nor in a field no rule of the service looks at: the gRPC edge refuses it for every call.
    by_id = opb.GetOrdersRequest(ids=["o-1", "o\x00"])
    assert await refusal(orders.stub.GetOrders(by_id)) == ("INVALID_INPUT", "ids.1")
    assert await gateway.order_count() == 0


async def test_forty_thousand_skus_are_refused_before_they_reach_a_query(
    gateway: Gateway, inventory: InventoryUnderTest
) -> None:
    skus = [f"SKU-{i}" for i in range(40_000)]
    body = await gateway.post(
        operation("Availability"), {"skus": skus, "channel": "web"}, Role.STOREFRONT
    )
    assert top_level_codes(body) == ["INVALID_INPUT"] and body["data"] is None
    huge = ipb.GetAvailabilityRequest(skus=skus, channel="web")
    assert await refusal(inventory.stub.GetAvailability(huge)) == ("INVALID_INPUT", "skus")
    # The service's own bound: 500 SKUs at once.
    over = ipb.GetAvailabilityRequest(skus=skus[:501], channel="web")
    assert await refusal(inventory.stub.GetAvailability(over)) == ("INVALID_INPUT", "skus")
    within = await gateway.data(
        operation("Availability"), {"skus": skus[:500], "channel": "web"}, Role.STOREFRONT
    )
    assert len(within["availability"]) == 500


async def test_a_cursor_past_any_order_is_refused(gateway: Gateway) -> None:
    for forged in (b"order:99999999999999999999", b"order:-1", b"order:" + b"9" * 5000):
        cursor = base64.urlsafe_b64encode(forged).decode()
        body = await gateway.post(ORDERS_PAGE, {"first": 10, "after": cursor})
        assert top_level_codes(body) == ["INVALID_INPUT"], forged[:30]
    body = await gateway.post(ORDERS_PAGE, {"first": 1000})
    assert top_level_codes(body) == ["INVALID_INPUT"]


async def test_availability_past_32_bits_is_answered(gateway: Gateway) -> None:
    # A billion units at each of the three locations (the seed put 50 in Lisbon).
    for code in LOCATIONS:
        delta = A_BILLION - 50 if code == "DC-LIS" else A_BILLION
        adjustment = {"sku": "TEE", "locationCode": code, "delta": delta, "reason": "x"}
        answer = await gateway.data(ADJUST_STOCK, {"input": adjustment})
        assert answer["adjustStock"]["userErrors"] == []
    available = await gateway.data(
        operation("Availability"), {"skus": ["TEE"], "channel": "web"}, Role.STOREFRONT
    )
    assert available == {"availability": [{"sku": "TEE", "available": 3 * A_BILLION}]}
    # A level holds at most a billion units in each state.
    past = {"sku": "TEE", "locationCode": "DC-LIS", "delta": 1, "reason": "x"}
    refused = (await gateway.data(ADJUST_STOCK, {"input": past}))["adjustStock"]
    assert codes(refused) == [("INVALID_QUANTITY", "input.delta")]


async def test_a_refund_past_32_bits_is_paid_and_answered(gateway: Gateway) -> None:
    # Two units at the highest price an order line takes: 42.9 million in refunds.
    price = 2**31 - 1
    variables = order_input("w-dear", {"TEE": 2})
    variables["input"]["lines"][0]["unitPriceCents"] = price
    placed = await gateway.place(variables)
    assert placed["userErrors"] == []
    for shipment in placed["order"]["shipments"]:
        shipped = await gateway.data(operation("ShipShipment"), {"id": shipment["id"]})
        assert shipped["shipShipment"]["userErrors"] == []
    request = {
        "input": {
            "orderId": placed["order"]["id"],
            "lines": [{"sku": "TEE", "quantity": 2, "reason": "UNWANTED"}],
        }
    }
    requested = (await gateway.data(operation("RequestReturn"), request, Role.STOREFRONT))[
        "requestReturn"
    ]
    assert requested["userErrors"] == []
    return_id, at = requested["return"]["id"], requested["return"]["destination"]["code"]
    scanner = {"role": Role.SCANNER, "location": at}
    received = await gateway.data(
        operation("ReceiveReturn"), {"id": return_id, "locationCode": at}, **scanner
    )
    assert received["receiveReturn"]["userErrors"] == []
    lines = [{"sku": "TEE", "grade": "NEW"}] * 2
    inspected = await gateway.data(
        operation("InspectReturn"), {"input": {"returnId": return_id, "lines": lines}}, **scanner
    )
    refund = inspected["inspectReturn"]["return"]["refund"]
    assert refund == {"status": "ISSUED", "amountCents": 2 * price}
    report = await gateway.data("{ returnsReport { returns handlingCostCents } }")
    assert report["returnsReport"]["returns"] == 1
