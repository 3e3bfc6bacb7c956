"""Names the concrete parts of the workorders service."""

from __future__ import annotations

import grpc

from oms.workorders.v1 import workorders_pb2, workorders_pb2_grpc
from services.kernel.db import Database
from services.kernel.runtime import ServiceDefinition


def _register_grpc(server: grpc.aio.Server, _db: Database) -> None:
    workorders_pb2_grpc.add_WorkOrdersServiceServicer_to_server(
        workorders_pb2_grpc.WorkOrdersServiceServicer(), server
    )


SERVICE = ServiceDefinition(
    name="workorders",
    tables=(),
    grpc_service_names=(workorders_pb2.DESCRIPTOR.services_by_name["WorkOrdersService"].full_name,),
    register_grpc=_register_grpc,
)
