"""Serial numbers scanned into a parcel travel with its shipment, on SQLite and PostgreSQL:
through ShipShipment and GetOrder, and through the gateway's shipShipment and order."""

from __future__ import annotations

import grpc

from oms.inventory.v1 import inventory_pb2 as inv
from oms.orders.v1 import orders_pb2 as pb
from services.kernel.errors import ErrorCode
from tests.integration.conftest import OrdersUnderTest
from tests.integration.test_gateway_orders import Gateway, codes
from tests.integration.test_gateway_orders import gateway as gateway
from tests.support.refusals import refusal

BERLIN = pb.Address(name="Ada", city="Berlin", latitude=52.52, longitude=13.40)


async def placed_order(system: OrdersUnderTest) -> pb.Order:
    await system.inventory.UpsertLocation(
        inv.UpsertLocationRequest(
            code="DC-BER",
            name="DC",
            kind=inv.LOCATION_KIND_DISTRIBUTION_CENTER,
            latitude=52.5,
            longitude=13.4,
        )
    )
    for sku, serialized in (("PHONE", True), ("TEE", False)):
        await system.inventory.UpsertSku(
            inv.UpsertSkuRequest(
                code=sku, title=sku, unit_cost_cents=900, weight_grams=200, serialized=serialized
            )
        )
        await system.inventory.AdjustStock(
            inv.AdjustStockRequest(sku=sku, location_code="DC-BER", delta=5, reason="count")
        )
    return await system.stub.PlaceOrder(
        pb.PlaceOrderRequest(
            channel="web",
            external_id="w-serials",
            email="ada@example.com",
            ship_to=BERLIN,
            lines=[
                pb.OrderLine(sku="PHONE", quantity=2, unit_price_cents=50000),
                pb.OrderLine(sku="TEE", quantity=1, unit_price_cents=2000),
            ],
        )
    )


def serials(**by_sku: list[str]) -> list[pb.ShipmentLine]:
    return [pb.ShipmentLine(sku=sku, serial_numbers=numbers) for sku, numbers in by_sku.items()]


async def test_serial_numbers_round_trip_and_too_many_are_refused(
    orders: OrdersUnderTest,
) -> None:
    order = await placed_order(orders)
    [shipment] = order.shipments

    def ship(
        entries: list[pb.ShipmentLine],
    ) -> grpc.aio.UnaryUnaryCall[pb.ShipShipmentRequest, pb.ShipShipmentResponse]:
        return orders.stub.ShipShipment(
            pb.ShipShipmentRequest(shipment_id=shipment.id, tracking_number="T1", serials=entries)
        )

    too_many = serials(PHONE=["SN-1"]) + serials(PHONE=["SN-2", "SN-3"])
    assert await refusal(ship(too_many)) == (
        ErrorCode.INVALID_QUANTITY,
        "serials.1.serial_numbers",
    )
    assert await refusal(ship(serials(MUG=["SN-9"]))) == (ErrorCode.INVALID_INPUT, "serials.0.sku")
    assert await refusal(ship(serials(PHONE=["SN-1", "SN-1"]))) == (
        ErrorCode.INVALID_INPUT,
        "serials.0.serial_numbers.1",
    )
    # Refused requests shipped nothing.
    unshipped = await orders.stub.GetOrder(pb.GetOrderRequest(id=order.id))
    assert unshipped.status == pb.ORDER_STATUS_ALLOCATED
    assert [list(x.serial_numbers) for x in unshipped.shipments[0].lines] == [[], []]

    shipped = await ship(serials(PHONE=["SN-1", "SN-2"]))
    assert {x.sku: list(x.serial_numbers) for x in shipped.shipment.lines} == {
        "PHONE": ["SN-1", "SN-2"],
        "TEE": [],
    }
    read = await orders.stub.GetOrder(pb.GetOrderRequest(id=order.id))
    assert read.status == pb.ORDER_STATUS_SHIPPED
    assert {x.sku: list(x.serial_numbers) for x in read.shipments[0].lines} == {
        "PHONE": ["SN-1", "SN-2"],
        "TEE": [],
    }
    # Shipping again changes nothing, its serial numbers included.
    again = await ship(serials(PHONE=["SN-7"]))
    assert [list(x.serial_numbers) for x in again.shipment.lines] == [["SN-1", "SN-2"], []]


SHIP_WITH_SERIALS = """
mutation Ship($id: ID!, $serialNumbers: [ShippedSerialsInput!]) {
  shipShipment(id: $id, serialNumbers: $serialNumbers) {
    shipment { status lines { sku quantity serialNumbers } }
    userErrors { field message code }
  }
}"""
ORDER_SERIALS = """
query Order($id: ID!) { order(id: $id) { shipments { lines { sku serialNumbers } } } }"""


async def test_the_gateway_passes_serial_numbers_through(gateway: Gateway) -> None:
    placed = await gateway.place("w-cap", {"CAP": 1})
    shipment_id = placed["order"]["shipments"][0]["id"]

    too_many = {"id": shipment_id, "serialNumbers": [{"sku": "CAP", "serialNumbers": ["A", "B"]}]}
    refused = (await gateway.data(SHIP_WITH_SERIALS, too_many))["shipShipment"]
    assert refused["shipment"] is None
    assert codes(refused) == [("INVALID_QUANTITY", "serialNumbers.0.serialNumbers")]

    one = {"id": shipment_id, "serialNumbers": [{"sku": "CAP", "serialNumbers": ["CAP-0001"]}]}
    shipped = (await gateway.data(SHIP_WITH_SERIALS, one))["shipShipment"]
    assert shipped == {
        "shipment": {
            "status": "SHIPPED",
            "lines": [{"sku": "CAP", "quantity": 1, "serialNumbers": ["CAP-0001"]}],
        },
        "userErrors": [],
    }
    read = (await gateway.data(ORDER_SERIALS, {"id": placed["order"]["id"]}))["order"]
    assert read["shipments"] == [{"lines": [{"sku": "CAP", "serialNumbers": ["CAP-0001"]}]}]
