"""The returns report as a pure function: what local returns cost against the central route,
how fast refunds and restocks happen, and what waits for inspection at each hub."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from services.kernel.errors import DomainError, ErrorCode


@dataclass(frozen=True)
class ReportedReturn:
    """One return requested in the period, with the times the report measures."""

    destination_kind: str
    estimated_cost_cents: int
    centralized_cost_cents: int
    requested_at: datetime
    received_at: datetime | None
    inspected_at: datetime | None
    refund_issued_at: datetime | None
    restocked_units: int


@dataclass(frozen=True)
class KindFigures:
    kind: str
    returns: int
    handling_cost_cents: int
    centralized_cost_cents: int


@dataclass(frozen=True)
class HubBacklog:
    location_code: str
    awaiting_inspection: int
    oldest_minutes: int


@dataclass(frozen=True)
class ReturnsReport:
    returns: int
    by_destination_kind: tuple[KindFigures, ...]
    handling_cost_cents: int
    centralized_cost_cents: int
    request_to_refund_hours: tuple[float, float]
    receipt_to_restock_hours: tuple[float, float]
    backlog: tuple[HubBacklog, ...]

    @property
    def saving_cents(self) -> int:
        return self.centralized_cost_cents - self.handling_cost_cents

    @property
    def awaiting_inspection(self) -> int:
        return sum(b.awaiting_inspection for b in self.backlog)


def parse_bound(value: str, field: str) -> datetime | None:
    """An RFC 3339 period bound (UTC when it names no offset); None when empty: unbounded."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise DomainError(ErrorCode.INVALID_INPUT, "not an RFC 3339 timestamp", field) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between ranks; 0.0 for no values.

    Invariants: min(values) <= percentile <= max(values); non-decreasing in q.
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _p50_p90(values: Sequence[float]) -> tuple[float, float]:
    return percentile(values, 50), percentile(values, 90)


def build_report(
    returns: Sequence[ReportedReturn],
    backlog: Sequence[tuple[str, int, datetime]],
    now: datetime,
) -> ReturnsReport:
    """Figures for `returns`; `backlog` is (location, returns received and not inspected,
    oldest receipt) now, whatever the period — a backlog is a present fact.

    Restocking happens at inspection, so receipt→restock is measured per restocked unit from
    the parcel's receipt to its inspection.
    """
    kinds: dict[str, list[ReportedReturn]] = {}
    for r in returns:
        kinds.setdefault(r.destination_kind, []).append(r)
    figures = tuple(
        KindFigures(
            kind,
            len(group),
            sum(r.estimated_cost_cents for r in group),
            sum(r.centralized_cost_cents for r in group),
        )
        for kind, group in sorted(kinds.items())
    )
    to_refund = [_hours(r.requested_at, r.refund_issued_at) for r in returns if r.refund_issued_at]
    to_restock = [
        _hours(r.received_at, r.inspected_at)
        for r in returns
        if r.received_at and r.inspected_at
        for _unit in range(r.restocked_units)
    ]
    return ReturnsReport(
        returns=len(returns),
        by_destination_kind=figures,
        handling_cost_cents=sum(f.handling_cost_cents for f in figures),
        centralized_cost_cents=sum(f.centralized_cost_cents for f in figures),
        request_to_refund_hours=_p50_p90(to_refund),
        receipt_to_restock_hours=_p50_p90(to_restock),
        backlog=tuple(
            HubBacklog(code, count, max(0, int((now - oldest).total_seconds() // 60)))
            for code, count, oldest in sorted(backlog)
        ),
    )
