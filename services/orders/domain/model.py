"""The orders' nouns: orders, lines, shipments, and their states."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.kernel.geo import AddressPlacement
from services.orders.domain.routing import RoutingPlan, SplitPolicy


class OrderStatus(StrEnum):
    # Internal: claimed, stock not yet held. Never shown to clients; resolved on restart.
    PLACING = "PLACING"
    ALLOCATED = "ALLOCATED"
    BACKORDERED = "BACKORDERED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


class ShipmentStatus(StrEnum):
    ALLOCATED = "ALLOCATED"
    # Internal: the commit in inventory is under way; blocks a concurrent cancel.
    SHIPPING = "SHIPPING"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Address:
    latitude: float
    longitude: float
    name: str = ""
    line1: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""
    placement: AddressPlacement = AddressPlacement.COORDINATES


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True)
class NewOrder:
    channel: str
    external_id: str
    email: str
    ship_to: Address
    lines: tuple[OrderLine, ...]
    split_policy: SplitPolicy
    placed_by: str = ""


@dataclass(frozen=True)
class Shipment:
    id: str
    location_code: str
    status: ShipmentStatus
    lines: tuple[tuple[str, int], ...]
    tracking_number: str = ""
    shipped_at: datetime | None = None
    # By SKU, the serial numbers of the units shipped (serialized goods); empty until shipped.
    serial_numbers: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Order:
    id: str
    number: str
    status: OrderStatus
    channel: str
    external_id: str
    email: str
    ship_to: Address
    lines: tuple[OrderLine, ...]
    shipments: tuple[Shipment, ...]
    routing: RoutingPlan | None
    split_policy: SplitPolicy
    placed_by: str
    placed_at: datetime
    shipped_at: datetime | None = None
    cancelled_at: datetime | None = None
    # When a backordered order's units were expected in (the purchase order's date); None for
    # an order never backordered or a date inventory did not know.
    backorder_expected_at: datetime | None = None
