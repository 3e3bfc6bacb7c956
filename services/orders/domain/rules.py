"""Order rules: what a valid order is, and how shipments decide the order's status."""

from __future__ import annotations

from collections.abc import Sequence

from services.kernel.errors import DomainError, ErrorCode
from services.orders.domain.model import NewOrder, OrderStatus, ShipmentStatus

MAX_LINES = 200


def validate_new_order(order: NewOrder) -> None:
    """Refuses what cannot be placed, naming the input field at fault."""
    if not order.channel.strip():
        raise DomainError(ErrorCode.INVALID_INPUT, "channel is required", "channel")
    if not order.external_id.strip():
        raise DomainError(ErrorCode.INVALID_INPUT, "externalId is required", "external_id")
    if "@" not in order.email:
        raise DomainError(ErrorCode.INVALID_INPUT, "email must be an address", "email")
    if not -90 <= order.ship_to.latitude <= 90:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "latitude must be within -90..90", "ship_to.latitude"
        )
    if not -180 <= order.ship_to.longitude <= 180:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "longitude must be within -180..180", "ship_to.longitude"
        )
    if not order.lines:
        raise DomainError(ErrorCode.INVALID_QUANTITY, "an order needs at least one line", "lines")
    if len(order.lines) > MAX_LINES:
        raise DomainError(ErrorCode.INVALID_INPUT, f"at most {MAX_LINES} lines", "lines")
    for index, line in enumerate(order.lines):
        if line.quantity < 1:
            raise DomainError(
                ErrorCode.INVALID_QUANTITY, "quantity must be at least 1", f"lines.{index}.quantity"
            )
        if line.unit_price_cents < 0:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "price cannot be negative",
                f"lines.{index}.unit_price_cents",
            )


def units_by_sku(order: NewOrder) -> dict[str, int]:
    units: dict[str, int] = {}
    for line in order.lines:
        units[line.sku] = units.get(line.sku, 0) + line.quantity
    return units


def status_after_shipping(shipment_statuses: Sequence[ShipmentStatus]) -> OrderStatus:
    shipped = sum(1 for s in shipment_statuses if s is ShipmentStatus.SHIPPED)
    if shipped == len(shipment_statuses):
        return OrderStatus.SHIPPED
    return OrderStatus.PARTIALLY_SHIPPED if shipped else OrderStatus.ALLOCATED


def require_cancellable(status: OrderStatus, shipment_statuses: Sequence[ShipmentStatus]) -> None:
    """An order may be cancelled until any of its shipments has started to ship."""
    if status is OrderStatus.CANCELLED:
        return
    if any(s in (ShipmentStatus.SHIPPING, ShipmentStatus.SHIPPED) for s in shipment_statuses):
        raise DomainError(
            ErrorCode.INVALID_STATE, "an order with a shipped shipment cannot be cancelled", "id"
        )
