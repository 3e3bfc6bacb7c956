"""Names the concrete parts of the work orders service: `bootstrap` wires the use cases over
any unit of work and inventory (tests pass in-memory ones), `build` over the service's database
and the inventory service."""

from __future__ import annotations

from oms.workorders.v1 import workorders_pb2, workorders_pb2_grpc
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts
from services.kernel.unit_of_work import SqlUnitOfWork, UnitOfWork
from services.workorders.events import subscriptions
from services.workorders.gauges import read_gauges
from services.workorders.grpc_api import WorkOrdersGrpc
from services.workorders.inventory_client import InventoryClient
from services.workorders.ports import Inventory
from services.workorders.recovery import opening_recovery
from services.workorders.service import WorkOrdersService
from services.workorders.settings import WorkOrdersSettings
from services.workorders.store import TABLES, SqlWorkOrdersStore, WorkOrdersStore


def bootstrap(
    uow: UnitOfWork[WorkOrdersStore],
    inventory: Inventory,
    settings: WorkOrdersSettings | None = None,
) -> WorkOrdersService:
    return WorkOrdersService(uow, inventory, settings or WorkOrdersSettings())


def build(context: ServiceContext) -> ServiceParts:
    service = bootstrap(
        SqlUnitOfWork(context.db, SqlWorkOrdersStore),
        InventoryClient(context.channels["inventory"]),
        WorkOrdersSettings.from_env(context.env),
    )
    servicer = WorkOrdersGrpc(service)
    return ServiceParts(
        register_grpc=lambda server: workorders_pb2_grpc.add_WorkOrdersServiceServicer_to_server(
            servicer, server
        ),
        uow=service.uow,
        subscriptions=subscriptions(service),
        workers=[opening_recovery(service)],
    )


SERVICE = ServiceDefinition(
    name="workorders",
    tables=TABLES,
    grpc_service_names=(workorders_pb2.DESCRIPTOR.services_by_name["WorkOrdersService"].full_name,),
    build=build,
    gauges=read_gauges,
    calls=("inventory",),
)
