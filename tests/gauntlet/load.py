"""Steady load for the chaos run, as real clients make it over GraphQL: storefronts place orders
under unique external ids and send the same id again after any error, a back office adjusts
stock and ships, a storefront cancels, and a hub's scanner receives and inspects returns. Each
client keeps what it was told (`Told`), which is what the run checks the system against."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from services.kernel.caller import Role
from tests.support.contract import operation
from tests.support.graphql import Answer

SKUS = ("TEE", "CAP", "MUG")
WEIGHT_GRAMS = 200  # what tests.support.stock.seed gives every SKU
PRICE_CENTS = 2500
HUB = "HUB-BER"
# Customers around Berlin: the hub is within reach, so their returns go there.
BERLIN = {"name": "Ada", "city": "Berlin", "latitude": 52.52, "longitude": 13.40}
SHOP = "chaos-shop"
# How long a client keeps sending one operation before it takes the system for broken. Longer
# than anything the run does to the system: a restart, a 10 s pause, a placement's recovery.
PATIENCE_SECONDS = 90.0
RETRY_PAUSE_SECONDS = 0.25
# Between two operations of one client: steady load that leaves the two cores some air.
PACE_SECONDS = 0.05
ORDERS_PAGE = """
query Orders($after: String) {
  orders(first: 100, after: $after) {
    edges { node { id externalId status } }
    pageInfo { hasNextPage endCursor }
  }
}"""


class Unexpected(AssertionError):
    """An answer no client of this run should get: a refusal the load never provokes."""


@dataclass
class Told:
    """What the clients were told, and what they asked for without learning the outcome."""

    # externalId -> order id, for every order a storefront was told was placed.
    placed: dict[str, str] = field(default_factory=dict)
    # externalId -> the refusal's message, for orders refused for want of stock (nothing may
    # exist under them).
    refused: dict[str, str] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)
    shipped: set[str] = field(default_factory=set)
    # Return id -> the refund status its inspection must lead to (ISSUED or WITHHELD).
    inspected: dict[str, str] = field(default_factory=dict)
    # Returns requested whose answer was lost (the retry found the units already requested).
    returns_lost_in_transit: int = 0
    adjustments: int = 0
    # Orders waiting for the canceller and for the returns desk.
    to_cancel: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    to_return: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)


class Gateway(Protocol):
    """What the clients need of the system: a token for a role, and one operation sent."""

    def token(
        self, role: Role = ..., location: str | None = None, subject: str | None = None
    ) -> str: ...

    async def call(self, token: str, document: str, **variables: Any) -> Answer: ...


@dataclass
class Shop:
    """The system's GraphQL edge, seen by the storefront, the back office and the hub's
    scanner: one gateway (a `GraphQLClient`), or several (`tests.gauntlet.gateways`)."""

    graphql: Gateway
    told: Told
    stop: asyncio.Event

    def token(self, role: Role, location: str | None = None) -> str:
        return self.graphql.token(role, location, subject=SHOP)

    async def settled(
        self,
        what: str,
        role: Role,
        document: str,
        variables: dict[str, Any],
        accepted: Collection[str] = (),
        retried: Collection[str] = (),
        location: str | None = None,
    ) -> Answer:
        """The first answer that settles `what`: a success, or a refusal whose code is in
        `accepted`. Anything the system may answer while a part of it is down (no connection,
        a top-level error, a refusal in `retried`) is sent again, unchanged."""
        deadline = asyncio.get_running_loop().time() + PATIENCE_SECONDS
        last: object = None
        while asyncio.get_running_loop().time() < deadline:
            try:
                answer = await self.graphql.call(self.token(role, location), document, **variables)
            except (httpx.HTTPError, ValueError) as error:  # down, restarting, not JSON
                last = error
            else:
                codes = {error["code"] for error in answer.user_errors}
                if not answer.errors and codes <= set(accepted):
                    return answer
                if not answer.errors and not codes <= set(retried):
                    raise Unexpected(f"{what}: {answer}")
                last = answer
            await asyncio.sleep(RETRY_PAUSE_SECONDS)
        raise AssertionError(f"{what}: not settled in {PATIENCE_SECONDS:.0f}s; last: {last}")


def _payload(answer: Answer) -> dict[str, Any]:
    assert answer.data is not None
    (payload,) = answer.data.values()
    return dict(payload)


async def place_orders(shop: Shop, client: int) -> None:
    """A storefront: one order after another, each under a new external id."""
    rng = random.Random(client)
    for number in itertools.count():
        if shop.stop.is_set():
            return
        external_id = f"chaos-{client}-{number}"
        lines = [
            {"sku": sku, "quantity": rng.randint(1, 2), "unitPriceCents": PRICE_CENTS}
            for sku in rng.sample(SKUS, rng.randint(1, 2))
        ]
        order = {
            "channel": "web",
            "externalId": external_id,
            "email": "ada@example.com",
            "shipTo": BERLIN,
            "lines": lines,
        }
        answer = await shop.settled(
            f"placing {external_id}",
            Role.STOREFRONT,
            operation("PlaceOrder"),
            {"input": order},
            accepted={"INSUFFICIENT_STOCK"},
            # "Still being placed": the first try is in flight or waits for recovery.
            retried={"INVALID_STATE"},
        )
        placed = _payload(answer)["order"]
        if placed is None:
            shop.told.refused[external_id] = answer.user_errors[0]["message"]
        else:
            shop.told.placed[external_id] = placed["id"]
            if number % 4 == 0:
                shop.told.to_cancel.put_nowait(placed["id"])
            elif number % 4 == 1:
                shop.told.to_return.put_nowait(placed)
        await asyncio.sleep(PACE_SECONDS)


async def adjust_stock(shop: Shop) -> None:
    """A back office counting stock: small corrections, each sent once (an adjustment is not
    idempotent, so a real client does not resend one it lost the answer to)."""
    rng = random.Random(99)
    while not shop.stop.is_set():
        adjustment = {
            "sku": rng.choice(SKUS),
            "locationCode": rng.choice(("DC-LIS", "STORE-BER")),
            "delta": rng.choice((-2, -1, 1, 2, 3)),
            "reason": "chaos count",
        }
        try:
            await shop.graphql.call(
                shop.token(Role.BACKOFFICE), operation("AdjustStock"), input=adjustment
            )
            shop.told.adjustments += 1
        except (httpx.HTTPError, ValueError):
            pass
        await asyncio.sleep(PACE_SECONDS * 4)


async def _next(queue: asyncio.Queue[Any], stop: asyncio.Event) -> Any | None:
    while not stop.is_set():
        try:
            return await asyncio.wait_for(queue.get(), 0.5)
        except TimeoutError:
            continue
    return None


async def cancel_orders(shop: Shop) -> None:
    """A storefront cancelling some of its orders; cancelling twice returns the cancelled one."""
    while (order_id := await _next(shop.told.to_cancel, shop.stop)) is not None:
        answer = await shop.settled(
            f"cancelling {order_id}", Role.STOREFRONT, operation("CancelOrder"), {"id": order_id}
        )
        assert _payload(answer)["order"]["status"] == "CANCELLED", answer
        shop.told.cancelled.add(order_id)


async def return_orders(shop: Shop) -> None:
    """The back office ships an order, the customer sends a unit back to the hub, the hub scans
    and inspects it: every fourth parcel is far too light and its refund must be withheld."""
    for count in itertools.count():
        order = await _next(shop.told.to_return, shop.stop)
        if order is None:
            return
        await _ship(shop, order)
        line = order["lines"][0]
        requested = await shop.settled(
            f"requesting a return of {order['id']}",
            Role.STOREFRONT,
            operation("RequestReturn"),
            {"input": {"orderId": order["id"], "lines": [_unit(line["sku"])]}},
            # A retry after a lost answer finds the unit already on its way back.
            accepted={"INVALID_QUANTITY"},
        )
        parcel = _payload(requested)["return"]
        if parcel is None:
            shop.told.returns_lost_in_transit += 1
            continue
        assert parcel["destination"]["code"] == HUB, parcel
        await shop.settled(
            f"receiving {parcel['id']}",
            Role.SCANNER,
            operation("ReceiveReturn"),
            {"id": parcel["id"], "locationCode": HUB},
            accepted={"INVALID_STATE"},  # scanned by a try whose answer was lost
            location=HUB,
        )
        light = count % 4 == 3
        inspection = {
            "returnId": parcel["id"],
            "lines": [{"sku": line["sku"], "grade": "NEW"}],
            "measuredWeightGrams": WEIGHT_GRAMS // 10 if light else WEIGHT_GRAMS,
        }
        await shop.settled(
            f"inspecting {parcel['id']}",
            Role.SCANNER,
            operation("InspectReturn"),
            {"input": inspection},
            accepted={"INVALID_STATE"},  # inspected by a try whose answer was lost
            location=HUB,
        )
        shop.told.inspected[parcel["id"]] = "WITHHELD" if light else "ISSUED"


def _unit(sku: str) -> dict[str, Any]:
    return {"sku": sku, "quantity": 1, "reason": "SIZE_TOO_SMALL"}


async def _ship(shop: Shop, order: dict[str, Any]) -> None:
    for shipment in order["shipments"]:
        await shop.settled(
            f"shipping {shipment['id']}",
            Role.BACKOFFICE,
            operation("ShipShipment"),
            {"id": shipment["id"], "trackingNumber": "T-1"},
        )  # shipping a shipped shipment again returns it: a retry needs no special case
    shop.told.shipped.add(order["id"])


async def every_order(shop: Shop) -> list[dict[str, Any]]:
    """Every order the system holds, page by page (the back office sees them all)."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        answer = await shop.settled(
            "listing orders", Role.BACKOFFICE, ORDERS_PAGE, {"after": after}
        )
        page = _payload(answer)
        found += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.25)
