"""The work orders' nouns: work orders, their components and operations (with the labour, parts
and unit records each took), the inspected units refurbishments start from, and the bench's
report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class WorkOrderKind(StrEnum):
    KIT_ASSEMBLY = "KIT_ASSEMBLY"
    VALUE_ADD = "VALUE_ADD"
    REFURBISH = "REFURBISH"


class WorkOrderStatus(StrEnum):
    # Internal: written before inventory holds the components, never listed or answered.
    OPENING = "OPENING"
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class OperationStatus(StrEnum):
    PENDING = "PENDING"
    DONE = "DONE"


@dataclass(frozen=True)
class Component:
    """Units of a SKU: a component per unit produced, or parts an operation used (with the unit
    cost when it was taken)."""

    sku: str
    quantity: int
    unit_cost_cents: int = 0


@dataclass(frozen=True)
class UnitRecord:
    """What an operation found or produced for one unit: a grade, a data-wipe certificate."""

    serial_number: str
    result: str
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class Operation:
    name: str
    status: OperationStatus = OperationStatus.PENDING
    labor_minutes: int = 0
    parts_used: tuple[Component, ...] = ()
    records: tuple[UnitRecord, ...] = ()
    completed_at: datetime | None = None


@dataclass(frozen=True)
class OperationDone:
    """One completion of an operation as the bench reports it (the use case has checked it)."""

    work_order_id: str
    operation: str
    labor_minutes: int
    parts_used: tuple[Component, ...] = ()
    serial_number: str = ""
    result: str = ""


@dataclass(frozen=True)
class InspectedLine:
    """One line of a return's inspection: units of a SKU and what is to become of them."""

    sku: str
    quantity: int
    # The returns service's Disposition name: RESTOCK, REFURBISH, LIQUIDATE, RECYCLE.
    disposition: str


@dataclass(frozen=True)
class MadeToOrder:
    """Units of a SKU an order holds as blanks at a location, to be made for it."""

    sku: str
    blank_sku: str
    quantity: int
    location_code: str


@dataclass(frozen=True)
class NewWorkOrder:
    kind: WorkOrderKind
    sku: str
    quantity: int
    location_code: str
    operations: tuple[str, ...]
    source_return_id: str = ""
    # Per unit produced, with their unit costs (kits and value-add work).
    components: tuple[Component, ...] = ()
    # Made to order: the order the units are for (its reservation holds the blanks).
    order_id: str = ""


@dataclass(frozen=True)
class WorkOrder:
    id: str
    kind: WorkOrderKind
    status: WorkOrderStatus
    sku: str
    quantity: int
    location_code: str
    operations: tuple[Operation, ...]
    created_at: datetime
    # Empty unless the work order refurbishes units of a return.
    source_return_id: str = ""
    components: tuple[Component, ...] = ()
    order_id: str = ""
    completed_at: datetime | None = None
    scrapped: bool = False
    written_off_cents: int = 0
    # Filled by the use cases from the location's labour rate (`rules.cost_cents`).
    cost_cents: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in (WorkOrderStatus.OPEN, WorkOrderStatus.IN_PROGRESS)


@dataclass(frozen=True)
class OpenWorkOrders:
    kind: WorkOrderKind
    count: int


@dataclass(frozen=True)
class LocationRepairs:
    """The bench at one location: what is open, what it is worth, how fast it moves."""

    location_code: str
    open: tuple[OpenWorkOrders, ...]
    units_in_repair: int
    value_in_repair_cents: int
    oldest_open_hours: float
    completed: int
    p50_hours_to_complete: float
    p90_hours_to_complete: float
    scrapped_units: int
    written_off_cents: int


@dataclass(frozen=True)
class RepairReport:
    locations: tuple[LocationRepairs, ...]
    open_work_orders: int
    value_in_repair_cents: int
