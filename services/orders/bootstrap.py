"""Names the concrete parts of the orders service."""

from __future__ import annotations

from oms.orders.v1 import orders_pb2, orders_pb2_grpc
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts


def build(_context: ServiceContext) -> ServiceParts:
    servicer = orders_pb2_grpc.OrdersServiceServicer()
    return ServiceParts(
        register_grpc=lambda server: orders_pb2_grpc.add_OrdersServiceServicer_to_server(
            servicer, server
        )
    )


SERVICE = ServiceDefinition(
    name="orders",
    tables=(),
    grpc_service_names=(orders_pb2.DESCRIPTOR.services_by_name["OrdersService"].full_name,),
    build=build,
)
