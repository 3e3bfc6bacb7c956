"""The channels' gRPC edge: protobuf in, use case, protobuf out (errors map in the kernel)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from oms.channels.v1 import channels_pb2 as pb
from oms.channels.v1.channels_pb2_grpc import ChannelsServiceServicer
from services.channels.availability_push import AvailabilityPush
from services.channels.domain.model import (
    Channel,
    ChannelFulfillment,
    ChannelOrder,
    ChannelStatus,
    NewChannel,
    Platform,
)
from services.channels.fulfillment_push import FulfillmentPush
from services.channels.service import ChannelsService
from services.channels.third_party import ThirdPartyNodes
from services.channels.third_party_grpc import (
    new_node_from_proto,
    node_to_proto,
    tracking_to_proto,
)
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.grpc_server import ServicerContext, caller_of
from services.kernel.messages import to_message
from services.kernel.proto_enums import enum_name, enum_value


def _time(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def channel_to_proto(channel: Channel) -> pb.Channel:
    return pb.Channel(
        code=channel.code,
        platform=enum_value(pb.ChannelPlatform, channel.platform.value),
        account=channel.account,
        api_base_url=channel.api_base_url,
        has_webhook_secret=bool(channel.webhook_secret),
        has_access_token=bool(channel.access_token),
        connected_at=_time(channel.connected_at),
    )


def channel_order_to_proto(found: ChannelOrder) -> pb.ChannelOrder:
    problem = found.problem
    return pb.ChannelOrder(
        id=found.id,
        channel_code=found.channel_code,
        external_id=found.order.external_id,
        status=enum_value(pb.ChannelOrderStatus, found.status.value),
        order_id=found.order_id,
        problem_code=problem.code if problem else "",
        problem_field=problem.field if problem else "",
        problem=problem.message if problem else "",
        attempts=found.attempts,
        received_at=_time(found.received_at),
        updated_at=_time(found.updated_at),
    )


def status_to_proto(status: ChannelStatus) -> pb.ChannelStatus:
    return pb.ChannelStatus(
        channel=channel_to_proto(status.channel),
        orders_received=status.orders_received,
        orders_placed=status.orders_placed,
        exceptions_waiting=status.exceptions_waiting,
        refunds_received=status.refunds_received,
        last_received_at=_time(status.last_received_at),
        pending_pushes=status.pending_pushes,
        last_pushed_at=_time(status.last_pushed_at),
        fulfillments_failed=status.fulfillments_failed,
        failed_fulfillments=[fulfillment_to_proto(x) for x in status.failed_fulfillments],
    )


def fulfillment_to_proto(found: ChannelFulfillment) -> pb.ChannelFulfillment:
    return to_message(pb.ChannelFulfillment, found)


def new_channel_from_proto(request: pb.ConnectChannelRequest) -> NewChannel:
    if request.platform == pb.CHANNEL_PLATFORM_UNSPECIFIED:
        raise DomainError(ErrorCode.INVALID_INPUT, "a platform is required", "platform")

    def given(
        name: Literal[
            "webhook_secret",
            "api_base_url",
            "access_token",
            "marketplace_id",
            "lwa_client_id",
            "lwa_client_secret",
        ],
    ) -> str | None:
        return getattr(request, name) if request.HasField(name) else None

    return NewChannel(
        code=request.code,
        platform=Platform(enum_name(pb.ChannelPlatform, request.platform)),
        account=request.account,
        webhook_secret=given("webhook_secret"),
        api_base_url=given("api_base_url"),
        access_token=given("access_token"),
        marketplace_id=given("marketplace_id"),
        lwa_client_id=given("lwa_client_id"),
        lwa_client_secret=given("lwa_client_secret"),
    )


class ChannelsGrpc(ChannelsServiceServicer):
    def __init__(
        self,
        service: ChannelsService,
        availability: AvailabilityPush,
        fulfillments: FulfillmentPush,
        nodes: ThirdPartyNodes,
    ) -> None:
        self._service = service
        self._availability = availability
        self._fulfillments = fulfillments
        self._nodes = nodes

    async def ConnectChannel(
        self, request: pb.ConnectChannelRequest, context: ServicerContext
    ) -> pb.Channel:
        return channel_to_proto(await self._service.connect(new_channel_from_proto(request)))

    async def ReceiveShopifyWebhook(
        self, request: pb.ShopifyWebhookRequest, context: ServicerContext
    ) -> pb.WebhookReceipt:
        code, duplicate = await self._service.receive_shopify(
            request.topic,
            request.shop_domain,
            request.webhook_id,
            request.hmac_sha256,
            request.triggered_at,
            request.body,
        )
        return pb.WebhookReceipt(channel_code=code, duplicate=duplicate)

    async def ListChannelExceptions(
        self, request: pb.ListChannelExceptionsRequest, context: ServicerContext
    ) -> pb.ChannelOrders:
        found = await self._service.exceptions(request.channel_code)
        return pb.ChannelOrders(orders=[channel_order_to_proto(x) for x in found])

    async def RetryChannelOrder(
        self, request: pb.RetryChannelOrderRequest, context: ServicerContext
    ) -> pb.ChannelOrder:
        return channel_order_to_proto(await self._service.retry(request.id))

    async def GetChannelStatus(
        self, request: pb.GetChannelStatusRequest, context: ServicerContext
    ) -> pb.ChannelStatus:
        return status_to_proto(await self._service.status(request.code))

    async def ResyncChannel(
        self, request: pb.ResyncChannelRequest, context: ServicerContext
    ) -> pb.ChannelResync:
        owed = await self._availability.resync_on_demand(request.code, caller_of(context))
        return pb.ChannelResync(code=request.code, skus_owed=owed)

    async def ImportWholesaleOrders(
        self, request: pb.ImportWholesaleOrdersRequest, context: ServicerContext
    ) -> pb.WholesaleImport:
        done = await self._service.import_wholesale(request.channel_code, request.csv)
        return pb.WholesaleImport(
            received=done.received,
            already_imported=done.already_imported,
            orders=[channel_order_to_proto(x) for x in done.orders],
        )

    async def RetryChannelFulfillment(
        self, request: pb.RetryChannelFulfillmentRequest, context: ServicerContext
    ) -> pb.ChannelFulfillment:
        retried = await self._fulfillments.retry(request.shipment_id, caller_of(context))
        return fulfillment_to_proto(retried)

    async def ConnectFulfillmentNode(
        self, request: pb.ConnectFulfillmentNodeRequest, context: ServicerContext
    ) -> pb.FulfillmentNode:
        return node_to_proto(await self._nodes.connect(new_node_from_proto(request)))

    async def ListFulfillmentNodes(
        self, request: pb.ListFulfillmentNodesRequest, context: ServicerContext
    ) -> pb.FulfillmentNodes:
        return pb.FulfillmentNodes(nodes=[node_to_proto(x) for x in await self._nodes.statuses()])

    async def PullFulfillmentNodeInventory(
        self, request: pb.PullFulfillmentNodeInventoryRequest, context: ServicerContext
    ) -> pb.FulfillmentNode:
        return node_to_proto(await self._nodes.pull(request.location_code))

    async def ReceiveShipBobWebhook(
        self, request: pb.ShipBobWebhookRequest, context: ServicerContext
    ) -> pb.WebhookReceipt:
        code, unchanged = await self._nodes.receive_webhook(
            request.webhook_id,
            request.webhook_timestamp,
            request.webhook_signature,
            request.topic,
            request.body,
        )
        return pb.WebhookReceipt(channel_code=code, duplicate=unchanged)

    async def GetShipmentTracking(
        self, request: pb.GetShipmentTrackingRequest, context: ServicerContext
    ) -> pb.ShipmentTrackings:
        found = await self._nodes.trackings(list(request.shipment_ids))
        return pb.ShipmentTrackings(trackings=[tracking_to_proto(x) for x in found])
