"""What work costs and how the bench is doing: a work order's cost, and the repair report per
location (open work, value in repair, age, velocity from open to complete)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from services.workorders.domain.model import (
    LocationRepairs,
    OpenWorkOrders,
    RepairReport,
    WorkOrder,
    WorkOrderKind,
)

HOUR = timedelta(hours=1)


def cost_cents(work_order: WorkOrder, labor_rate_cents_per_hour: int) -> int:
    """Components (per unit x units) and parts at the unit cost they were taken at, plus every
    operation's labour at the hourly rate, rounded to the nearest cent."""
    components = sum(c.quantity * c.unit_cost_cents for c in work_order.components)
    parts = sum(
        part.quantity * part.unit_cost_cents
        for op in work_order.operations
        for part in op.parts_used
    )
    minutes = sum(op.labor_minutes for op in work_order.operations)
    return (
        components * work_order.quantity + parts + round(minutes * labor_rate_cents_per_hour / 60)
    )


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of `values`; 0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def repair_report(
    work_orders: Sequence[WorkOrder],
    unit_costs: Mapping[str, int],
    now: datetime,
    period: timedelta,
) -> RepairReport:
    """Per location (in code order): open work orders by kind, the units and value at unit cost
    of open refurbishments (`inRepair`), the oldest open one's age, and of the work orders that
    finished within `period` before `now` — completed ones' p50/p90 hours from open to complete,
    scrapped units and the value written off.

    `work_orders` holds the open ones and those finished since `now - period`; others are
    ignored, so the caller may pass more.
    """
    since = now - period
    by_location: dict[str, list[WorkOrder]] = {}
    for work_order in work_orders:
        by_location.setdefault(work_order.location_code, []).append(work_order)
    locations = tuple(
        _location_repairs(code, by_location[code], unit_costs, now, since)
        for code in sorted(by_location)
    )
    return RepairReport(
        locations=locations,
        open_work_orders=sum(item.count for loc in locations for item in loc.open),
        value_in_repair_cents=sum(loc.value_in_repair_cents for loc in locations),
    )


def _location_repairs(
    code: str,
    work_orders: Sequence[WorkOrder],
    unit_costs: Mapping[str, int],
    now: datetime,
    since: datetime,
) -> LocationRepairs:
    open_ = [w for w in work_orders if w.is_open]
    repairs = [w for w in open_ if w.kind is WorkOrderKind.REFURBISH]
    finished = [w for w in work_orders if w.completed_at is not None and w.completed_at >= since]
    completed = [w for w in finished if not w.scrapped]
    scrapped = [w for w in finished if w.scrapped]
    hours = [(w.completed_at - w.created_at) / HOUR for w in completed if w.completed_at]
    return LocationRepairs(
        location_code=code,
        open=tuple(
            OpenWorkOrders(kind, count)
            for kind in WorkOrderKind
            if (count := sum(1 for w in open_ if w.kind is kind))
        ),
        units_in_repair=sum(w.quantity for w in repairs),
        value_in_repair_cents=sum(w.quantity * unit_costs.get(w.sku, 0) for w in repairs),
        oldest_open_hours=max(((now - w.created_at) / HOUR for w in open_), default=0.0),
        completed=len(completed),
        p50_hours_to_complete=percentile(hours, 0.5),
        p90_hours_to_complete=percentile(hours, 0.9),
        scrapped_units=sum(w.quantity for w in scrapped),
        written_off_cents=sum(w.written_off_cents for w in scrapped),
    )
