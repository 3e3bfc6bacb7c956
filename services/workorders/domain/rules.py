"""Work order rules: which work orders an inspected return opens, and what a valid request is."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from services.kernel.errors import DomainError, ErrorCode
from services.workorders.domain.model import (
    InspectedLine,
    NewWorkOrder,
    WorkOrderKind,
    WorkOrderStatus,
)

# What a refurbishment bench does to a returned unit, in order, until operators name their own.
DEFAULT_REFURBISH_OPERATIONS = ("GRADE", "WIPE", "REPAIR")
REFURBISH_DISPOSITION = "REFURBISH"
MAX_OPERATION_NAME = 64


def require_operations(names: Iterable[str]) -> tuple[str, ...]:
    """Operation names in order: at least one, each non-blank, bounded and used once (an
    operation is completed by name, so a repeated name would be ambiguous)."""
    operations = tuple(name.strip() for name in names)
    if not operations:
        raise DomainError(ErrorCode.INVALID_INPUT, "a work order needs an operation", "operations")
    for index, name in enumerate(operations):
        if not name or len(name) > MAX_OPERATION_NAME:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"an operation name is 1-{MAX_OPERATION_NAME} characters",
                f"operations.{index}",
            )
        if name in operations[:index]:
            raise DomainError(
                ErrorCode.INVALID_INPUT, f"operation {name!r} is named twice", f"operations.{index}"
            )
    return operations


def refurbishments(
    return_id: str,
    location_code: str,
    lines: Sequence[InspectedLine],
    operations: Sequence[str] = DEFAULT_REFURBISH_OPERATIONS,
) -> list[NewWorkOrder]:
    """The REFURBISH work orders an inspection opens: one per SKU sent to refurbishment.

    Invariants: every unit with disposition REFURBISH is in exactly one work order; units of
    one SKU on several lines share one work order (so a return and a SKU name at most one
    work order, which the store also enforces); lines without units open nothing. The work
    orders come in the order their SKUs first appear, at the location that inspected them.
    """
    units: dict[str, int] = {}
    for line in lines:
        if line.disposition == REFURBISH_DISPOSITION and line.quantity > 0:
            units[line.sku] = units.get(line.sku, 0) + line.quantity
    steps = require_operations(operations)
    return [
        NewWorkOrder(
            kind=WorkOrderKind.REFURBISH,
            sku=sku,
            quantity=quantity,
            location_code=location_code,
            operations=steps,
            source_return_id=return_id,
        )
        for sku, quantity in units.items()
    ]


def status_filter(value: str) -> WorkOrderStatus | None:
    """A list filter: empty for any status, else one of the status names."""
    if not value:
        return None
    if value not in WorkOrderStatus.__members__:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"status must be one of {', '.join(WorkOrderStatus)}",
            "status",
        )
    return WorkOrderStatus(value)
