"""Names the concrete parts of the inventory service."""

from __future__ import annotations

import grpc

from oms.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from services.inventory.grpc_api import InventoryGrpc
from services.inventory.service import InventoryService
from services.inventory.store import TABLES
from services.kernel.db import Database
from services.kernel.runtime import ServiceDefinition


def _register_grpc(server: grpc.aio.Server, db: Database) -> None:
    inventory_pb2_grpc.add_InventoryServiceServicer_to_server(
        InventoryGrpc(InventoryService(db)), server
    )


SERVICE = ServiceDefinition(
    name="inventory",
    tables=TABLES,
    grpc_service_names=(inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"].full_name,),
    register_grpc=_register_grpc,
)
