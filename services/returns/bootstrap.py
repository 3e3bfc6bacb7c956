"""Names the concrete parts of the returns service: `bootstrap` wires the use cases over any unit
of work, orders, inventory and refund provider (tests pass in-memory fakes), `build` over the
service's database, the gRPC clients and the provider its settings (settings.py) name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from oms.returns.v1 import returns_pb2, returns_pb2_grpc
from services.kernel import gazetteer
from services.kernel.db import utcnow
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts
from services.kernel.unit_of_work import SqlUnitOfWork, UnitOfWork
from services.returns.events import subscriptions
from services.returns.gauges import read_gauges
from services.returns.grpc_api import ReturnsGrpc
from services.returns.inventory_client import InventoryClient
from services.returns.notifier import PlatformNotifier, notifier_worker
from services.returns.orders_client import OrdersClient
from services.returns.platforms import PlatformDirectory
from services.returns.ports import Inventory, Orders
from services.returns.refunds import (
    LedgerRefunds,
    RefundIssuer,
    RefundProvider,
    WebhookRefunds,
    refund_worker,
)
from services.returns.service import ReturnsService
from services.returns.settings import ReturnsSettings
from services.returns.store import TABLES, ReturnsStore, SqlReturnsStore


def bootstrap(
    uow: UnitOfWork[ReturnsStore],
    orders: Orders,
    inventory: Inventory,
    refund_provider: RefundProvider,
    settings: ReturnsSettings | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> ReturnsService:
    """The returns' use cases; `service.refunds` is the issuer the refund worker runs."""
    settings = settings or ReturnsSettings()
    refunds = RefundIssuer(uow, refund_provider, settings.retry, clock, PlatformDirectory())
    return ReturnsService(uow, orders, inventory, refunds, settings.policy, clock)


def refund_provider_for(settings: ReturnsSettings) -> RefundProvider:
    """The provider the settings name: the returns platform's webhook, or the ledger."""
    if settings.webhook is None:
        return LedgerRefunds()
    webhook = settings.webhook
    return WebhookRefunds(webhook.url, webhook.secret, webhook.timeout_seconds)


def build(context: ServiceContext) -> ServiceParts:
    gazetteer.warm_up()  # addresses without coordinates are placed from it
    settings = ReturnsSettings.from_env(context.env)
    service = bootstrap(
        SqlUnitOfWork(context.db, SqlReturnsStore),
        OrdersClient(context.channels["orders"]),
        InventoryClient(context.channels["inventory"]),
        refund_provider_for(settings),
        settings,
    )
    servicer = ReturnsGrpc(service)
    return ServiceParts(
        register_grpc=lambda server: returns_pb2_grpc.add_ReturnsServiceServicer_to_server(
            servicer, server
        ),
        uow=service.uow,
        subscriptions=subscriptions(service),
        workers=[
            refund_worker(service.refunds, settings.worker_interval),
            notifier_worker(
                PlatformNotifier(service.uow, settings.retry), settings.worker_interval
            ),
        ],
    )


SERVICE = ServiceDefinition(
    name="returns",
    tables=TABLES,
    grpc_service_names=(returns_pb2.DESCRIPTOR.services_by_name["ReturnsService"].full_name,),
    build=build,
    gauges=read_gauges,
    calls=("inventory", "orders"),
)
