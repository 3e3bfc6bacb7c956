"""The channels' use cases over the in-memory store, built by the service's own bootstrap, with
the orders service's own use cases behind the orders port: connecting, Shopify's deliveries
(Shopify's published examples, signed as Shopify signs them), parking and retrying, the
recovery of orders left on their way, cancels and refunds, and the events each records."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oms.events.v1.channels_pb2 import (
    ChannelConnected,
    ChannelOrderCancelled,
    ChannelOrderParked,
    ChannelOrderPlaced,
    ChannelOrderReceived,
    ChannelRefundReceived,
)
from services.channels.bootstrap import bootstrap
from services.channels.domain.model import ChannelOrderStatus, NewChannel, Platform
from services.channels.service import ChannelsService
from services.channels.store import ChannelsStore
from services.kernel.errors import ErrorCode
from services.orders.domain.model import OrderStatus
from tests.fakes.channels import ChannelsData, OrdersOverService, memory_uow
from tests.fakes.kernel import MemoryUnitOfWork
from tests.fakes.orders import Location
from tests.support.refusals import refused

FIXTURES = Path(__file__).parents[1] / "fixtures" / "shopify"
SHOP = "brand.myshopify.com"
SECRET = "hush-its-the-app-client-secret"
# The example order ships to Louisville, KY.
LOCATIONS = {
    "DC-LOU": Location("DISTRIBUTION_CENTER", 38.25, -85.76),
    "DC-SEA": Location("DISTRIBUTION_CENTER", 47.6, -122.3),
}
KNOWN = ("IPOD2008GREEN", "IPOD2008RED")
LATE = "IPOD2008BLACK"

Uow = MemoryUnitOfWork[ChannelsStore, ChannelsData]


def published(name: str) -> dict[str, Any]:
    wrapped: dict[str, dict[str, Any]] = json.loads((FIXTURES / f"{name}.json").read_text())
    return copy.deepcopy(wrapped[name])


def known_only(order: dict[str, Any]) -> dict[str, Any]:
    order["line_items"] = [x for x in order["line_items"] if x["sku"] in KNOWN]
    return order


async def system() -> tuple[ChannelsService, Uow, OrdersOverService]:
    """The service with shopify-us connected, over an orders service stocking the known SKUs."""
    uow = memory_uow()
    orders = OrdersOverService(LOCATIONS, {(sku, at): 5 for sku in KNOWN for at in LOCATIONS})
    service = bootstrap(uow, orders)
    await service.connect(NewChannel("shopify-us", Platform.SHOPIFY, SHOP, SECRET))
    return service, uow, orders


async def deliver(
    service: ChannelsService,
    topic: str,
    payload: dict[str, Any],
    webhook_id: str,
    *,
    secret: str = SECRET,
    shop: str = SHOP,
    triggered_at: datetime | None = None,
) -> tuple[str, bool]:
    body = json.dumps(payload).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    when = (triggered_at or datetime.now(UTC)).isoformat()
    return await service.receive_shopify(topic, shop, webhook_id, signature.decode(), when, body)


def reserved(orders: OrdersOverService, sku: str) -> int:
    return sum(orders.inventory.reserved(sku, at) for at in LOCATIONS)


# Connecting


async def test_a_channel_connects_once_per_account_and_keeps_a_secret_left_out() -> None:
    service, uow, _ = await system()
    again = await service.connect(NewChannel("shopify-us", Platform.SHOPIFY, "Brand.myshopify.com"))
    assert (again.account, again.webhook_secret) == (SHOP, SECRET)
    assert await refused(service.connect(NewChannel("other", Platform.SHOPIFY, SHOP))) == (
        ErrorCode.INVALID_STATE,
        "account",
    )
    assert await refused(
        service.connect(NewChannel("shop", Platform.SHOPIFY, "brand.example.com"))
    ) == (ErrorCode.INVALID_INPUT, "account")
    assert await refused(service.connect(NewChannel("a b", Platform.SHOPIFY, SHOP))) == (
        ErrorCode.INVALID_INPUT,
        "code",
    )
    assert (
        uow.published(ChannelConnected)
        == [ChannelConnected(code="shopify-us", platform="SHOPIFY", account=SHOP)] * 2
    )


# Deliveries


async def test_a_signed_order_is_placed_once_however_often_it_is_delivered() -> None:
    service, uow, orders = await system()
    order = known_only(published("order"))

    assert await deliver(service, "orders/create", order, "wh-1") == ("shopify-us", False)
    # Shopify redelivers the webhook; another webhook may carry the same order.
    assert await deliver(service, "orders/create", order, "wh-1") == ("shopify-us", True)
    assert await deliver(service, "orders/create", order, "wh-2") == ("shopify-us", False)

    [placed] = orders.uow.data.orders.values()
    assert (placed.channel, placed.external_id, placed.email) == (
        "shopify-us",
        "450789469",
        "bob.norman@hostmail.com",
    )
    assert [(x.sku, x.quantity, x.unit_price_cents) for x in placed.lines] == [
        ("IPOD2008GREEN", 1, 19900),
        ("IPOD2008RED", 1, 19900),
    ]
    assert [reserved(orders, sku) for sku in KNOWN] == [1, 1]
    [received] = uow.published(ChannelOrderReceived)
    assert uow.published(ChannelOrderPlaced) == [
        ChannelOrderPlaced(
            channel_order_id=received.channel_order_id,
            channel_code="shopify-us",
            external_id="450789469",
            order_id=placed.id,
        )
    ]
    status = await service.status("shopify-us")
    assert (status.orders_received, status.orders_placed, status.exceptions_waiting) == (1, 1, 0)
    assert status.last_received_at is not None


@pytest.mark.parametrize(
    "wrong",
    [
        {"shop": "stranger.myshopify.com"},
        {"secret": "not-the-secret"},
        {"triggered_at": datetime.now(UTC) - timedelta(hours=6)},
    ],
    ids=["unknown shop", "bad signature", "stale"],
)
async def test_a_delivery_that_does_not_verify_changes_nothing(wrong: dict[str, Any]) -> None:
    service, uow, orders = await system()
    before = copy.deepcopy(uow.data)

    code, _ = await refused(
        deliver(service, "orders/create", known_only(published("order")), "wh-1", **wrong)
    )

    assert code is ErrorCode.UNAUTHENTICATED
    assert uow.data == before
    assert orders.calls == 0


async def test_a_topic_we_do_not_take_is_refused_after_it_verifies() -> None:
    service, uow, _ = await system()
    assert await refused(deliver(service, "products/create", {"id": 1}, "wh-1")) == (
        ErrorCode.INVALID_INPUT,
        "topic",
    )
    assert uow.data.deliveries == {}


async def test_an_unknown_sku_parks_the_order_until_it_exists_and_is_retried() -> None:
    service, uow, orders = await system()
    await deliver(service, "orders/create", published("order"), "wh-1")

    [parked] = await service.exceptions("shopify-us")
    assert parked.status is ChannelOrderStatus.EXCEPTION
    assert parked.problem is not None
    assert (parked.problem.code, parked.problem.field, parked.attempts) == (
        "NOT_FOUND",
        "lines.2.sku",
        1,
    )
    assert [e.problem_code for e in uow.published(ChannelOrderParked)] == ["NOT_FOUND"]
    assert orders.uow.data.orders == {} and reserved(orders, KNOWN[0]) == 0

    # Retried before the SKU exists: parked again, one attempt more.
    again = await service.retry(parked.id)
    assert (again.status, again.attempts) == (ChannelOrderStatus.EXCEPTION, 2)

    orders.inventory.skus.add(LATE)
    orders.inventory.on_hand[(LATE, "DC-LOU")] = 1
    placed = await service.retry(parked.id)

    assert (placed.status, placed.problem, placed.attempts) == (ChannelOrderStatus.PLACED, None, 3)
    assert [o.id for o in orders.uow.data.orders.values()] == [placed.order_id]
    assert await service.exceptions() == []
    assert await refused(service.retry(parked.id)) == (ErrorCode.INVALID_STATE, "id")
    assert await refused(service.retry("no-such-order")) == (ErrorCode.NOT_FOUND, "id")


async def test_an_order_recorded_while_orders_is_away_is_placed_later_once() -> None:
    service, uow, orders = await system()
    orders.reachable = False
    await deliver(service, "orders/create", known_only(published("order")), "wh-1")

    [waiting] = uow.data.orders.values()
    assert (waiting.status, waiting.attempts) == (ChannelOrderStatus.PENDING, 0)
    # Not yet stale: the worker leaves an order that may still be on its way alone.
    assert await service.advance_stale(timedelta(minutes=1)) == 0
    assert await service.advance_stale(timedelta(0)) == 1  # still away: left pending
    assert uow.data.orders[waiting.id].status is ChannelOrderStatus.PENDING

    orders.reachable = True
    assert await service.advance_stale(timedelta(0)) == 1
    assert await service.advance_stale(timedelta(0)) == 0

    placed = uow.data.orders[waiting.id]
    assert placed.status is ChannelOrderStatus.PLACED
    assert [o.id for o in orders.uow.data.orders.values()] == [placed.order_id]
    assert len(uow.published(ChannelOrderPlaced)) == 1


async def test_a_cancelled_order_is_cancelled_with_the_orders_service() -> None:
    service, uow, orders = await system()
    order = known_only(published("order"))
    await deliver(service, "orders/create", order, "wh-1")
    [placed] = uow.data.orders.values()

    await deliver(service, "orders/cancelled", dict(order, cancelled_at="2025-06-01"), "wh-2")

    assert uow.data.orders[placed.id].status is ChannelOrderStatus.CANCELLED
    assert orders.uow.data.orders[placed.order_id].status is OrderStatus.CANCELLED
    assert [reserved(orders, sku) for sku in KNOWN] == [0, 0]
    assert [e.order_id for e in uow.published(ChannelOrderCancelled)] == [placed.order_id]


async def test_an_order_cancelled_before_it_was_placed_is_never_placed() -> None:
    service, uow, orders = await system()
    order = known_only(published("order"))
    orders.reachable = False
    await deliver(service, "orders/create", order, "wh-1")
    await deliver(service, "orders/cancelled", order, "wh-2")
    orders.reachable = True

    assert await service.advance_stale(timedelta(0)) == 0
    [cancelled] = uow.data.orders.values()
    assert cancelled.status is ChannelOrderStatus.CANCELLED
    assert orders.uow.data.orders == {}


async def test_a_refund_is_recorded_once() -> None:
    service, uow, _ = await system()
    refund = published("refund")
    await deliver(service, "refunds/create", refund, "wh-1")
    await deliver(service, "refunds/create", refund, "wh-2")

    assert uow.published(ChannelRefundReceived) == [
        ChannelRefundReceived(
            channel_code="shopify-us",
            refund_id="509562969",
            external_order_id="450789469",
            amount_cents=20900,
        )
    ]
    assert (await service.status("shopify-us")).refunds_received == 1
