"""The third-party nodes' messages: protobuf in and out for ChannelsGrpc's node RPCs (the
token and the webhook secret never go out, only whether they are set)."""

from __future__ import annotations

from datetime import datetime

from oms.channels.v1 import channels_pb2 as pb
from services.channels.domain.shipbob import NewNode
from services.channels.third_party import NodeStatus, Tracking


def _time(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def new_node_from_proto(request: pb.ConnectFulfillmentNodeRequest) -> NewNode:
    def given(name: str) -> str | None:
        return str(getattr(request, name)) if request.HasField(name) else None  # type: ignore[arg-type]

    return NewNode(
        request.location_code,
        request.shipbob_channel_id,
        request.fulfillment_center_id,
        given("api_token"),
        given("webhook_secret"),
        given("api_base_url"),
    )


def node_to_proto(status: NodeStatus) -> pb.FulfillmentNode:
    node = status.node
    return pb.FulfillmentNode(
        location_code=node.location_code,
        shipbob_channel_id=node.shipbob_channel_id,
        fulfillment_center_id=node.fulfillment_center_id,
        api_base_url=node.api_base_url,
        has_api_token=bool(node.api_token),
        has_webhook_secret=bool(node.webhook_secret),
        connected_at=_time(node.connected_at),
        last_pulled_at=_time(status.last_pulled_at),
        last_pull=[pb.NodeLevel(sku=s, on_hand=u) for s, u in status.last_pull.items()],
        pending_orders=status.pending_orders,
        failed_orders=status.failed_orders,
        failures=[
            pb.NodeOrder(
                shipment_id=x.shipment_id,
                order_id=x.order_id,
                status=x.status,
                reason=x.reason,
                attempts=x.attempts,
                updated_at=_time(x.updated_at),
            )
            for x in status.failures
        ],
    )


def tracking_to_proto(tracking: Tracking) -> pb.ShipmentTracking:
    return pb.ShipmentTracking(
        shipment_id=tracking.shipment_id,
        location_code=tracking.location_code,
        carrier=tracking.carrier,
        tracking_number=tracking.tracking_number,
        history=[
            pb.TrackingStatus(status=status, at=_time(at), detail=detail)
            for status, at, detail in tracking.history
        ],
    )
