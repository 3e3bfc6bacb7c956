"""Names the concrete parts of the orders service."""

from __future__ import annotations

import grpc

from oms.orders.v1 import orders_pb2, orders_pb2_grpc
from services.kernel.db import Database
from services.kernel.runtime import ServiceDefinition


def _register_grpc(server: grpc.aio.Server, _db: Database) -> None:
    orders_pb2_grpc.add_OrdersServiceServicer_to_server(
        orders_pb2_grpc.OrdersServiceServicer(), server
    )


SERVICE = ServiceDefinition(
    name="orders",
    tables=(),
    grpc_service_names=(orders_pb2.DESCRIPTOR.services_by_name["OrdersService"].full_name,),
    register_grpc=_register_grpc,
)
