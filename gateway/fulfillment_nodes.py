"""Third-party warehouse nodes (ShipBob), outside the client contract: connecting a location to
its ShipBob account, listing the nodes with their last inventory pull and their order pushes,
pulling a node's levels now, and each shipment's tracking at its node (for `Shipment`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry.dataloader import DataLoader

from gateway.context import Context
from gateway.convert import reply, request
from gateway.errors import query_answer
from gateway.mutations import Payload, answer
from gateway.permissions import allow
from oms.channels.v1 import channels_pb2 as pb
from oms.channels.v1.channels_pb2_grpc import ChannelsServiceStub
from services.kernel.bounds import MAX_CODES
from services.kernel.caller import Role

if TYPE_CHECKING:
    from oms.channels.v1.channels_pb2_grpc import ChannelsServiceAsyncStub

Info = strawberry.Info[Context, None]
BACK_OFFICE = (Role.BACKOFFICE, Role.ADMIN)


def _when(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@strawberry.input
class ConnectFulfillmentNodeInput:
    location_code: str = strawberry.field(description="A THIRD_PARTY_WAREHOUSE location's code.")
    shipbob_channel_id: str = strawberry.field(
        description="ShipBob's channel id (GET /channel): the channel with write scopes."
    )
    fulfillment_center_id: str = strawberry.field(
        description="The ShipBob fulfillment centre (location id) this location stands for."
    )
    api_token: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="ShipBob's Personal Access Token; never shown back, kept when left out.",
    )
    webhook_secret: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The webhook subscription's signing secret (whsec_...); never shown back.",
    )
    api_base_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="ShipBob's API; https://api.shipbob.com when left out (the sandbox: "
        "https://sandbox-api.shipbob.com).",
    )

    def to_proto(self) -> pb.ConnectFulfillmentNodeRequest:
        return request(pb.ConnectFulfillmentNodeRequest, self)  # left-out secrets stay unset


@strawberry.type(description="On-hand units of one SKU at the node, as its last pull read them.")
class NodeLevel:
    sku: str
    on_hand: int

    @classmethod
    def from_proto(cls, level: pb.NodeLevel) -> NodeLevel:
        return reply(cls, level)


@strawberry.type(description="A shipment sent (or owed) to a node as an order.")
class NodeOrder:
    shipment_id: strawberry.ID
    order_id: strawberry.ID
    status: str = strawberry.field(description="PENDING, CREATED, FAILED or SHIPPED.")
    reason: str | None = strawberry.field(description="Why ShipBob refused it, when FAILED.")
    attempts: int
    updated_at: datetime

    @classmethod
    def from_proto(cls, found: pb.NodeOrder) -> NodeOrder:
        return reply(cls, found, reason=found.reason or None)


@strawberry.type(
    description="A third-party warehouse location connected to ShipBob; secrets never shown."
)
class FulfillmentNode:
    location_code: str
    shipbob_channel_id: str
    fulfillment_center_id: str
    api_base_url: str | None
    has_api_token: bool
    has_webhook_secret: bool
    connected_at: datetime
    last_pulled_at: datetime | None = strawberry.field(
        description="When its inventory levels were last pulled; null before the first pull."
    )
    last_pull: list[NodeLevel] = strawberry.field(
        description="On-hand units by SKU at its fulfillment centre (at most 500 shown)."
    )
    pending_orders: int = strawberry.field(description="Shipments owed to ShipBob, not yet taken.")
    failed_orders: int = strawberry.field(description="Shipments ShipBob refused.")
    failures: list[NodeOrder] = strawberry.field(
        description="The latest refused shipments with ShipBob's reason (at most 50)."
    )

    @classmethod
    def from_proto(cls, node: pb.FulfillmentNode) -> FulfillmentNode:
        return reply(
            cls,
            node,
            api_base_url=node.api_base_url or None,
            last_pulled_at=_when(node.last_pulled_at),
            last_pull=[NodeLevel.from_proto(x) for x in node.last_pull],
            failures=[NodeOrder.from_proto(x) for x in node.failures],
        )


@strawberry.type(description="A status the shipment reached at its third-party warehouse.")
class ShipmentEvent:
    status: str = strawberry.field(
        description="CREATED (ShipBob took the order), FAILED (it refused it), SHIPPED."
    )
    at: datetime
    detail: str | None


@strawberry.type
class FulfillmentNodePayload(Payload):
    node: FulfillmentNode | None = None


def _channels(info: Info) -> ChannelsServiceAsyncStub:
    return info.context.services[ChannelsServiceStub]


def tracking_loader(
    channels: ChannelsServiceAsyncStub,
) -> DataLoader[str, pb.ShipmentTracking | None]:
    """Each shipment's tracking at its node, one call per batch of shipments."""

    async def load(ids: list[str]) -> list[pb.ShipmentTracking | None]:
        answer = await channels.GetShipmentTracking(pb.GetShipmentTrackingRequest(shipment_ids=ids))
        found = {x.shipment_id: x for x in answer.trackings}
        return [found.get(x) for x in ids]

    return DataLoader(load, max_batch_size=MAX_CODES, cache=False)


async def tracking_of(info: Info, shipment_id: str) -> pb.ShipmentTracking | None:
    loaders = info.context.more_loaders
    if "tracking" not in loaders:
        loaders["tracking"] = tracking_loader(_channels(info))
    found: pb.ShipmentTracking | None = await loaders["tracking"].load(shipment_id)
    return found


def history_of(tracking: pb.ShipmentTracking | None) -> list[ShipmentEvent]:
    return [
        ShipmentEvent(status=x.status, at=datetime.fromisoformat(x.at), detail=x.detail or None)
        for x in (tracking.history if tracking else [])
    ]


@strawberry.type
class FulfillmentNodesQuery:
    @strawberry.field(
        extensions=allow(*BACK_OFFICE),
        description="Not in the client contract. Locations connected to ShipBob, with their "
        "last inventory pull and the shipments owed to or refused by ShipBob.",
    )
    async def fulfillment_nodes(self, info: Info) -> list[FulfillmentNode]:
        call = _channels(info).ListFulfillmentNodes(pb.ListFulfillmentNodesRequest())
        return [FulfillmentNode.from_proto(x) for x in (await query_answer(call)).nodes]


@strawberry.type
class FulfillmentNodesMutation:
    @strawberry.mutation(
        extensions=allow(*BACK_OFFICE),
        description="Not in the client contract. Connects a THIRD_PARTY_WAREHOUSE location to "
        "its ShipBob account (again: updates it; a secret left out is kept).",
    )
    async def connect_fulfillment_node(
        self, info: Info, input: ConnectFulfillmentNodeInput
    ) -> FulfillmentNodePayload:
        call = _channels(info).ConnectFulfillmentNode(input.to_proto())
        return await answer(FulfillmentNodePayload, call, node=FulfillmentNode.from_proto)

    @strawberry.mutation(
        extensions=allow(*BACK_OFFICE),
        description="Not in the client contract. Pulls the node's on-hand levels from ShipBob "
        "now (they are also pulled on a schedule); ShipBob not answering is INVALID_STATE.",
    )
    async def pull_fulfillment_node_inventory(
        self, info: Info, location_code: str
    ) -> FulfillmentNodePayload:
        ask = pb.PullFulfillmentNodeInventoryRequest(location_code=location_code)
        call = _channels(info).PullFulfillmentNodeInventory(ask)
        return await answer(
            FulfillmentNodePayload,
            call,
            argument=None,
            paths={"location_code": "locationCode"},
            node=FulfillmentNode.from_proto,
        )
