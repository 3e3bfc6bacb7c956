"""Names the concrete parts of the inventory service."""

from __future__ import annotations

from oms.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from services.inventory.events import subscriptions
from services.inventory.grpc_api import InventoryGrpc
from services.inventory.service import InventoryService
from services.inventory.store import TABLES, SqlInventoryStore
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts
from services.kernel.unit_of_work import SqlUnitOfWork


def build(context: ServiceContext) -> ServiceParts:
    servicer = InventoryGrpc(InventoryService(context.db))
    return ServiceParts(
        register_grpc=lambda server: inventory_pb2_grpc.add_InventoryServiceServicer_to_server(
            servicer, server
        ),
        uow=SqlUnitOfWork(context.db, SqlInventoryStore),
        subscriptions=subscriptions(),
    )


SERVICE = ServiceDefinition(
    name="inventory",
    tables=TABLES,
    grpc_service_names=(inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"].full_name,),
    build=build,
)
