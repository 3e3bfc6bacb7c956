"""Work order output types and their conversion from the work orders service's messages."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.context import Context
from gateway.convert import reply
from gateway.inventory.types import Location
from gateway.mutations import Payload
from gateway.scalars import Int64
from gateway.workorders.inputs import OperationStatus, WorkOrderKind, WorkOrderStatus
from oms.workorders.v1 import workorders_pb2 as pb

Info = strawberry.Info[Context, None]


@strawberry.type(description="Units of a SKU: a component per unit produced, or parts used.")
class Component:
    sku: str
    quantity: int
    unit_cost_cents: Int64 = strawberry.field(description="When it was taken.")


@strawberry.type(description="What an operation found or produced for one unit.")
class UnitRecord:
    serial_number: str
    result: str = strawberry.field(description="A grade, a data-wipe certificate.")
    recorded_at: datetime


@strawberry.type
class Operation:
    name: str
    status: OperationStatus
    labor_minutes: int
    parts_used: list[Component]
    records: list[UnitRecord]
    completed_at: datetime | None


@strawberry.type(description="Internal work that turns stock into other stock.")
class WorkOrder:
    id: strawberry.ID
    kind: WorkOrderKind
    status: WorkOrderStatus
    sku: str = strawberry.field(description="What it produces.")
    quantity: int
    source_return_id: strawberry.ID | None = strawberry.field(
        description="The return whose units it refurbishes; null for other work."
    )
    location_code: strawberry.Private[str]
    operations: list[Operation]
    components: list[Component] = strawberry.field(description="Per unit produced.")
    cost_cents: Int64 = strawberry.field(
        description="Components and parts at unit cost, plus labour at the location's rate."
    )
    scrapped: bool = strawberry.field(
        description="A refurbishment found beyond repair: cancelled, its value written off."
    )
    written_off_cents: Int64
    created_at: datetime
    completed_at: datetime | None

    @strawberry.field
    async def location(self, info: Info) -> Location:
        location = await info.context.loaders.locations.load(self.location_code)
        if location is None:
            raise LookupError(f"work order refers to unknown location {self.location_code!r}")
        return Location.from_proto(location)

    @classmethod
    def from_proto(cls, found: pb.WorkOrder) -> WorkOrder:
        return reply(cls, found, source_return_id=found.source_return_id or None)


@strawberry.type
class OpenWorkOrders:
    kind: WorkOrderKind
    count: int


@strawberry.type(description="The bench at one location: open work, its value, its pace.")
class LocationRepairs:
    location_code: str
    open: list[OpenWorkOrders]
    units_in_repair: int
    value_in_repair_cents: Int64 = strawberry.field(description="At unit cost.")
    oldest_open_hours: float
    completed: int = strawberry.field(description="Work orders completed in the period.")
    p50_hours_to_complete: float
    p90_hours_to_complete: float
    scrapped_units: int
    written_off_cents: Int64


@strawberry.type
class RepairReport:
    locations: list[LocationRepairs]
    open_work_orders: int
    value_in_repair_cents: Int64

    @classmethod
    def from_proto(cls, found: pb.RepairReport) -> RepairReport:
        return reply(cls, found)


@strawberry.type
class WorkOrderPayload(Payload):
    work_order: WorkOrder | None = None
