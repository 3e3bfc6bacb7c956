"""Names the concrete parts of the procurement service."""

from __future__ import annotations

import grpc

from oms.procurement.v1 import procurement_pb2, procurement_pb2_grpc
from services.kernel.db import Database
from services.kernel.runtime import ServiceDefinition


def _register_grpc(server: grpc.aio.Server, _db: Database) -> None:
    procurement_pb2_grpc.add_ProcurementServiceServicer_to_server(
        procurement_pb2_grpc.ProcurementServiceServicer(), server
    )


SERVICE = ServiceDefinition(
    name="procurement",
    tables=(),
    grpc_service_names=(
        procurement_pb2.DESCRIPTOR.services_by_name["ProcurementService"].full_name,
    ),
    register_grpc=_register_grpc,
)
