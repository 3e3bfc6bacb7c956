"""Names the concrete parts of the channels service: `bootstrap` wires the use cases over any
unit of work and orders service, `build` over the service's database and the orders service."""

from __future__ import annotations

from oms.channels.v1 import channels_pb2, channels_pb2_grpc
from services.channels import events
from services.channels.amazon_api import SellingPartnerApis
from services.channels.amazon_poller import AmazonPoller, amazon_poll_worker
from services.channels.availability_push import (
    AvailabilityPush,
    push_worker,
    resync_worker,
    rules_resync_worker,
)
from services.channels.fulfillment_push import FulfillmentPush, fulfillment_worker
from services.channels.gauges import read_gauges
from services.channels.grpc_api import ChannelsGrpc
from services.channels.inventory_client import InventoryClient, InventoryCounts
from services.channels.orders_client import OrdersClient
from services.channels.platforms import AmazonPlatform, Platforms, ShopifyPlatform
from services.channels.ports import Orders
from services.channels.recovery import placement_worker
from services.channels.service import ChannelsService
from services.channels.settings import ChannelsSettings
from services.channels.shipbob_api import ShipBobApi
from services.channels.shopify_admin import ShopifyAdmin
from services.channels.store import TABLES, ChannelsStore, SqlChannelsStore
from services.channels.third_party import ThirdPartyNodes, order_worker, pull_worker
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts
from services.kernel.unit_of_work import SqlUnitOfWork, UnitOfWork


def bootstrap(uow: UnitOfWork[ChannelsStore], orders: Orders) -> ChannelsService:
    return ChannelsService(uow, orders)


def build(context: ServiceContext) -> ServiceParts:
    settings = ChannelsSettings.from_env(context.env)
    orders = OrdersClient(context.channels["orders"])
    inventory = InventoryClient(context.channels["inventory"])
    service = bootstrap(SqlUnitOfWork(context.db, SqlChannelsStore), orders)
    pushes = SqlUnitOfWork(context.db, SqlChannelsStore)
    platforms = Platforms(
        ShopifyPlatform(ShopifyAdmin()), AmazonPlatform(pushes, SellingPartnerApis())
    )
    availability = AvailabilityPush(pushes, inventory, platforms)
    fulfillments = FulfillmentPush(pushes, platforms)
    nodes = ThirdPartyNodes(
        pushes, ShipBobApi(), orders, inventory, InventoryCounts(context.channels["inventory"])
    )
    servicer = ChannelsGrpc(service, availability, fulfillments, nodes)
    return ServiceParts(
        register_grpc=lambda server: channels_pb2_grpc.add_ChannelsServiceServicer_to_server(
            servicer, server
        ),
        uow=service.uow,
        subscriptions=events.subscriptions(),
        workers=[
            placement_worker(service, settings.retry_after),
            push_worker(availability),
            resync_worker(availability),
            rules_resync_worker(availability),
            fulfillment_worker(fulfillments),
            amazon_poll_worker(AmazonPoller(service), settings.amazon_poll_every),
            order_worker(nodes),
            pull_worker(nodes, settings.shipbob_pull_every),
        ],
    )


SERVICE = ServiceDefinition(
    name="channels",
    tables=TABLES,
    grpc_service_names=(channels_pb2.DESCRIPTOR.services_by_name["ChannelsService"].full_name,),
    build=build,
    gauges=read_gauges,
    calls=("orders", "inventory"),
)
