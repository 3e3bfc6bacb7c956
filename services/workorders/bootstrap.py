"""Names the concrete parts of the work orders service: `bootstrap` wires the use cases over
any unit of work (tests pass an in-memory one), `build` over the service's database."""

from __future__ import annotations

from oms.workorders.v1 import workorders_pb2, workorders_pb2_grpc
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts
from services.kernel.unit_of_work import SqlUnitOfWork, UnitOfWork
from services.workorders.events import subscriptions
from services.workorders.grpc_api import WorkOrdersGrpc
from services.workorders.service import WorkOrdersService
from services.workorders.settings import WorkOrdersSettings
from services.workorders.store import TABLES, SqlWorkOrdersStore, WorkOrdersStore


def bootstrap(
    uow: UnitOfWork[WorkOrdersStore], settings: WorkOrdersSettings | None = None
) -> WorkOrdersService:
    return WorkOrdersService(uow, settings or WorkOrdersSettings())


def build(context: ServiceContext) -> ServiceParts:
    service = bootstrap(
        SqlUnitOfWork(context.db, SqlWorkOrdersStore), WorkOrdersSettings.from_env(context.env)
    )
    servicer = WorkOrdersGrpc(service)
    return ServiceParts(
        register_grpc=lambda server: workorders_pb2_grpc.add_WorkOrdersServiceServicer_to_server(
            servicer, server
        ),
        uow=service.uow,
        subscriptions=subscriptions(service),
    )


SERVICE = ServiceDefinition(
    name="workorders",
    tables=TABLES,
    grpc_service_names=(workorders_pb2.DESCRIPTOR.services_by_name["WorkOrdersService"].full_name,),
    build=build,
)
