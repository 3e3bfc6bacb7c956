"""Backorders through the real orders and inventory services, a real broker and both databases:
purchase orders arrive as procurement publishes them; buyers race for units still on order; the
receipt allocates the oldest backorders first."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
import nats
import pytest
from nats.js import JetStreamContext

from launcher.embedded_nats import EmbeddedNats
from oms.events.v1.procurement_pb2 import (
    PurchasedUnits,
    PurchaseOrderOpened,
    PurchaseOrderReceived,
)
from oms.inventory.v1 import inventory_pb2 as inv
from oms.orders.v1 import orders_pb2 as pb
from services.kernel.errors import ErrorCode, from_rpc_error
from services.kernel.events import ensure_stream
from tests.integration.conftest import (
    OrdersUnderTest,
    event_envelope,
    eventually,
    publish_event,
)
from tests.integration.test_no_oversell import assert_ledger_balances
from tests.support.refusals import refusal

BERLIN = pb.Address(name="Ada", city="Berlin", latitude=52.52, longitude=13.40)
EXPECTED = datetime(2031, 5, 6, 9, 30, tzinfo=UTC)
BUYERS = 40
ON_ORDER = 10


@pytest.fixture
async def procurement_events(nats_server: EmbeddedNats) -> AsyncIterator[JetStreamContext]:
    """JetStream with procurement's stream, to publish as procurement does."""
    client = await nats.connect(nats_server.url)
    js = client.jetstream()
    await ensure_stream(js, "procurement")
    try:
        yield js
    finally:
        await client.close()


async def network(system: OrdersUnderTest) -> None:
    """One distribution centre with nothing on hand; `web` takes backorders, `shop` does not."""
    await system.inventory.UpsertLocation(
        inv.UpsertLocationRequest(
            code="DC",
            name="DC",
            kind=inv.LOCATION_KIND_DISTRIBUTION_CENTER,
            latitude=50.1,
            longitude=8.7,
        )
    )
    await system.inventory.UpsertSku(
        inv.UpsertSkuRequest(code="BOOK", title="Book", unit_cost_cents=500, weight_grams=300)
    )
    web = await system.inventory.UpsertChannel(
        inv.UpsertChannelRequest(code="web", allow_backorders=True)
    )
    assert web.allow_backorders
    await system.inventory.UpsertChannel(inv.UpsertChannelRequest(code="shop"))


async def level(system: OrdersUnderTest) -> tuple[int, int, int, int]:
    """(on hand, reserved, in transit, promised) of BOOK at the DC."""
    found = await system.inventory.GetStockLevels(inv.GetStockLevelsRequest(skus=["BOOK"]))
    if not found.levels:
        return 0, 0, 0, 0
    x = found.levels[0]
    return x.on_hand, x.reserved, x.in_transit, x.promised


async def purchase_order_opened(js: JetStreamContext, system: OrdersUnderTest, units: int) -> str:
    purchase_order_id = str(uuid.uuid4())
    before = await level(system)
    event = PurchaseOrderOpened(
        purchase_order_id=purchase_order_id,
        number="PO-000001",
        supplier_code="SUP",
        location_code="DC",
        lines=[PurchasedUnits(sku="BOOK", quantity=units)],
        expected_at=EXPECTED.isoformat(),
    )
    await publish_event(js, event_envelope("procurement", event))

    async def in_transit() -> bool:
        return (await level(system))[2] == before[2] + units

    await eventually(in_transit, what="the purchase order in transit")
    return purchase_order_id


async def received(js: JetStreamContext, purchase_order_id: str, units: int) -> None:
    event = PurchaseOrderReceived(
        purchase_order_id=purchase_order_id,
        number="PO-000001",
        receipt_id=str(uuid.uuid4()),
        location_code="DC",
        lines=[PurchasedUnits(sku="BOOK", quantity=units)],
    )
    await publish_event(js, event_envelope("procurement", event))


def order(external_id: str, units: int = 1, channel: str = "web") -> pb.PlaceOrderRequest:
    return pb.PlaceOrderRequest(
        channel=channel,
        external_id=external_id,
        email="ada@example.com",
        ship_to=BERLIN,
        split_policy=pb.SPLIT_POLICY_ALLOW_SPLIT,
        lines=[pb.OrderLine(sku="BOOK", quantity=units, unit_price_cents=1500)],
    )


# What a client retries with the same request (placement is idempotent per external id): on a
# busy 2-core machine forty placements at once can outlast an inner call's deadline.
AGAIN = (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE)


async def place(system: OrdersUnderTest, request: pb.PlaceOrderRequest) -> pb.Order | ErrorCode:
    for _attempt in range(5):
        try:
            return await system.stub.PlaceOrder(request, timeout=60)
        except grpc.aio.AioRpcError as error:
            if error.code() in AGAIN:
                continue
            refused = from_rpc_error(error)
            assert refused is not None, error
            return refused.code
    raise AssertionError(f"{request.external_id} never answered in 5 attempts")


async def statuses(system: OrdersUnderTest, ids: list[str]) -> list[int]:
    found = await system.stub.GetOrders(pb.GetOrdersRequest(ids=ids))
    by_id = {x.id: x.status for x in found.orders}
    return [by_id[i] for i in ids]


async def test_forty_buyers_for_ten_units_on_order_get_ten_backorders_allocated_on_receipt(
    db_url: str, orders: OrdersUnderTest, procurement_events: JetStreamContext
) -> None:
    await network(orders)
    purchase_order_id = await purchase_order_opened(procurement_events, orders, ON_ORDER)

    outcomes = await asyncio.gather(*(place(orders, order(f"race-{i}")) for i in range(BUYERS)))
    backorders = [x for x in outcomes if isinstance(x, pb.Order)]
    assert len(backorders) == ON_ORDER, outcomes
    assert outcomes.count(ErrorCode.INSUFFICIENT_STOCK) == BUYERS - ON_ORDER
    assert {x.status for x in backorders} == {pb.ORDER_STATUS_BACKORDERED}
    assert {datetime.fromisoformat(x.backorder_expected_at) for x in backorders} == {EXPECTED}
    assert all(not x.shipments for x in backorders)
    assert await level(orders) == (0, 0, ON_ORDER, ON_ORDER)

    await received(procurement_events, purchase_order_id, ON_ORDER)
    ids = [x.id for x in backorders]

    async def all_allocated() -> bool:
        return set(await statuses(orders, ids)) == {pb.ORDER_STATUS_ALLOCATED}

    await eventually(all_allocated, what="the backorders allocated")
    found = await orders.stub.GetOrders(pb.GetOrdersRequest(ids=ids))
    assert {(s.location_code, s.lines[0].quantity) for x in found.orders for s in x.shipments} == {
        ("DC", 1)
    }
    assert sum(len(x.shipments) for x in found.orders) == ON_ORDER
    assert await level(orders) == (ON_ORDER, ON_ORDER, 0, 0)
    await assert_ledger_balances(db_url)


async def test_a_receipt_allocates_the_oldest_backorders_first_and_a_cancel_frees_its_promise(
    orders: OrdersUnderTest, procurement_events: JetStreamContext
) -> None:
    await network(orders)
    purchase_order_id = await purchase_order_opened(procurement_events, orders, 5)
    # In turn: a (2 units), then b (2), then c (1) take all five units on order.
    first, second, third = [
        await orders.stub.PlaceOrder(order(name, units))
        for name, units in (("a", 2), ("b", 2), ("c", 1))
    ]
    assert {x.status for x in (first, second, third)} == {pb.ORDER_STATUS_BACKORDERED}
    assert await refusal(orders.stub.PlaceOrder(order("d", 1))) == (
        ErrorCode.INSUFFICIENT_STOCK,
        "lines",
    )
    # A channel that takes no backorders is refused while units are still on order.
    await orders.stub.CancelOrder(pb.CancelOrderRequest(id=second.id))
    assert (await level(orders))[3] == 3
    assert await refusal(orders.stub.PlaceOrder(order("s", 1, channel="shop"))) == (
        ErrorCode.INSUFFICIENT_STOCK,
        "lines",
    )
    # The cancelled order's promise went back: a later buyer gets it, behind a and c.
    fourth = await orders.stub.PlaceOrder(order("d-again", 2))
    assert fourth.status == pb.ORDER_STATUS_BACKORDERED

    await received(procurement_events, purchase_order_id, 3)
    ids = [first.id, second.id, third.id, fourth.id]

    async def oldest_allocated() -> bool:
        return (await statuses(orders, ids))[:3] == [
            pb.ORDER_STATUS_ALLOCATED,
            pb.ORDER_STATUS_CANCELLED,
            pb.ORDER_STATUS_ALLOCATED,
        ]

    await eventually(oldest_allocated, what="a and c allocated")
    assert (await statuses(orders, ids))[3] == pb.ORDER_STATUS_BACKORDERED
    assert await level(orders) == (3, 3, 2, 2)

    # The rest of the purchase order fills the youngest backorder.
    await received(procurement_events, purchase_order_id, 2)

    async def youngest_allocated() -> bool:
        return (await statuses(orders, ids))[3] == pb.ORDER_STATUS_ALLOCATED

    await eventually(youngest_allocated, what="d allocated")
    assert await level(orders) == (5, 5, 0, 0)
