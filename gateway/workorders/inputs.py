"""Work order inputs and enums as the back-office contract names them, and their requests."""

from __future__ import annotations

from enum import Enum

import strawberry

from gateway.convert import request
from oms.workorders.v1 import workorders_pb2 as pb


@strawberry.enum
class OperationStatus(Enum):
    PENDING = "PENDING"
    DONE = "DONE"


@strawberry.enum
class WorkOrderKind(Enum):
    KIT_ASSEMBLY = "KIT_ASSEMBLY"
    VALUE_ADD = "VALUE_ADD"
    REFURBISH = "REFURBISH"


@strawberry.enum
class WorkOrderStatus(Enum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


@strawberry.input
class ComponentInput:
    sku: str
    quantity: int


@strawberry.input
class CreateWorkOrderInput:
    kind: WorkOrderKind
    sku: str = strawberry.field(
        description="The SKU that the work order produces (the kit, the personalised item, "
        "the refurbished unit)."
    )
    quantity: int
    location_code: str
    components: list[ComponentInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Components consumed per unit produced; required for KIT_ASSEMBLY. A "
        "VALUE_ADD without them works on blanks of its own SKU, one per unit.",
    )
    operations: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description='Operation names in order, e.g. ["ASSEMBLE"], ["EMBROIDER", "QC"], '
        '["GRADE", "WIPE", "REPAIR"].',
    )

    def to_proto(self) -> pb.CreateWorkOrderRequest:
        return request(pb.CreateWorkOrderRequest, self)


@strawberry.input
class CompleteWorkOrderOperationInput:
    work_order_id: strawberry.ID
    operation: str
    labor_minutes: int
    parts_used: list[ComponentInput] | None = strawberry.UNSET
    serial_number: str | None = strawberry.field(
        default=strawberry.UNSET, description="The unit worked on, for serialized goods."
    )
    result: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="What the operation found or produced: the grade after GRADE, the "
        "data-wipe certificate after WIPE.",
    )

    def to_proto(self) -> pb.CompleteOperationRequest:
        return request(pb.CompleteOperationRequest, self)
