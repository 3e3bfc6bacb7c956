"""The gateway's returns over the real inventory, orders, returns and work orders services, on
SQLite and PostgreSQL: GraphQL over HTTP to the gateway under uvicorn, sending the contract's own
documents. Who may do what, the refusals' codes and fields, the hub queue and the report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Unpack

import pytest

from launcher.embedded_nats import EmbeddedNats
from services.kernel.caller import Role
from tests.integration.conftest import (
    InventoryUnderTest,
    OrdersUnderTest,
    ReturnsUnderTest,
    WorkOrdersUnderTest,
    eventually,
)
from tests.integration.test_gateway_orders import order_input
from tests.support.contract import operation
from tests.support.gateway import SIGNING_KEY, serving_gateway
from tests.support.graphql import GraphQLClient, Requester
from tests.support.stock import levels, seed

# code: (kind, latitude, longitude). The customer is in Berlin; the only stock is in Lisbon.
LOCATIONS = {
    "DC-LIS": ("DISTRIBUTION_CENTER", 38.72, -9.14),
    "HUB-BER": ("RETURN_HUB", 52.50, 13.45),
    "HUB-MUC": ("RETURN_HUB", 48.14, 11.58),
}
# Orders on this channel may be returned for 0 days: every return of one is late.
OUTLET = "outlet"
REPORT = """
query Report($from: DateTime, $to: DateTime) {
  returnsReport(from: $from, to: $to) {
    returns
    byDestinationKind { kind returns handlingCostCents centralizedCostCents }
    handlingCostCents centralizedCostCents savingCents
    requestToRefundHoursP50 requestToRefundHoursP90
    receiptToRestockHoursP50 receiptToRestockHoursP90
    backlog { location { code kind } awaitingInspection oldestMinutes }
    awaitingInspection
  }
}"""
RETURN_TIMES = """
query ReturnTimes($id: ID!) {
  return(id: $id) { status requestedAt receivedAt inspectedAt closedAt refund { issuedAt } }
}"""

RETURNS = """
query Returns($status: ReturnStatus, $destinationCode: String, $first: Int, $after: String) {
  returns(status: $status, destinationCode: $destinationCode, first: $first, after: $after) {
    edges { cursor node { id status destination { code } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture
def returns_env() -> dict[str, str]:
    return {f"OMS_RETURN_WINDOW_DAYS_{OUTLET.upper()}": "0"}


class Gateway(GraphQLClient):
    """The one client, with this module's shortcuts."""

    async def shipped_order(
        self, external_id: str, units: int = 1, subject: str = "storefront-a", **extra: Any
    ) -> str:
        """A storefront's order of TEE, shipped (from Lisbon until returns restock the hub), on
        a channel its token names."""
        variables = order_input(external_id, {"TEE": units}, **extra)
        channels = (variables["input"]["channel"],)
        placed = (
            await self.data(
                operation("PlaceOrder"),
                variables,
                role=Role.STOREFRONT,
                subject=subject,
                channels=channels,
            )
        )["placeOrder"]
        assert placed["userErrors"] == [], placed
        for shipment in placed["order"]["shipments"]:
            shipped = await self.data(operation("ShipShipment"), {"id": shipment["id"]})
            assert shipped["shipShipment"]["userErrors"] == []
        return str(placed["order"]["id"])

    async def request(
        self, order_id: str, units: int = 1, **who: Unpack[Requester]
    ) -> dict[str, Any]:
        variables = {
            "input": {
                "orderId": order_id,
                "lines": [{"sku": "TEE", "quantity": units, "reason": "SIZE_TOO_SMALL"}],
            }
        }
        answer = await self.data(operation("RequestReturn"), variables, **who)
        requested: dict[str, Any] = answer["requestReturn"]
        return requested

    async def receive(
        self, return_id: str, at: str = "HUB-BER", **who: Unpack[Requester]
    ) -> dict[str, Any]:
        variables = {"id": return_id, "locationCode": at}
        who = {"role": Role.SCANNER, "location": at} | who
        answer = await self.data(operation("ReceiveReturn"), variables, **who)
        received: dict[str, Any] = answer["receiveReturn"]
        return received

    async def inspect(
        self, return_id: str, *grades: str, grams: int | None = None, **who: Unpack[Requester]
    ) -> dict[str, Any]:
        variables: dict[str, Any] = {
            "input": {"returnId": return_id, "lines": [{"sku": "TEE", "grade": g} for g in grades]}
        }
        if grams is not None:
            variables["input"]["measuredWeightGrams"] = grams
        who = {"role": Role.SCANNER, "location": "HUB-BER"} | who
        answer = await self.data(operation("InspectReturn"), variables, **who)
        inspected: dict[str, Any] = answer["inspectReturn"]
        return inspected

    async def queue(self, at: str = "HUB-BER", **who: Unpack[Requester]) -> list[str]:
        who = {"role": Role.SCANNER, "location": at} | who
        found = await self.data(operation("HubQueue"), {"locationCode": at}, **who)
        return [r["id"] for r in found["hubQueue"]]

    async def levels(self, sku: str = "TEE") -> dict[str, dict[str, Any]]:
        return await levels(self, sku)

    async def seed(self) -> None:
        await seed(self, LOCATIONS, ["TEE"], {("TEE", "DC-LIS"): 50})


@pytest.fixture
async def gateway(
    inventory: InventoryUnderTest,
    orders: OrdersUnderTest,
    returns: ReturnsUnderTest,
    workorders: WorkOrdersUnderTest,
    nats_server: EmbeddedNats,
) -> AsyncIterator[Gateway]:
    """The gateway under uvicorn, as `python -m gateway` runs it, over the four services."""
    services = (inventory, orders.service, returns.service, workorders)
    targets = {s.definition.name: s.target for s in services}
    async with serving_gateway(targets, nats_server.url, SIGNING_KEY) as url:
        async with Gateway(url, SIGNING_KEY, scanner_location="HUB-BER", timeout=10) as gateway:
            await gateway.seed()
            yield gateway


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


def top_level_codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


async def test_a_return_is_routed_scanned_inspected_and_refunded_once(gateway: Gateway) -> None:
    order_id = await gateway.shipped_order("w-1")
    requested = await gateway.request(order_id, role=Role.STOREFRONT, subject="storefront-a")
    assert requested["userErrors"] == []
    detail = requested["return"]
    assert detail | {"id": None} == {
        "id": None,
        "status": "REQUESTED",
        "orderId": order_id,
        "destination": {"code": "HUB-BER", "kind": "RETURN_HUB"},
        # About $5 dropped off at the hub against about $35 sent back to Lisbon.
        "estimatedCostCents": 500,
        "centralizedCostCents": 3500,
        "lines": [
            {
                "sku": "TEE",
                "quantity": 1,
                "reason": "SIZE_TOO_SMALL",
                "grade": None,
                "disposition": None,
            }
        ],
        "fraudFlags": [],
        "refund": None,
    }
    return_id = detail["id"]

    received = await gateway.receive(return_id)
    assert received["userErrors"] == [] and received["return"]["status"] == "RECEIVED"
    assert await gateway.queue() == [return_id]
    again = await gateway.receive(return_id)
    assert again["return"] is None and codes(again) == [("INVALID_STATE", "id")]

    inspected = await gateway.inspect(return_id, "NEW", grams=200)
    assert inspected["userErrors"] == []
    assert inspected["return"]["status"] == "CLOSED"
    assert [(x["grade"], x["disposition"]) for x in inspected["return"]["lines"]] == [
        ("NEW", "RESTOCK")
    ]
    assert inspected["return"]["refund"] == {"status": "ISSUED", "amountCents": 2500}
    assert await gateway.queue() == []

    twice = await gateway.inspect(return_id, "NEW")
    assert twice["return"] is None and codes(twice) == [("INVALID_STATE", "input.returnId")]
    times = (await gateway.data(RETURN_TIMES, {"id": return_id}))["return"]
    assert all(times[k] for k in ("requestedAt", "receivedAt", "inspectedAt", "closedAt"))
    assert times["refund"]["issuedAt"]

    async def restocked() -> bool:
        return (await gateway.levels()).get("HUB-BER", {}).get("available") == 1

    await eventually(restocked, what="the unit restocked at the hub")


async def test_each_role_reaches_only_what_it_may(gateway: Gateway) -> None:
    order_id = await gateway.shipped_order("w-roles")
    other_storefront: Requester = {"role": Role.STOREFRONT, "subject": "storefront-b"}
    refused = await gateway.request(order_id, **other_storefront)
    # Word for word the answer for an order that does not exist.
    assert refused == {
        "return": None,
        "userErrors": [
            {"field": "input.orderId", "message": f"no order {order_id}", "code": "NOT_FOUND"}
        ],
    }
    return_id = (await gateway.request(order_id, role=Role.STOREFRONT))["return"]["id"]
    by_id = {"id": return_id}
    assert (await gateway.data(operation("Return"), by_id, role=Role.STOREFRONT))["return"]
    assert (await gateway.data(operation("Return"), by_id, **other_storefront)) == {"return": None}

    munich: Requester = {"role": Role.SCANNER, "location": "HUB-MUC"}
    forbidden = await gateway.receive(return_id, at="HUB-BER", **munich)
    assert codes(forbidden) == [("FORBIDDEN", "locationCode")]
    wrong_hub = await gateway.receive(return_id, at="HUB-MUC")
    assert wrong_hub["return"] is None
    assert codes(wrong_hub) == [("WRONG_LOCATION", "locationCode")]
    assert (await gateway.data(operation("Return"), by_id, **munich)) == {"return": None}
    queue = await gateway.post(operation("HubQueue"), {"locationCode": "HUB-BER"}, **munich)
    assert queue["data"] is None and top_level_codes(queue) == ["FORBIDDEN"]

    assert (await gateway.receive(return_id))["userErrors"] == []
    elsewhere = await gateway.inspect(return_id, "NEW", **munich)
    assert codes(elsewhere) == [("FORBIDDEN", "input.returnId")]
    berlin = await gateway.data(operation("Return"), by_id, role=Role.SCANNER)
    assert berlin["return"]["status"] == "RECEIVED"

    not_for_them = [
        (Role.STOREFRONT, "ReceiveReturn", {"id": return_id, "locationCode": "HUB-BER"}),
        (Role.STOREFRONT, "HubQueue", {"locationCode": "HUB-BER"}),
        (Role.SCANNER, "RequestReturn", {"input": {"orderId": order_id, "lines": []}}),
        (Role.SCANNER, "Report", {}),
        (Role.STOREFRONT, "Report", {}),
    ]
    for role, name, variables in not_for_them:
        document = REPORT if name == "Report" else operation(name)
        body = await gateway.post(document, variables, role=role)
        assert top_level_codes(body) == ["FORBIDDEN"], (role, name)
    # Back office works everywhere.
    queue_bo = await gateway.data(operation("HubQueue"), {"locationCode": "HUB-BER"})
    assert [r["id"] for r in queue_bo["hubQueue"]] == [return_id]


async def test_refusals_have_stable_codes_and_name_the_input(gateway: Gateway) -> None:
    order_id = await gateway.shipped_order("w-refusals", units=2)
    more = await gateway.request(order_id, units=3)
    assert more["return"] is None and codes(more) == [
        ("INVALID_QUANTITY", "input.lines.0.quantity")
    ]
    none = await gateway.request(order_id, units=0)
    assert codes(none) == [("INVALID_QUANTITY", "input.lines.0.quantity")]
    assert (await gateway.request(order_id, units=2))["userErrors"] == []
    # Both units are on their way back already.
    assert codes(await gateway.request(order_id)) == [
        ("INVALID_QUANTITY", "input.lines.0.quantity")
    ]
    assert codes(await gateway.request("no-such-order")) == [("NOT_FOUND", "input.orderId")]
    far = {"latitude": 95.0, "longitude": 13.4}
    variables = {
        "input": {
            "orderId": order_id,
            "lines": [{"sku": "TEE", "quantity": 1, "reason": "OTHER"}],
            "customerAddress": far,
        }
    }
    # The GraphQL layer cannot know the range; the service names the argument's field.
    off_map = (await gateway.data(operation("RequestReturn"), variables))["requestReturn"]
    assert codes(off_map) == [("INVALID_INPUT", "input.customerAddress.latitude")]
    variables["input"]["customerAddress"] = {"city": "Atlantis", "country": "XX"}
    unplaced = (await gateway.data(operation("RequestReturn"), variables))["requestReturn"]
    assert codes(unplaced) == [("INVALID_ADDRESS", "input.customerAddress")]
    # Without coordinates, the city places the customer: now in Munich, not at the Berlin ship-to.
    variables["input"]["orderId"] = await gateway.shipped_order("o-munich")
    variables["input"]["customerAddress"] = {"city": "München", "country": "DE"}
    placed = (await gateway.data(operation("RequestReturn"), variables))["requestReturn"]
    assert placed["return"]["destination"] == {"code": "HUB-MUC", "kind": "RETURN_HUB"}

    late_order = await gateway.shipped_order("o-late", channel=OUTLET)
    late = await gateway.request(late_order)
    assert late["return"] is None and codes(late) == [("OUTSIDE_WINDOW", "input.lines.0.sku")]

    assert codes(await gateway.receive("no-such-return")) == [("NOT_FOUND", "id")]
    unknown = await gateway.inspect("no-such-return", "NEW")
    assert codes(unknown) == [("NOT_FOUND", "input.returnId")]
    nowhere = await gateway.post(operation("HubQueue"), {"locationCode": "NOWHERE"})
    assert nowhere["data"] is None and top_level_codes(nowhere) == ["NOT_FOUND"]


async def test_inspecting_before_the_scan_is_refused_and_nothing_moves(gateway: Gateway) -> None:
    order_id = await gateway.shipped_order("w-early")
    return_id = (await gateway.request(order_id))["return"]["id"]
    early = await gateway.inspect(return_id, "NEW")
    assert early["return"] is None and codes(early) == [("INVALID_STATE", "input.returnId")]
    status = (await gateway.data(operation("Return"), {"id": return_id}))["return"]["status"]
    assert status == "REQUESTED"
    assert "HUB-BER" not in await gateway.levels()


async def test_the_hub_queue_lists_parcels_oldest_receipt_first(gateway: Gateway) -> None:
    ids = []
    for n in range(3):
        order_id = await gateway.shipped_order(f"w-queue-{n}")
        ids.append((await gateway.request(order_id))["return"]["id"])
    for return_id in (ids[2], ids[0], ids[1]):
        assert (await gateway.receive(return_id))["userErrors"] == []
    assert await gateway.queue() == [ids[2], ids[0], ids[1]]
    assert await gateway.queue("HUB-MUC") == []
    assert (await gateway.inspect(ids[0], "NEW"))["userErrors"] == []
    assert await gateway.queue() == [ids[2], ids[1]]

    async def pending() -> bool:
        return (await gateway.levels()).get("HUB-BER", {}).get("pendingInspection") == 2

    await eventually(pending, what="two units pending inspection at the hub")


async def test_the_returns_page_newest_first_filtered_by_the_service_for_each_caller(
    gateway: Gateway,
) -> None:
    ids = []
    for n in range(3):
        order_id = await gateway.shipped_order(f"w-list-{n}")
        ids.append((await gateway.request(order_id))["return"]["id"])
    munich_order = await gateway.shipped_order("w-list-munich")
    variables = {
        "input": {
            "orderId": munich_order,
            "lines": [{"sku": "TEE", "quantity": 1, "reason": "OTHER"}],
            "customerAddress": {"city": "München", "country": "DE"},
        }
    }
    munich = (await gateway.data(operation("RequestReturn"), variables))["requestReturn"]
    ids.append(munich["return"]["id"])
    assert (await gateway.receive(ids[0]))["userErrors"] == []

    async def listed(**who: Unpack[Requester]) -> list[str]:
        return await every_page(gateway, {}, **who)

    newest_first = ids[::-1]
    assert await listed() == newest_first
    received = {"status": "RECEIVED"}
    assert await every_page(gateway, received) == [ids[0]]
    assert await every_page(gateway, {"destinationCode": "HUB-MUC"}) == [ids[3]]
    to_berlin = {"status": "REQUESTED", "destinationCode": "HUB-BER"}
    assert await every_page(gateway, to_berlin) == [ids[2], ids[1]]
    # A scanner lists its own hub's returns; a storefront the returns of the orders it placed.
    assert await listed(role=Role.SCANNER) == newest_first[1:]
    assert await listed(role=Role.STOREFRONT) == newest_first
    assert await listed(role=Role.STOREFRONT, subject="storefront-b") == []
    elsewhere = await gateway.post(RETURNS, {"destinationCode": "HUB-MUC"}, role=Role.SCANNER)
    assert elsewhere["data"] is None and top_level_codes(elsewhere) == ["FORBIDDEN"]
    for bad in ({"first": 0}, {"first": 101}, {"after": "not-a-cursor"}):
        refused = await gateway.post(RETURNS, bad)
        assert refused["data"] is None and top_level_codes(refused) == ["INVALID_INPUT"], bad


async def every_page(
    gateway: Gateway, variables: dict[str, Any], **who: Unpack[Requester]
) -> list[str]:
    """The ids of every return listed, two a page."""
    found: list[str] = []
    after = None
    while True:
        page = (await gateway.data(RETURNS, variables | {"first": 2, "after": after}, **who))[
            "returns"
        ]
        found += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def test_the_report_weighs_local_against_central_and_shows_the_backlog(
    gateway: Gateway,
) -> None:
    empty = (await gateway.data(REPORT))["returnsReport"]
    assert empty["returns"] == 0 and empty["backlog"] == [] and empty["savingCents"] == 0
    refunded = []
    for n in range(2):
        order_id = await gateway.shipped_order(f"w-report-{n}")
        refunded.append((await gateway.request(order_id))["return"]["id"])
    waiting_order = await gateway.shipped_order("w-report-waiting")
    waiting = (await gateway.request(waiting_order))["return"]["id"]
    for return_id in [*refunded, waiting]:
        assert (await gateway.receive(return_id))["userErrors"] == []
    for return_id in refunded:
        assert (await gateway.inspect(return_id, "NEW"))["userErrors"] == []
    moved = {"latitude": 38.71, "longitude": -9.13}  # a customer now in Lisbon: to the DC
    central_order = await gateway.shipped_order("w-report-central")
    variables = {
        "input": {
            "orderId": central_order,
            "lines": [{"sku": "TEE", "quantity": 1, "reason": "OTHER"}],
            "customerAddress": moved,
        }
    }
    central = (await gateway.data(operation("RequestReturn"), variables))["requestReturn"]
    assert central["return"]["destination"] == {"code": "DC-LIS", "kind": "DISTRIBUTION_CENTER"}

    report = (await gateway.data(REPORT))["returnsReport"]
    by_kind = {k["kind"]: k for k in report["byDestinationKind"]}
    assert by_kind["RETURN_HUB"] == {
        "kind": "RETURN_HUB",
        "returns": 3,
        "handlingCostCents": 1500,
        "centralizedCostCents": 10500,
    }
    assert by_kind["DISTRIBUTION_CENTER"]["returns"] == 1
    dc = by_kind["DISTRIBUTION_CENTER"]
    assert dc["handlingCostCents"] == dc["centralizedCostCents"]
    assert report["returns"] == 4
    assert report["handlingCostCents"] == 1500 + dc["handlingCostCents"]
    assert report["centralizedCostCents"] == 10500 + dc["centralizedCostCents"]
    assert report["savingCents"] == 9000
    assert 0 <= report["requestToRefundHoursP50"] <= report["requestToRefundHoursP90"] < 1
    assert 0 <= report["receiptToRestockHoursP50"] <= report["receiptToRestockHoursP90"] < 1
    assert report["backlog"] == [
        {
            "location": {"code": "HUB-BER", "kind": "RETURN_HUB"},
            "awaitingInspection": 1,
            "oldestMinutes": 0,
        }
    ]
    assert report["awaitingInspection"] == 1

    future = {"from": "2099-01-01T00:00:00+00:00"}
    later = (await gateway.data(REPORT, future))["returnsReport"]
    # Nothing was requested then; the backlog is today's whatever the period.
    assert later["returns"] == 0 and later["awaitingInspection"] == 1


async def test_a_good_unit_goes_to_repair_and_a_light_parcel_is_rejected(
    gateway: Gateway,
) -> None:
    good_order = await gateway.shipped_order("w-good")
    good = (await gateway.request(good_order))["return"]["id"]
    light_order = await gateway.shipped_order("w-light")
    light = (await gateway.request(light_order))["return"]["id"]
    for return_id in (good, light):
        assert (await gateway.receive(return_id))["userErrors"] == []

    refurbished = (await gateway.inspect(good, "GOOD"))["return"]
    assert refurbished["status"] == "INSPECTED"
    assert [(x["grade"], x["disposition"]) for x in refurbished["lines"]] == [("GOOD", "REFURBISH")]
    assert refurbished["refund"] == {"status": "ISSUED", "amountCents": 2500}

    # A 200 g tee in a 20 g parcel.
    rejected = (await gateway.inspect(light, "NEW", grams=20))["return"]
    assert rejected["status"] == "REJECTED"
    assert rejected["fraudFlags"] == ["WEIGHT_MISMATCH"]
    assert rejected["refund"] == {"status": "WITHHELD", "amountCents": 2500}

    async def in_repair() -> bool:
        hub = (await gateway.levels()).get("HUB-BER", {})
        return hub.get("inRepair") == 1 and hub.get("pendingInspection") == 0

    await eventually(in_repair, what="one unit in repair, none pending, at the hub")
    hub = (await gateway.levels())["HUB-BER"]
    # The rejected parcel is nothing sellable.
    assert (hub["onHand"], hub["available"]) == (0, 0)
