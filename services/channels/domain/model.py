"""The channels' nouns: a connection to a platform, and an order it sent with where it stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Platform(StrEnum):
    SHOPIFY = "SHOPIFY"
    AMAZON = "AMAZON"
    WHOLESALE = "WHOLESALE"


class ChannelOrderStatus(StrEnum):
    PENDING = "PENDING"
    PLACED = "PLACED"
    EXCEPTION = "EXCEPTION"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"


class FulfillmentStatus(StrEnum):
    """A shipment owed to its platform: PENDING (being sent, retried while the platform is
    down), CREATED (the platform took it), FAILED (the platform refused it for good: not sent
    again until the back office retries it)."""

    PENDING = "PENDING"
    CREATED = "CREATED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class ChannelFulfillment:
    """A shipment a platform is told of (Shopify's fulfillment, Amazon's confirmation)."""

    shipment_id: str
    channel_code: str
    external_order_id: str
    tracking_number: str
    status: FulfillmentStatus
    attempts: int
    # The platform's reason when it refused it for good.
    failure: str = ""


@dataclass(frozen=True)
class NewChannel:
    code: str
    platform: Platform
    account: str
    webhook_secret: str | None = None
    api_base_url: str | None = None
    access_token: str | None = None
    # Amazon only: the marketplace polled and the SP-API app's LWA client (the refresh token is
    # `access_token`).
    marketplace_id: str | None = None
    lwa_client_id: str | None = None
    lwa_client_secret: str | None = None


@dataclass(frozen=True)
class Channel:
    code: str
    platform: Platform
    account: str
    webhook_secret: str
    api_base_url: str
    access_token: str
    connected_at: datetime


@dataclass(frozen=True)
class ShipTo:
    name: str = ""
    line1: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True)
class MappedOrder:
    """A platform's order in our terms, ready to place."""

    external_id: str
    email: str
    ship_to: ShipTo
    lines: tuple[Line, ...]
    # Wholesale: a PO ships in one go unless it says otherwise, and no earlier than asked.
    ship_complete: bool = False
    requested_ship_date: date | None = None


@dataclass(frozen=True)
class Problem:
    """Why the orders service refused an order: its code, input field and message."""

    code: str
    field: str
    message: str


@dataclass(frozen=True)
class ChannelOrder:
    id: str
    channel_code: str
    status: ChannelOrderStatus
    order: MappedOrder
    order_id: str
    problem: Problem | None
    attempts: int
    received_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Refund:
    refund_id: str
    external_order_id: str
    amount_cents: int


@dataclass(frozen=True)
class ChannelStatus:
    channel: Channel
    orders_received: int
    orders_placed: int
    exceptions_waiting: int
    refunds_received: int
    last_received_at: datetime | None
    pending_pushes: int = 0
    last_pushed_at: datetime | None = None
    # Shipments the platform refused for good, and the oldest few of them.
    fulfillments_failed: int = 0
    failed_fulfillments: tuple[ChannelFulfillment, ...] = ()


@dataclass(frozen=True)
class AmazonAccount:
    """What polling one Amazon channel needs, and how far it got (None: never polled)."""

    channel_code: str
    seller_id: str
    marketplace_id: str
    lwa_client_id: str
    lwa_client_secret: str
    refresh_token: str
    api_base_url: str
    watermark: datetime | None


@dataclass(frozen=True)
class WholesaleImport:
    """What importing a wholesale file did: orders new to the channel, orders it had already,
    and every order of the file as it stands."""

    received: int
    already_imported: int
    orders: list[ChannelOrder]
