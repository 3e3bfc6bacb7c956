"""The work orders' nouns: work orders, their operations, the inspected units they start from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class WorkOrderKind(StrEnum):
    KIT_ASSEMBLY = "KIT_ASSEMBLY"
    VALUE_ADD = "VALUE_ADD"
    REFURBISH = "REFURBISH"


class WorkOrderStatus(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class OperationStatus(StrEnum):
    PENDING = "PENDING"
    DONE = "DONE"


@dataclass(frozen=True)
class Operation:
    name: str
    status: OperationStatus = OperationStatus.PENDING
    labor_minutes: int = 0


@dataclass(frozen=True)
class InspectedLine:
    """One line of a return's inspection: units of a SKU and what is to become of them."""

    sku: str
    quantity: int
    # The returns service's Disposition name: RESTOCK, REFURBISH, LIQUIDATE, RECYCLE.
    disposition: str


@dataclass(frozen=True)
class NewWorkOrder:
    kind: WorkOrderKind
    sku: str
    quantity: int
    location_code: str
    operations: tuple[str, ...]
    source_return_id: str = ""


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
