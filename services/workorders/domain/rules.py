"""Work order rules: which work orders an inspected return opens, and what a valid new work
order is."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from services.kernel import bounds
from services.kernel.errors import DomainError, ErrorCode
from services.workorders.domain.model import (
    Component,
    InspectedLine,
    MadeToOrder,
    NewWorkOrder,
    WorkOrderKind,
    WorkOrderStatus,
)

# What a refurbishment bench does to a returned unit, in order, until operators name their own.
DEFAULT_REFURBISH_OPERATIONS = ("GRADE", "WIPE", "REPAIR")
# What the other kinds do when the client names no operations.
DEFAULT_OPERATIONS = {
    WorkOrderKind.KIT_ASSEMBLY: ("ASSEMBLE",),
    WorkOrderKind.VALUE_ADD: ("EMBROIDER", "QC"),
}
REFURBISH_DISPOSITION = "REFURBISH"
MAX_OPERATION_NAME = 64
MAX_OPERATIONS = 20


def require_operations(names: Iterable[str]) -> tuple[str, ...]:
    """Operation names in order: at least one, each non-blank, bounded and used once (an
    operation is completed by name, so a repeated name would be ambiguous)."""
    operations = tuple(name.strip() for name in names)
    bounds.require_count(operations, "operations", MAX_OPERATIONS, "operations")
    if not operations:
        raise DomainError(ErrorCode.INVALID_INPUT, "a work order needs an operation", "operations")
    for index, name in enumerate(operations):
        if not name or bounds.text_problem(name, MAX_OPERATION_NAME) is not None:
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


def made_to_order(order_id: str, made: Sequence[MadeToOrder]) -> list[NewWorkOrder]:
    """The VALUE_ADD work orders a placed order opens: one per (SKU, location) made to
    order, each making its units from one blank per unit at that location for the order.

    Invariants: every unit made to order is in exactly one work order (units of one SKU at one
    location add up, so an order, a SKU and a location name at most one work order, which the
    store also enforces); lines without units open nothing; order of first appearance.
    """
    units: dict[tuple[str, str, str], int] = {}
    for line in made:
        if line.quantity > 0:
            key = (line.sku, line.location_code, line.blank_sku)
            units[key] = units.get(key, 0) + line.quantity
    return [
        NewWorkOrder(
            kind=WorkOrderKind.VALUE_ADD,
            sku=sku,
            quantity=quantity,
            location_code=location_code,
            operations=DEFAULT_OPERATIONS[WorkOrderKind.VALUE_ADD],
            components=(Component(blank, 1),),
            order_id=order_id,
        )
        for (sku, location_code, blank), quantity in units.items()
    ]


def require_new_work_order(
    kind: WorkOrderKind | None,
    sku: str,
    quantity: int,
    location_code: str,
    components: Sequence[Component],
    operations: Sequence[str],
    order_id: str = "",
) -> NewWorkOrder:
    """A kit or value-add work order as asked, checked and with its defaults filled in.

    Refurbishments open from inspected returns only (their units come from the returns pile).
    A kit needs its components; a value-add work order without any works on blanks of its own
    SKU, one per unit produced — so every work order consumes what it turns into something
    else, and nothing is produced from nothing. A component is named once and is not the SKU
    produced; what it takes in all (per unit x units) stays within what a level can hold.
    """
    if kind not in DEFAULT_OPERATIONS:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "a work order created here is KIT_ASSEMBLY or VALUE_ADD; refurbishments open from "
            "inspected returns",
            "kind",
        )
    sku = bounds.require_code(sku, "sku", "SKU code")
    location_code = bounds.require_code(location_code, "location_code", "location code")
    _require_units(quantity, "quantity", bounds.MAX_UNITS)
    if order_id:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "a made-to-order work order opens from its order's placement",
            "order_id",
        )
    if not components and kind is WorkOrderKind.KIT_ASSEMBLY:
        raise DomainError(ErrorCode.INVALID_INPUT, "a kit needs its components", "components")
    checked = require_components(components, "components", quantity) or (Component(sku, 1),)
    if kind is WorkOrderKind.KIT_ASSEMBLY and any(c.sku == sku for c in checked):
        raise DomainError(ErrorCode.INVALID_INPUT, "a kit is not its own component", "components")
    return NewWorkOrder(
        kind=kind,
        sku=sku,
        quantity=quantity,
        location_code=location_code,
        operations=require_operations(operations or DEFAULT_OPERATIONS[kind]),
        components=checked,
        order_id=order_id,
    )


def require_components(
    items: Sequence[Component], field: str, times: int = 1
) -> tuple[Component, ...]:
    """Components or parts: bounded in number, each SKU once, each quantity (times `times`
    units produced) within 1..what a level holds."""
    bounds.require_count(items, field, bounds.MAX_LINES, "SKUs")
    checked: list[Component] = []
    for index, item in enumerate(items):
        where = f"{field}.{index}"
        sku = bounds.require_code(item.sku, f"{where}.sku", "SKU code")
        if any(c.sku == sku for c in checked):
            raise DomainError(ErrorCode.INVALID_INPUT, f"{sku} is named twice", f"{where}.sku")
        _require_units(item.quantity, f"{where}.quantity", bounds.MAX_UNITS)
        _require_units(item.quantity * times, f"{where}.quantity", bounds.MAX_LEVEL_UNITS)
        checked.append(Component(sku, item.quantity))
    return tuple(checked)


def _require_units(quantity: int, field: str, most: int) -> None:
    if not 1 <= quantity <= most:
        raise DomainError(ErrorCode.INVALID_QUANTITY, f"quantity must be within 1..{most}", field)


def status_filter(value: str) -> WorkOrderStatus | None:
    """A list filter: empty for any status, else one of the status names clients see."""
    if not value:
        return None
    listed = [s for s in WorkOrderStatus if s is not WorkOrderStatus.OPENING]
    if value not in listed:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"status must be one of {', '.join(listed)}", "status"
        )
    return WorkOrderStatus(value)
