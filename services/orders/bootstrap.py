"""Names the concrete parts of the orders service."""

from __future__ import annotations

import os
from datetime import timedelta

from oms.orders.v1 import orders_pb2, orders_pb2_grpc
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts
from services.orders.domain.routing import CostModel
from services.orders.grpc_api import OrdersGrpc
from services.orders.inventory_client import InventoryClient
from services.orders.recovery import placement_recovery
from services.orders.service import OrdersService
from services.orders.store import TABLES


def cost_model_from_env() -> CostModel:
    """The routing knobs an operator sets without code (the README lists them)."""
    defaults = CostModel()
    return CostModel(
        extra_parcel_cents=int(
            os.environ.get("OMS_ROUTING_EXTRA_PARCEL_CENTS", defaults.extra_parcel_cents)
        ),
        max_locations=int(os.environ.get("OMS_ROUTING_MAX_LOCATIONS", defaults.max_locations)),
    )


def build(context: ServiceContext) -> ServiceParts:
    service = OrdersService(
        context.db, InventoryClient(context.channels["inventory"]), cost_model_from_env()
    )
    stale_after = float(os.environ.get("OMS_ORDERS_RECOVERY_AFTER_SECONDS", "30"))
    servicer = OrdersGrpc(service)
    return ServiceParts(
        register_grpc=lambda server: orders_pb2_grpc.add_OrdersServiceServicer_to_server(
            servicer, server
        ),
        workers=[placement_recovery(service, stale_after=timedelta(seconds=stale_after))],
    )


SERVICE = ServiceDefinition(
    name="orders",
    tables=TABLES,
    grpc_service_names=(orders_pb2.DESCRIPTOR.services_by_name["OrdersService"].full_name,),
    build=build,
    calls=("inventory",),
)
