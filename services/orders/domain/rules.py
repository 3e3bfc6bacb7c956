"""Order rules: what a valid order is, and how shipments decide the order's status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from services.kernel.errors import DomainError, ErrorCode
from services.orders.domain.model import NewOrder, OrderStatus, ShipmentStatus

MAX_LINES = 200
MAX_SERIAL_LENGTH = 128


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


def shipped_serials(
    entries: Sequence[tuple[str, Sequence[str]]], shipped: Mapping[str, int]
) -> dict[str, tuple[str, ...]]:
    """The serial numbers scanned into a parcel, by SKU.

    Entries for one SKU add up; a SKU of the shipment gets at most as many serial numbers as
    units it ships (INVALID_QUANTITY), a SKU outside it none; a serial number is non-blank,
    bounded, and scanned once per SKU (one unit cannot leave twice).
    """
    by_sku: dict[str, list[str]] = {}
    for index, (sku, numbers) in enumerate(entries):
        if sku not in shipped:
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"{sku!r} is not in this shipment", f"serials.{index}.sku"
            )
        collected = by_sku.setdefault(sku, [])
        for position, raw in enumerate(numbers):
            serial, where = raw.strip(), f"serials.{index}.serial_numbers.{position}"
            if not serial or len(serial) > MAX_SERIAL_LENGTH:
                raise DomainError(
                    ErrorCode.INVALID_INPUT,
                    f"a serial number is 1-{MAX_SERIAL_LENGTH} characters",
                    where,
                )
            if serial in collected:
                raise DomainError(
                    ErrorCode.INVALID_INPUT, f"serial number {serial!r} is scanned twice", where
                )
            collected.append(serial)
        if len(collected) > shipped[sku]:
            raise DomainError(
                ErrorCode.INVALID_QUANTITY,
                f"{len(collected)} serial numbers for {shipped[sku]} unit(s) of {sku}",
                f"serials.{index}.serial_numbers",
            )
    return {sku: tuple(numbers) for sku, numbers in by_sku.items() if numbers}


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
