"""Names the concrete parts of the workorders service."""

from __future__ import annotations

from oms.workorders.v1 import workorders_pb2, workorders_pb2_grpc
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts
from services.workorders.events import subscriptions
from services.workorders.grpc_api import WorkOrdersGrpc
from services.workorders.service import WorkOrdersService
from services.workorders.store import TABLES


def build(context: ServiceContext) -> ServiceParts:
    service = WorkOrdersService(context.db)
    servicer = WorkOrdersGrpc(service)
    return ServiceParts(
        register_grpc=lambda server: workorders_pb2_grpc.add_WorkOrdersServiceServicer_to_server(
            servicer, server
        ),
        subscriptions=subscriptions(service),
    )


SERVICE = ServiceDefinition(
    name="workorders",
    tables=TABLES,
    grpc_service_names=(workorders_pb2.DESCRIPTOR.services_by_name["WorkOrdersService"].full_name,),
    build=build,
)
