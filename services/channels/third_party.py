"""Third-party warehouse nodes run by ShipBob: connecting a THIRD_PARTY_WAREHOUSE location to its
ShipBob account, sending it the shipments routed there, shipping them when its order.shipped
webhook arrives, and pulling its on-hand levels.

A shipment is owed to the node in the unit of work that consumes the OrderPlaced routing it there
(`owe`), once. The worker sends owed orders outside any unit of work, with our shipment id as
ShipBob's reference_id: ShipBob refuses a second order with the same reference (422), which the
worker counts as created, so a retry after a lost answer creates nothing twice. ShipBob down (5xx,
429, no answer) postpones the order with doubling backoff; any other 4xx marks it FAILED with
ShipBob's reason, for the back office. An order cancelled here owes ShipBob the cancellation of
each of its shipments there (`owe_cancellation`), sent the same way. The webhook ships the
shipment through the orders service (idempotent there) before it records the tracking, so a
crash in between is repaired by ShipBob's own redelivery."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from oms.events.v1.orders_pb2 import OrderCancelled, OrderPlaced
from services.channels import node_store
from services.channels.backoff import wait_after
from services.channels.domain import shipbob
from services.channels.domain.shipbob import NewNode, Node, NodeOrderStatus
from services.channels.ports import CountReconciler, Locations, ShipmentOrders
from services.channels.shipbob_api import ShipBobApi, ShipBobRefused, ShipBobUnavailable
from services.channels.store import SqlChannelsStore
from services.kernel import bounds
from services.kernel.db import utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.periodic import PeriodicWorker
from services.kernel.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

POLL = timedelta(milliseconds=250)
THIRD_PARTY_WAREHOUSE = "THIRD_PARTY_WAREHOUSE"
COUNT_SOURCE = "SHIPBOB"


@dataclass(frozen=True)
class NodeStatus:
    """A node as the back office sees it: its connection, last pull and order pushes."""

    node: Node
    last_pulled_at: datetime | None = None
    last_pull: dict[str, int] = field(default_factory=dict)
    pending_orders: int = 0
    failed_orders: int = 0
    failures: list[node_store.NodeOrderRow] = field(default_factory=list)


@dataclass(frozen=True)
class Tracking:
    shipment_id: str
    location_code: str
    carrier: str
    tracking_number: str
    # (status, when, detail), oldest first.
    history: list[tuple[str, datetime, str]]


async def owe(store: SqlChannelsStore, event: OrderPlaced) -> None:
    """Each shipment of the order routed to a connected node is owed to it as an order."""
    for shipment in event.shipments:
        if await node_store.node(store.session, shipment.location_code) is None:
            continue
        lines: dict[str, int] = {}
        for line in shipment.lines:
            lines[line.sku] = lines.get(line.sku, 0) + line.quantity
        await node_store.owe_order(
            store.session,
            shipment.shipment_id,
            shipment.location_code,
            event.order_id,
            event.number,
            lines,
        )


async def owe_cancellation(store: SqlChannelsStore, event: OrderCancelled) -> None:
    """An order cancelled here is cancelled at ShipBob too, for each shipment it has or may
    have (in the unit of work that consumes OrderCancelled)."""
    await node_store.owe_cancellation(store.session, event.order_id)


class ThirdPartyNodes:
    def __init__(
        self,
        uow: UnitOfWork[SqlChannelsStore],
        api: ShipBobApi,
        orders: ShipmentOrders,
        locations: Locations,
        counts: CountReconciler,
    ) -> None:
        self.uow = uow
        self._api = api
        self._orders = orders
        self._locations = locations
        self._counts = counts

    async def connect(self, new: NewNode) -> NodeStatus:
        """Connects a THIRD_PARTY_WAREHOUSE location to its ShipBob account (again: updates
        it; a secret left out is kept). Another kind of location is INVALID_STATE, an unknown
        one NOT_FOUND."""
        new = shipbob.require_new_node(new)
        kind = await self._locations.kind_of(new.location_code)
        if kind is None:
            raise DomainError(
                ErrorCode.NOT_FOUND, f"no location {new.location_code}", "location_code"
            )
        if kind != THIRD_PARTY_WAREHOUSE:
            raise DomainError(
                ErrorCode.INVALID_STATE,
                f"{new.location_code} is a {kind}, not a {THIRD_PARTY_WAREHOUSE}",
                "location_code",
            )
        async with self.uow.write() as store:
            node = await node_store.connect(store.session, new)
        return await self.status(node.location_code)

    async def status(self, location_code: str) -> NodeStatus:
        async with self.uow.read() as store:
            node = await node_store.node(store.session, location_code)
            if node is None:
                raise DomainError(
                    ErrorCode.NOT_FOUND, f"no node at {location_code}", "location_code"
                )
            counts = await node_store.order_counts(store.session, location_code)
            return NodeStatus(
                node,
                await node_store.last_pulled_at(store.session, location_code),
                await node_store.last_pull(store.session, location_code),
                counts.get(NodeOrderStatus.PENDING.value, 0),
                counts.get(NodeOrderStatus.FAILED.value, 0),
                await node_store.failures(store.session, location_code),
            )

    async def statuses(self) -> list[NodeStatus]:
        async with self.uow.read() as store:
            codes = [x.location_code for x in await node_store.nodes(store.session)]
        return [await self.status(code) for code in codes]

    # Orders to ShipBob

    async def create_due(self) -> None:
        async with self.uow.read() as store:
            due = await node_store.orders_due(store.session)
        for owed in due:
            status, reason = await self._send(owed)
            retry_at = utcnow() + wait_after(owed.attempts + 1)
            async with self.uow.write() as store:
                await node_store.order_outcome(
                    store.session, owed.shipment_id, status, retry_at, reason
                )

    async def cancel_due(self) -> None:
        """Cancels at ShipBob what was cancelled here: found by our shipment id (its reference),
        cancelled, or nothing there to cancel; ShipBob down waits with backoff, a refusal (it
        is already being picked or shipped) is FAILED with ShipBob's reason, for a person."""
        async with self.uow.read() as store:
            due = await node_store.orders_due(store.session, NodeOrderStatus.CANCELLING)
        for owed in due:
            async with self.uow.read() as store:
                node = await node_store.node(store.session, owed.location_code)
            assert node is not None, owed.location_code  # nodes are never deleted
            try:
                had = await self._api.cancel_order(node, owed.shipment_id)
                status, reason = NodeOrderStatus.CANCELLED, "" if had else "ShipBob never had it"
            except ShipBobRefused as refusal:
                status, reason = NodeOrderStatus.FAILED, f"not cancelled at ShipBob: {refusal}"
            except Exception as error:  # any other fault postpones this one; the others go on
                log.warning(
                    "ShipBob cancellation of shipment %s postponed: %s",
                    owed.shipment_id,
                    error,
                    exc_info=not isinstance(error, ShipBobUnavailable),
                )
                status, reason = NodeOrderStatus.CANCELLING, str(error)[:200]
            retry_at = utcnow() + wait_after(owed.attempts + 1)
            async with self.uow.write() as store:
                await node_store.order_outcome(
                    store.session,
                    owed.shipment_id,
                    status,
                    retry_at,
                    reason,
                    attempted=NodeOrderStatus.CANCELLING,
                )

    async def _send(self, owed: node_store.NodeOrderRow) -> tuple[NodeOrderStatus, str]:
        """One attempt: (the order's status after it, why)."""
        async with self.uow.read() as store:
            node = await node_store.node(store.session, owed.location_code)
        assert node is not None, owed.location_code  # nodes are never deleted
        try:
            destination = await self._orders.destination(owed.order_id, owed.shipment_id)
            if destination is None:
                return NodeOrderStatus.CANCELLED, "cancelled before ShipBob took it"
            recipient, number = destination
            body = shipbob.order_body(
                owed.shipment_id, number, recipient, node_store.lines_of(owed)
            )
            created = await self._api.create_order(node, body)
            return NodeOrderStatus.CREATED, "" if created else "ShipBob had it already"
        except ShipBobRefused as refusal:
            return NodeOrderStatus.FAILED, str(refusal)
        except Exception as error:  # any other fault postpones this one; the others go on
            log.warning(
                "ShipBob order for shipment %s postponed: %s",
                owed.shipment_id,
                error,
                exc_info=not isinstance(error, ShipBobUnavailable),
            )
            return NodeOrderStatus.PENDING, str(error)[:200]

    # ShipBob's webhook

    async def receive_webhook(
        self,
        webhook_id: str,
        timestamp: str,
        signature: str,
        topic: str,
        body: bytes,
        now: datetime | None = None,
    ) -> tuple[str, bool]:
        """Takes one ShipBob delivery: (the node's location code, whether it changed nothing).

        UNAUTHENTICATED, changing nothing, unless the signature verifies under a connected
        node's secret within the timestamp tolerance. Other topics, and orders that are not one
        of our shipments at that node, are taken and ignored (ShipBob would retry for days)."""
        when = now or utcnow()
        async with self.uow.read() as store:
            nodes = await node_store.nodes(store.session)
        node = next(
            (
                n
                for n in nodes
                if shipbob.signature_verifies(
                    n.webhook_secret, webhook_id, timestamp, body, signature, when
                )
            ),
            None,
        )
        if node is None:
            raise DomainError(ErrorCode.UNAUTHENTICATED, "the webhook does not verify")
        if topic not in shipbob.SHIPPED_TOPICS:
            return node.location_code, True
        notice = shipbob.shipped_notice(shipbob.parse_json(body))
        async with self.uow.read() as store:
            owed = await node_store.lock_order(store.session, notice.shipment_id)
        if owed is None or owed.location_code != node.location_code:
            log.warning("ShipBob shipped %s, not a shipment of ours", notice.shipment_id)
            return node.location_code, True
        if owed.status == NodeOrderStatus.SHIPPED.value:
            return node.location_code, True
        await self._orders.ship(notice.shipment_id, notice.tracking_number)
        async with self.uow.write() as store:
            await node_store.mark_shipped(
                store.session, notice.shipment_id, notice.tracking_number, notice.carrier
            )
        return node.location_code, False

    # Inventory pulls

    async def pull(self, location_code: str) -> NodeStatus:
        """Pulls the node's on-hand levels at its fulfillment centre, stores them as its last
        pull and hands them to the count reconciler as a complete count. ShipBob down is
        INVALID_STATE (the scheduled pull tries again)."""
        code = bounds.require_code(location_code, "location_code", "the location code")
        async with self.uow.read() as store:
            node = await node_store.node(store.session, code)
        if node is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"no node at {code}", "location_code")
        try:
            levels = await self._api.on_hand(node)
        except (ShipBobUnavailable, ShipBobRefused) as error:
            raise DomainError(
                ErrorCode.INVALID_STATE,
                f"ShipBob did not give its levels: {error}",
                "location_code",
            ) from None
        async with self.uow.write() as store:
            await node_store.store_pull(store.session, code, levels)
        await self._counts.reconcile(code, COUNT_SOURCE, sorted(levels.items()), complete=True)
        return await self.status(code)

    async def pull_all(self) -> None:
        async with self.uow.read() as store:
            codes = [x.location_code for x in await node_store.nodes(store.session)]
        for code in codes:
            try:
                await self.pull(code)
            except Exception as error:  # one node's fault leaves the others pulled
                log.warning("inventory pull of %s failed: %s", code, error)

    # Tracking

    async def trackings(self, shipment_ids: Sequence[str]) -> list[Tracking]:
        bounds.require_count(shipment_ids, "shipment_ids", bounds.MAX_CODES, "shipment ids")
        async with self.uow.read() as store:
            found = await node_store.trackings(store.session, list(shipment_ids))
        return [
            Tracking(
                row.shipment_id,
                row.location_code,
                row.carrier,
                row.tracking_number,
                [(h.status, h.at, h.detail) for h in history],
            )
            for row, history in found
        ]


def order_worker(nodes: ThirdPartyNodes) -> PeriodicWorker:
    async def send_due() -> None:
        await nodes.create_due()
        await nodes.cancel_due()

    return PeriodicWorker("shipbob orders", send_due, POLL)


def pull_worker(nodes: ThirdPartyNodes, every: timedelta) -> PeriodicWorker:
    return PeriodicWorker("shipbob inventory pull", nodes.pull_all, every)
