"""The repair bench's rules: which operation may be completed now, what its record must hold, and
when a work order is done."""

from __future__ import annotations

from dataclasses import dataclass

from services.kernel import bounds
from services.kernel.errors import DomainError, ErrorCode
from services.workorders.domain.model import (
    OperationDone,
    OperationStatus,
    WorkOrder,
    WorkOrderKind,
)
from services.workorders.domain.rules import require_components

# The refurbishing steps the bench gives meaning to, whatever else operators call theirs.
WIPE = "WIPE"
GRADE = "GRADE"
# A week of one technician's time: more on one operation is a typing slip.
MAX_LABOR_MINUTES = 7 * 24 * 60
MAX_RESULT = bounds.MAX_NOTES


@dataclass(frozen=True)
class Step:
    """What completing one operation does: its position, whether the operation is now done
    (a WIPE of several serialized units takes one record per unit), and whether that was the
    work order's last operation."""

    position: int
    operation_done: bool
    work_order_done: bool


def require_operation_done(done: OperationDone) -> OperationDone:
    """The bench's report, bounded: labour within 0..MAX_LABOR_MINUTES, parts as components,
    a serial number and a result of bounded text."""
    bounds.require_range(
        done.labor_minutes, "labor_minutes", "labour minutes", 0, MAX_LABOR_MINUTES
    )
    return OperationDone(
        work_order_id=bounds.require_text(
            done.work_order_id, "work_order_id", "work order id", bounds.MAX_ID
        ),
        operation=bounds.require_text(done.operation, "operation", "operation", 64),
        labor_minutes=done.labor_minutes,
        parts_used=require_components(done.parts_used, "parts_used"),
        serial_number=bounds.require_text(
            done.serial_number, "serial_number", "serial number", bounds.MAX_SERIAL, required=False
        ),
        result=bounds.require_text(done.result, "result", "result", MAX_RESULT, required=False),
    )


def next_step(work_order: WorkOrder, done: OperationDone, serialized: bool) -> Step:
    """Checks that `done` may be recorded now and says what it completes.

    Invariants: operations complete in their order, each once (INVALID_STATE otherwise); only
    an open work order takes work. For a REFURBISH work order GRADE records the grade found
    (`result`), and of a serialized SKU every unit needs its own WIPE record — its serial
    number and certificate — so WIPE is done once every unit has one, and the work order
    cannot complete before (INVALID_STATE), whatever its operations are called.
    """
    if not work_order.is_open:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"work order {work_order.id} is {work_order.status.value}",
            "work_order_id",
        )
    names = [op.name for op in work_order.operations]
    if done.operation not in names:
        raise DomainError(
            ErrorCode.NOT_FOUND,
            f"work order {work_order.id} has no operation {done.operation!r}",
            "operation",
        )
    position = names.index(done.operation)
    operation = work_order.operations[position]
    if operation.status is OperationStatus.DONE:
        raise DomainError(ErrorCode.INVALID_STATE, f"{done.operation} is done already", "operation")
    pending_before = [
        op.name for op in work_order.operations[:position] if op.status is OperationStatus.PENDING
    ]
    if pending_before:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"{pending_before[0]} comes before {done.operation}",
            "operation",
        )
    records_needed = _require_refurbishment_record(work_order, done, serialized)
    operation_done = len(operation.records) + 1 >= records_needed
    last = position == len(names) - 1
    if last and operation_done:
        _require_wiped(work_order, done, serialized)
    return Step(position, operation_done, last and operation_done)


def _require_refurbishment_record(
    work_order: WorkOrder, done: OperationDone, serialized: bool
) -> int:
    """The records the operation needs before it is done (1 unless it wipes serialized units)."""
    if work_order.kind is not WorkOrderKind.REFURBISH:
        return 1
    if done.operation == GRADE and not done.result:
        raise DomainError(ErrorCode.INVALID_INPUT, "GRADE records the grade found", "result")
    if done.operation != WIPE or not serialized:
        return 1
    if not done.serial_number:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "a WIPE names the unit's serial number", "serial_number"
        )
    if not done.result:
        raise DomainError(ErrorCode.INVALID_INPUT, "a WIPE records its certificate", "result")
    if done.serial_number in _wiped_serials(work_order):
        raise DomainError(
            ErrorCode.INVALID_STATE, f"{done.serial_number} is wiped already", "serial_number"
        )
    return work_order.quantity


def _require_wiped(work_order: WorkOrder, done: OperationDone, serialized: bool) -> None:
    if work_order.kind is not WorkOrderKind.REFURBISH or not serialized:
        return
    wiped = _wiped_serials(work_order)
    if done.operation == WIPE and done.serial_number:
        wiped.add(done.serial_number)
    if len(wiped) < work_order.quantity:
        raise DomainError(
            ErrorCode.INVALID_STATE,
            f"every unit needs a data-wipe certificate before the work order completes "
            f"({len(wiped)} of {work_order.quantity} wiped)",
            "operation",
        )


def _wiped_serials(work_order: WorkOrder) -> set[str]:
    return {
        record.serial_number
        for op in work_order.operations
        if op.name == WIPE
        for record in op.records
        if record.serial_number and record.result
    }
