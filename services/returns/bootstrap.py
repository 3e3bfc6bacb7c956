"""Names the concrete parts of the returns service."""

from __future__ import annotations

import grpc

from oms.returns.v1 import returns_pb2, returns_pb2_grpc
from services.kernel.db import Database
from services.kernel.runtime import ServiceDefinition


def _register_grpc(server: grpc.aio.Server, _db: Database) -> None:
    returns_pb2_grpc.add_ReturnsServiceServicer_to_server(
        returns_pb2_grpc.ReturnsServiceServicer(), server
    )


SERVICE = ServiceDefinition(
    name="returns",
    tables=(),
    grpc_service_names=(returns_pb2.DESCRIPTOR.services_by_name["ReturnsService"].full_name,),
    register_grpc=_register_grpc,
)
