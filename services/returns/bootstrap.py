"""Names the concrete parts of the returns service."""

from __future__ import annotations

from oms.returns.v1 import returns_pb2, returns_pb2_grpc
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts


def build(_context: ServiceContext) -> ServiceParts:
    servicer = returns_pb2_grpc.ReturnsServiceServicer()
    return ServiceParts(
        register_grpc=lambda server: returns_pb2_grpc.add_ReturnsServiceServicer_to_server(
            servicer, server
        )
    )


SERVICE = ServiceDefinition(
    name="returns",
    tables=(),
    grpc_service_names=(returns_pb2.DESCRIPTOR.services_by_name["ReturnsService"].full_name,),
    build=build,
)
