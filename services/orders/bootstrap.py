"""Names the concrete parts of the orders service: `bootstrap` wires the use cases over any unit
of work and any inventory (tests pass in-memory ones), `build` over the service's database and
the inventory service's gRPC API."""

from __future__ import annotations

from oms.orders.v1 import orders_pb2, orders_pb2_grpc
from services.kernel import gazetteer
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts
from services.kernel.unit_of_work import SqlUnitOfWork, UnitOfWork
from services.orders.events import subscriptions
from services.orders.gauges import read_gauges
from services.orders.grpc_api import OrdersGrpc
from services.orders.inventory_client import Inventory, InventoryClient
from services.orders.recovery import placement_recovery
from services.orders.service import OrdersService
from services.orders.settings import OrdersSettings
from services.orders.store import TABLES, OrdersStore, SqlOrdersStore


def bootstrap(
    uow: UnitOfWork[OrdersStore], inventory: Inventory, settings: OrdersSettings | None = None
) -> OrdersService:
    return OrdersService(uow, inventory, settings or OrdersSettings())


def build(context: ServiceContext) -> ServiceParts:
    gazetteer.warm_up()  # addresses without coordinates are placed from it
    settings = OrdersSettings.from_env(context.env)
    service = bootstrap(
        SqlUnitOfWork(context.db, SqlOrdersStore),
        InventoryClient(context.channels["inventory"]),
        settings,
    )
    servicer = OrdersGrpc(service)
    return ServiceParts(
        register_grpc=lambda server: orders_pb2_grpc.add_OrdersServiceServicer_to_server(
            servicer, server
        ),
        uow=service.uow,
        subscriptions=subscriptions(),
        workers=[placement_recovery(service, stale_after=settings.recovery_after)],
    )


SERVICE = ServiceDefinition(
    name="orders",
    tables=TABLES,
    grpc_service_names=(orders_pb2.DESCRIPTOR.services_by_name["OrdersService"].full_name,),
    build=build,
    gauges=read_gauges,
    calls=("inventory",),
)
