"""Names the concrete parts of the procurement service."""

from __future__ import annotations

from oms.procurement.v1 import procurement_pb2, procurement_pb2_grpc
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts


def build(_context: ServiceContext) -> ServiceParts:
    servicer = procurement_pb2_grpc.ProcurementServiceServicer()
    return ServiceParts(
        register_grpc=lambda server: procurement_pb2_grpc.add_ProcurementServiceServicer_to_server(
            servicer, server
        )
    )


SERVICE = ServiceDefinition(
    name="procurement",
    tables=(),
    grpc_service_names=(
        procurement_pb2.DESCRIPTOR.services_by_name["ProcurementService"].full_name,
    ),
    build=build,
)
