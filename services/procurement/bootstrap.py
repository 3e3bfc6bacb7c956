"""Names the concrete parts of the procurement service: `bootstrap` wires the use cases over any
unit of work and inventory (tests pass in-memory ones), `build` over the service's database and
the inventory service."""

from __future__ import annotations

from oms.procurement.v1 import procurement_pb2, procurement_pb2_grpc
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts
from services.kernel.unit_of_work import SqlUnitOfWork, UnitOfWork
from services.procurement.events import subscriptions
from services.procurement.grpc_api import ProcurementGrpc
from services.procurement.inventory_client import InventoryClient
from services.procurement.ports import Inventory
from services.procurement.service import ProcurementService
from services.procurement.settings import ProcurementSettings
from services.procurement.store import TABLES, ProcurementStore, SqlProcurementStore


def bootstrap(
    uow: UnitOfWork[ProcurementStore],
    inventory: Inventory,
    settings: ProcurementSettings | None = None,
) -> ProcurementService:
    return ProcurementService(uow, inventory, settings or ProcurementSettings())


def build(context: ServiceContext) -> ServiceParts:
    service = bootstrap(
        SqlUnitOfWork(context.db, SqlProcurementStore),
        InventoryClient(context.channels["inventory"]),
        ProcurementSettings.from_env(context.env),
    )
    servicer = ProcurementGrpc(service)
    return ServiceParts(
        register_grpc=lambda server: procurement_pb2_grpc.add_ProcurementServiceServicer_to_server(
            servicer, server
        ),
        uow=service.uow,
        subscriptions=subscriptions(),
    )


SERVICE = ServiceDefinition(
    name="procurement",
    tables=TABLES,
    grpc_service_names=(
        procurement_pb2.DESCRIPTOR.services_by_name["ProcurementService"].full_name,
    ),
    build=build,
    calls=("inventory",),
)
