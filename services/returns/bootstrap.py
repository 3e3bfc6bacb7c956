"""Names the concrete parts of the returns service, configured from the environment:

| Variable | Default | Meaning |
|---|---|---|
| `OMS_RETURN_WINDOW_DAYS` | `30` | days after a parcel shipped that its units may be returned |
| `OMS_RETURN_WINDOW_DAYS_<CHANNEL>` | — | the same for one sales channel (`web-eu` → `WEB_EU`) |
| `OMS_RETURN_WEIGHT_TOLERANCE` | `0.3` | flagged below (1 - this) of the expected weight |
| `OMS_RETURN_LOCAL_REACH_KM` | `50` | how far a customer takes a parcel to a return hub |
| `OMS_REFUND_CURRENCY` | `EUR` | currency of refunds (orders carry no currency yet) |
| `OMS_REFUND_PROVIDER` | `ledger` | `ledger` (the service's own refund table) or `webhook` |
| `OMS_REFUND_WEBHOOK_URL` | — | where the returns platform takes refunds (`webhook`) |
| `OMS_REFUND_WEBHOOK_SECRET` | — | the HMAC-SHA256 key that signs each refund's body |
| `OMS_REFUND_WEBHOOK_TIMEOUT_SECONDS` | `3` | one call to the platform |
| `OMS_REFUND_RETRY_BASE_SECONDS` | `2` | first retry delay; it doubles per attempt |
| `OMS_REFUND_RETRY_MAX_SECONDS` | `600` | longest retry delay |
| `OMS_REFUND_LEASE_SECONDS` | `30` | how long an attempt in flight holds its refund |
| `OMS_REFUND_WORKER_INTERVAL_SECONDS` | `2` | how often pending refunds are looked at |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from oms.returns.v1 import returns_pb2, returns_pb2_grpc
from services.kernel.runtime import ServiceContext, ServiceDefinition, ServiceParts
from services.kernel.unit_of_work import SqlUnitOfWork
from services.returns.domain.rules import ReturnCostModel
from services.returns.events import subscriptions
from services.returns.grpc_api import ReturnsGrpc
from services.returns.inventory_client import InventoryClient
from services.returns.orders_client import OrdersClient
from services.returns.refunds import (
    LedgerRefunds,
    RefundIssuer,
    RefundProvider,
    RetryPolicy,
    WebhookRefunds,
    refund_worker,
)
from services.returns.service import ReturnsPolicy, ReturnsService
from services.returns.store import TABLES, SqlReturnsStore

WINDOW_PREFIX = "OMS_RETURN_WINDOW_DAYS_"


def policy_from_env(env: Mapping[str, str]) -> ReturnsPolicy:
    defaults = ReturnsPolicy()
    return ReturnsPolicy(
        window_days=int(env.get("OMS_RETURN_WINDOW_DAYS", defaults.window_days)),
        window_days_by_channel={
            name.removeprefix(WINDOW_PREFIX): int(days)
            for name, days in env.items()
            if name.startswith(WINDOW_PREFIX)
        },
        weight_tolerance=float(env.get("OMS_RETURN_WEIGHT_TOLERANCE", defaults.weight_tolerance)),
        cost_model=ReturnCostModel(
            local_reach_km=float(
                env.get("OMS_RETURN_LOCAL_REACH_KM", defaults.cost_model.local_reach_km)
            )
        ),
        currency=env.get("OMS_REFUND_CURRENCY", defaults.currency),
    )


def refund_provider_from_env(env: Mapping[str, str]) -> RefundProvider:
    name = env.get("OMS_REFUND_PROVIDER", "ledger")
    if name == "ledger":
        return LedgerRefunds()
    if name != "webhook":
        raise ValueError(f"OMS_REFUND_PROVIDER must be ledger or webhook, not {name!r}")
    url, secret = env.get("OMS_REFUND_WEBHOOK_URL"), env.get("OMS_REFUND_WEBHOOK_SECRET")
    if not url or not secret:
        raise ValueError("the webhook provider needs OMS_REFUND_WEBHOOK_URL and _SECRET")
    timeout = float(env.get("OMS_REFUND_WEBHOOK_TIMEOUT_SECONDS", "3"))
    return WebhookRefunds(url, secret, timeout)


def retry_policy_from_env(env: Mapping[str, str]) -> RetryPolicy:
    return RetryPolicy(
        base_seconds=float(env.get("OMS_REFUND_RETRY_BASE_SECONDS", "2")),
        max_seconds=float(env.get("OMS_REFUND_RETRY_MAX_SECONDS", "600")),
        lease=timedelta(seconds=float(env.get("OMS_REFUND_LEASE_SECONDS", "30"))),
    )


def build(context: ServiceContext) -> ServiceParts:
    env = os.environ
    issuer = RefundIssuer(context.db, refund_provider_from_env(env), retry_policy_from_env(env))
    service = ReturnsService(
        context.db,
        OrdersClient(context.channels["orders"]),
        InventoryClient(context.channels["inventory"]),
        issuer,
        policy_from_env(env),
    )
    interval = float(env.get("OMS_REFUND_WORKER_INTERVAL_SECONDS", "2"))
    servicer = ReturnsGrpc(service)
    return ServiceParts(
        register_grpc=lambda server: returns_pb2_grpc.add_ReturnsServiceServicer_to_server(
            servicer, server
        ),
        uow=SqlUnitOfWork(context.db, SqlReturnsStore),
        subscriptions=subscriptions(),
        workers=[refund_worker(issuer, timedelta(seconds=interval))],
    )


SERVICE = ServiceDefinition(
    name="returns",
    tables=TABLES,
    grpc_service_names=(returns_pb2.DESCRIPTOR.services_by_name["ReturnsService"].full_name,),
    build=build,
    calls=("inventory", "orders"),
)
