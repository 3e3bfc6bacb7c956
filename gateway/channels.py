"""Sales channels: connecting one (the contract's connectChannel) and, outside the contract, the
orders it could not place (exceptions, retried by the back office) and its status."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

import strawberry

from gateway.context import Context
from gateway.convert import reply, request
from gateway.errors import query_answer
from gateway.mutations import Payload, answer
from gateway.permissions import allow
from oms.channels.v1 import channels_pb2 as pb
from oms.channels.v1.channels_pb2_grpc import ChannelsServiceStub
from services.kernel.caller import Role

if TYPE_CHECKING:
    from oms.channels.v1.channels_pb2_grpc import ChannelsServiceAsyncStub

Info = strawberry.Info[Context, None]
BACK_OFFICE = (Role.BACKOFFICE, Role.ADMIN)


@strawberry.enum
class ChannelPlatform(Enum):
    SHOPIFY = "SHOPIFY"
    AMAZON = "AMAZON"
    WHOLESALE = "WHOLESALE"


@strawberry.input
class ConnectChannelInput:
    code: str = strawberry.field(
        description="The sales channel's code, as orders from it carry in `channel`."
    )
    platform: ChannelPlatform
    account: str = strawberry.field(
        description="The platform's name for the account: the shop domain "
        "(brand.myshopify.com), the Amazon seller id."
    )
    webhook_secret: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The shared secret the platform signs its webhooks with (Shopify: the app's "
        "client secret).",
    )
    api_base_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Where the connector calls the platform's API; the platform's own when left "
        "out.",
    )
    access_token: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The credential for calls to the platform's API (Amazon: the seller's LWA "
        "refresh token).",
    )
    # Beyond the contract, optional: what polling Amazon needs besides the refresh token.
    marketplace_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Not in the client contract. Amazon only: the marketplace polled "
        "(ATVPDKIKX0DER for amazon.com).",
    )
    lwa_client_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Not in the client contract. Amazon only: the SP-API application's Login "
        "with Amazon client id.",
    )
    lwa_client_secret: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Not in the client contract. Amazon only: the application's LWA client "
        "secret; never shown back.",
    )

    def to_proto(self) -> pb.ConnectChannelRequest:
        return request(pb.ConnectChannelRequest, self)  # left-out secrets stay unset: kept


@strawberry.type(
    name="ChannelConnection",
    description="A sales channel's connection to its platform; its secrets are never shown.",
)
class Channel:
    code: str
    platform: ChannelPlatform
    account: str
    api_base_url: str | None
    has_webhook_secret: bool
    has_access_token: bool
    connected_at: datetime

    @classmethod
    def from_proto(cls, channel: pb.Channel) -> Channel:
        return reply(cls, channel, api_base_url=channel.api_base_url or None)


@strawberry.enum
class ChannelOrderStatus(Enum):
    PENDING = "PENDING"
    PLACED = "PLACED"
    EXCEPTION = "EXCEPTION"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"


@strawberry.type(
    description="An order a channel sent, with where it stands; an EXCEPTION waits for a retry."
)
class ChannelOrder:
    id: strawberry.ID
    channel_code: str
    external_id: str
    status: ChannelOrderStatus
    order_id: strawberry.ID | None
    problem_code: str | None = strawberry.field(
        description="The orders service's refusal: NOT_FOUND for an unknown SKU, "
        "INSUFFICIENT_STOCK, INVALID_ADDRESS..."
    )
    problem_field: str | None
    problem: str | None
    attempts: int
    received_at: datetime
    updated_at: datetime

    @classmethod
    def from_proto(cls, found: pb.ChannelOrder) -> ChannelOrder:
        return reply(
            cls,
            found,
            order_id=found.order_id or None,
            problem_code=found.problem_code or None,
            problem_field=found.problem_field or None,
            problem=found.problem or None,
        )


@strawberry.enum
class ChannelFulfillmentStatus(Enum):
    PENDING = "PENDING"
    CREATED = "CREATED"
    FAILED = "FAILED"


@strawberry.type(
    description="A shipment its platform is told of (Shopify's fulfillment, Amazon's shipment "
    "confirmation). PENDING is sent, and retried while the platform is down; FAILED the "
    "platform refused for good, with its reason, and waits for retryChannelFulfillment."
)
class ChannelFulfillment:
    shipment_id: strawberry.ID
    channel_code: str
    external_order_id: str
    tracking_number: str | None
    status: ChannelFulfillmentStatus
    attempts: int
    failure: str | None = strawberry.field(description="The platform's reason when FAILED.")

    @classmethod
    def from_proto(cls, found: pb.ChannelFulfillment) -> ChannelFulfillment:
        return reply(
            cls,
            found,
            tracking_number=found.tracking_number or None,
            failure=found.failure or None,
        )


@strawberry.type(description="What a channel brought in, and what waits.")
class ChannelStatus:
    channel: Channel
    orders_received: int
    orders_placed: int
    exceptions_waiting: int
    refunds_received: int
    last_received_at: datetime | None = strawberry.field(
        description="The last delivery that verified and was recorded: the last successful sync."
    )
    pending_pushes: int = strawberry.field(
        description="SKUs whose availability is owed to the platform (pushed after changes)."
    )
    last_pushed_at: datetime | None = strawberry.field(
        description="The last availability push the platform took."
    )
    fulfillments_failed: int = strawberry.field(
        description="Shipments the platform refused for good (not sent again until retried)."
    )
    failed_fulfillments: list[ChannelFulfillment] = strawberry.field(
        description="The oldest 20 of those, with the platform's reasons."
    )

    @classmethod
    def from_proto(cls, status: pb.ChannelStatus) -> ChannelStatus:
        return reply(
            cls,
            status,
            channel=Channel.from_proto(status.channel),
            last_received_at=datetime.fromisoformat(status.last_received_at)
            if status.last_received_at
            else None,
            last_pushed_at=datetime.fromisoformat(status.last_pushed_at)
            if status.last_pushed_at
            else None,
            failed_fulfillments=[
                ChannelFulfillment.from_proto(x) for x in status.failed_fulfillments
            ],
        )


@strawberry.type
class ConnectChannelPayload(Payload):
    channel: Channel | None = None


@strawberry.type
class ChannelOrderPayload(Payload):
    channel_order: ChannelOrder | None = None


@strawberry.type
class ChannelFulfillmentPayload(Payload):
    fulfillment: ChannelFulfillment | None = None


@strawberry.type
class ResyncChannelPayload(Payload):
    skus_owed: int | None = strawberry.field(
        default=None, description="SKUs owed to the platform again, pushed within seconds."
    )


@strawberry.type(description="What importing a wholesale file did.")
class WholesaleImport:
    received: int = strawberry.field(description="Orders (PO numbers) new to the channel.")
    already_imported: int = strawberry.field(
        description="Orders of the file the channel had already: left as they were."
    )
    orders: list[ChannelOrder] = strawberry.field(
        description="Every order of the file as it stands, in the file's order."
    )

    @classmethod
    def from_proto(cls, done: pb.WholesaleImport) -> WholesaleImport:
        return reply(cls, done, orders=[ChannelOrder.from_proto(x) for x in done.orders])


@strawberry.type
class ImportWholesaleOrdersPayload(Payload):
    imported: WholesaleImport | None = None


def _channels(info: Info) -> ChannelsServiceAsyncStub:
    return info.context.services[ChannelsServiceStub]


@strawberry.type
class ChannelsQuery:
    @strawberry.field(
        extensions=allow(*BACK_OFFICE),
        description="Not in the client contract. Orders the channels sent that the orders "
        "service refused, oldest first (of one channel when named).",
    )
    async def channel_exceptions(
        self, info: Info, channel_code: str | None = None
    ) -> list[ChannelOrder]:
        call = _channels(info).ListChannelExceptions(
            pb.ListChannelExceptionsRequest(channel_code=channel_code or "")
        )
        return [ChannelOrder.from_proto(x) for x in (await query_answer(call)).orders]

    @strawberry.field(
        extensions=allow(*BACK_OFFICE),
        description="Not in the client contract. A channel's orders received and placed, "
        "exceptions waiting, refunds and its last successful sync.",
    )
    async def channel_status(self, info: Info, code: str) -> ChannelStatus:
        call = _channels(info).GetChannelStatus(pb.GetChannelStatusRequest(code=code))
        return ChannelStatus.from_proto(await query_answer(call))


@strawberry.type
class ChannelsMutation:
    @strawberry.mutation(
        extensions=allow(*BACK_OFFICE),
        description="Connects a channel code to its platform account (again: updates it, and a "
        "secret left out is kept). Shopify: the account is the shop's myshopify.com domain and "
        "the webhook secret the app's client secret.",
    )
    async def connect_channel(
        self, info: Info, input: ConnectChannelInput
    ) -> ConnectChannelPayload:
        call = _channels(info).ConnectChannel(input.to_proto())
        return await answer(ConnectChannelPayload, call, channel=Channel.from_proto)

    @strawberry.mutation(
        extensions=allow(*BACK_OFFICE),
        description="Not in the client contract. Imports a wholesale channel's purchase orders "
        "from a CSV file's text (one order per PO number; the columns are in the README): all "
        "of the file, or nothing of it and the first row that cannot be read by line number. "
        "A PO imported before is left as it was.",
    )
    async def import_wholesale_orders(
        self, info: Info, channel: str, csv: str
    ) -> ImportWholesaleOrdersPayload:
        request = pb.ImportWholesaleOrdersRequest(channel_code=channel, csv=csv)
        call = _channels(info).ImportWholesaleOrders(request)
        return await answer(
            ImportWholesaleOrdersPayload, call, argument=None, imported=WholesaleImport.from_proto
        )

    @strawberry.mutation(
        extensions=allow(*BACK_OFFICE),
        description="Not in the client contract. Places a parked channel order again (after "
        "its SKU was created or stock arrived); one not parked is INVALID_STATE.",
    )
    async def retry_channel_order(self, info: Info, id: strawberry.ID) -> ChannelOrderPayload:
        call = _channels(info).RetryChannelOrder(pb.RetryChannelOrderRequest(id=id))
        return await answer(
            ChannelOrderPayload, call, argument=None, channel_order=ChannelOrder.from_proto
        )

    @strawberry.mutation(
        extensions=allow(*BACK_OFFICE),
        description="Not in the client contract. Pushes a Shopify channel's availability of "
        "every SKU again (after its shop was edited by hand); an unknown channel is NOT_FOUND.",
    )
    async def resync_channel(self, info: Info, code: str) -> ResyncChannelPayload:
        call = _channels(info).ResyncChannel(pb.ResyncChannelRequest(code=code))
        return await answer(
            ResyncChannelPayload, call, argument=None, skus_owed=lambda r: r.skus_owed
        )

    @strawberry.mutation(
        extensions=allow(*BACK_OFFICE),
        description="Not in the client contract. Sends a shipment its platform refused for "
        "good (channelStatus.failedFulfillments) again, once what it refused is mended; one "
        "not FAILED is INVALID_STATE, an unknown one NOT_FOUND.",
    )
    async def retry_channel_fulfillment(
        self, info: Info, shipment_id: strawberry.ID
    ) -> ChannelFulfillmentPayload:
        call = _channels(info).RetryChannelFulfillment(
            pb.RetryChannelFulfillmentRequest(shipment_id=shipment_id)
        )
        return await answer(
            ChannelFulfillmentPayload,
            call,
            argument=None,
            fulfillment=ChannelFulfillment.from_proto,
        )
