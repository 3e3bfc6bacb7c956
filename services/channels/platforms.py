"""The outbound adapters, one per kind of platform: Shopify over its Admin API, Amazon over the
Selling Partner API (Listings Items for quantities, Orders v0 for shipment confirmations).
Neither is called inside a unit of work; each raises PlatformUnavailable when it must be asked
again later, and a confirmation raises PlatformRefused when the platform will never take it."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from services.channels.amazon_api import AmazonRefused, AmazonUnavailable, SellingPartnerApis
from services.channels.amazon_poller import all_items
from services.channels.domain.model import AmazonAccount, Channel, Platform
from services.channels.platform_errors import PlatformRefused
from services.channels.ports import SalesPlatform, ShippedShipment
from services.channels.shopify_admin import PlatformUnavailable, ShopifyAdmin, ShopifyShop
from services.channels.store import SqlChannelsStore
from services.kernel.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# The OMS does not record carriers yet: Amazon takes carrierCode "Other" with the tracking
# number, and then requires carrierName, which names no real carrier either.
AMAZON_CARRIER = "Other"
AMAZON_CARRIER_NAME = "Other"


def package_reference(shipment_id: str) -> str:
    """Amazon takes only a positive number as a package's reference; ours is a UUID. Its first
    48 bits, read as a number, stay the same across retries and tell a shipment's packages
    apart within one order (the 1 covers an all-zero prefix)."""
    digits = "".join(c for c in shipment_id if c in "0123456789abcdefABCDEF")[:12]
    return str(int(digits or "0", 16) or 1)


def shop_of(channel: Channel) -> ShopifyShop:
    """The shop's Admin API: `apiBaseUrl` when the connection sets one, else the shop's own."""
    return ShopifyShop(channel.api_base_url or f"https://{channel.account}", channel.access_token)


class ShopifyPlatform:
    def __init__(self, admin: ShopifyAdmin) -> None:
        self._admin = admin

    async def push_availability(self, channel: Channel, available: Mapping[str, int]) -> None:
        await self._admin.set_available(shop_of(channel), available)

    async def confirm_shipment(self, channel: Channel, shipment: ShippedShipment) -> None:
        await self._admin.fulfill(
            shop_of(channel), shipment.external_order_id, shipment.tracking_number
        )


class AmazonPlatform:
    def __init__(self, uow: UnitOfWork[SqlChannelsStore], apis: SellingPartnerApis) -> None:
        self._uow = uow
        self._apis = apis

    async def push_availability(self, channel: Channel, available: Mapping[str, int]) -> None:
        """SKU by SKU (Listings Items has no batch patch), each call waiting for the bucket. A
        SKU Amazon refuses (not listed there) is skipped, as Shopify skips unknown SKUs."""
        account = await self._account(channel)
        api = self._apis.of(account)
        try:
            for sku, units in available.items():
                if not await api.set_quantity(
                    account.seller_id, account.marketplace_id, sku, units
                ):
                    log.warning("Amazon channel %s refused the quantity of %s", channel.code, sku)
        except AmazonUnavailable as error:
            raise PlatformUnavailable(str(error)) from None

    async def confirm_shipment(self, channel: Channel, shipment: ShippedShipment) -> None:
        """One package per shipment, its lines by Amazon's order item ids (asked of Amazon:
        we keep SKUs, Amazon wants its own item ids)."""
        account = await self._account(channel)
        api = self._apis.of(account)
        try:
            items = await all_items(api, shipment.external_order_id)
            item_of = {i.get("SellerSKU"): i.get("OrderItemId") for i in items}
            package = {
                "packageReferenceId": package_reference(shipment.shipment_id),
                "carrierCode": AMAZON_CARRIER,
                "carrierName": AMAZON_CARRIER_NAME,
                "trackingNumber": shipment.tracking_number,
                "shipDate": shipment.shipped_at.isoformat().replace("+00:00", "Z"),
                "orderItems": [
                    {"orderItemId": item_of[sku], "quantity": units}
                    for sku, units in shipment.lines.items()
                    if item_of.get(sku)
                ],
            }
            body = {"marketplaceId": account.marketplace_id, "packageDetail": package}
            await api.confirm_shipment(shipment.external_order_id, body)
        except AmazonRefused as error:
            raise PlatformRefused(str(error)) from None
        except AmazonUnavailable as error:
            raise PlatformUnavailable(str(error)) from None

    async def _account(self, channel: Channel) -> AmazonAccount:
        async with self._uow.read() as store:
            account = await store.amazon_account(channel.code)
        if account is None:
            raise PlatformUnavailable(f"{channel.code} has no Amazon account")
        return account


class Platforms:
    """The adapter for each kind of platform that is told of availability and shipments."""

    KINDS = (Platform.SHOPIFY, Platform.AMAZON)

    def __init__(self, shopify: SalesPlatform, amazon: SalesPlatform) -> None:
        self._by_kind = {Platform.SHOPIFY: shopify, Platform.AMAZON: amazon}

    def of(self, channel: Channel) -> SalesPlatform:
        return self._by_kind[channel.platform]
