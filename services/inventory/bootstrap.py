"""Names the concrete parts of the inventory service: `bootstrap` wires the use cases over any
unit of work (tests pass an in-memory one), `build` over the service's database."""

from __future__ import annotations

from oms.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from services.inventory.events import subscriptions
from services.inventory.gauges import read_gauges
from services.inventory.grpc_api import InventoryGrpc
from services.inventory.service import InventoryService
from services.inventory.settings import InventorySettings
from services.inventory.store import TABLES, InventoryStore, SqlInventoryStore
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts
from services.kernel.unit_of_work import SqlUnitOfWork, UnitOfWork


def bootstrap(
    uow: UnitOfWork[InventoryStore], settings: InventorySettings | None = None
) -> InventoryService:
    return InventoryService(uow, settings or InventorySettings())


def build(context: ServiceContext) -> ServiceParts:
    service = bootstrap(
        SqlUnitOfWork(context.db, SqlInventoryStore), InventorySettings.from_env(context.env)
    )
    servicer = InventoryGrpc(service)
    return ServiceParts(
        register_grpc=lambda server: inventory_pb2_grpc.add_InventoryServiceServicer_to_server(
            servicer, server
        ),
        uow=service.uow,
        subscriptions=subscriptions(service),
        # No background loop of its own: the kernel runs the outbox relay and the consumers.
        workers=(),
    )


SERVICE = ServiceDefinition(
    name="inventory",
    tables=TABLES,
    grpc_service_names=(inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"].full_name,),
    build=build,
    gauges=read_gauges,
)
