"""Names the concrete parts of the workorders service."""

from __future__ import annotations

from oms.workorders.v1 import workorders_pb2, workorders_pb2_grpc
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts


def build(_context: ServiceContext) -> ServiceParts:
    servicer = workorders_pb2_grpc.WorkOrdersServiceServicer()
    return ServiceParts(
        register_grpc=lambda server: workorders_pb2_grpc.add_WorkOrdersServiceServicer_to_server(
            servicer, server
        )
    )


SERVICE = ServiceDefinition(
    name="workorders",
    tables=(),
    grpc_service_names=(workorders_pb2.DESCRIPTOR.services_by_name["WorkOrdersService"].full_name,),
    build=build,
)
