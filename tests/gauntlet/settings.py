"""How a gauntlet run sets the system up: quick restarts and recoveries, refunds through the
fake returns platform, and the places and stock the load works with."""

from __future__ import annotations

from tests.gauntlet.load import HUB, SKUS
from tests.support.graphql import GraphQLClient
from tests.support.refund_platform import FakePlatform
from tests.support.stock import seed

PLACES = {
    "DC-LIS": ("DISTRIBUTION_CENTER", 38.72, -9.14),
    "STORE-BER": ("STORE", 52.53, 13.41),
    HUB: ("RETURN_HUB", 52.50, 13.45),
}
UNITS_PER_PLACE = 400


def gauntlet_env(platform: FakePlatform) -> dict[str, str]:
    """Quick restarts and recoveries, and refunds through the fake platform."""
    return {
        "OMS_RESTART_DELAY_SECONDS": "0.2",
        # Longer than a placement's gRPC deadlines (5 s), as the setting requires.
        "OMS_ORDERS_RECOVERY_AFTER_SECONDS": "8",
        "OMS_REFUND_PROVIDER": "webhook",
        "OMS_REFUND_WEBHOOK_URL": platform.url,
        "OMS_REFUND_WEBHOOK_SECRET": platform.secret,
        "OMS_REFUND_WEBHOOK_TIMEOUT_SECONDS": "2",
        "OMS_REFUND_LEASE_SECONDS": "5",
        "OMS_REFUND_RETRY_BASE_SECONDS": "0.2",
        "OMS_REFUND_RETRY_MAX_SECONDS": "2",
        "OMS_REFUND_WORKER_INTERVAL_SECONDS": "0.5",
    }


async def stock_the_shop(graphql: GraphQLClient) -> None:
    """The places, the SKUs and plenty of each SKU where orders are shipped from."""
    stock = {(sku, at): UNITS_PER_PLACE for sku in SKUS for at in ("DC-LIS", "STORE-BER")}
    await seed(graphql, PLACES, SKUS, stock)
