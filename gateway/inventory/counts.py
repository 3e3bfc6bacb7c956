"""Stock counts and drift in GraphQL: submitting a location's count (as lines or a CSV file),
listing the discrepancies it found, and an operator's decision on one. The back office's only:
the inventory service refuses anyone else as well."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from gateway.context import Context
from gateway.convert import reply
from gateway.errors import query_answer
from gateway.inventory.resolvers import STOCK_WRITERS, inventory_stub
from gateway.mutations import Payload, answer
from gateway.permissions import allow
from gateway.scalars import Int64
from oms.inventory.v1 import inventory_pb2 as pb
from services.kernel.proto_enums import enum_name, enum_value

Info = strawberry.Info[Context, None]

MANUAL_SOURCE = "COUNT"
CSV_SOURCE = "COUNT_CSV"


@strawberry.enum
class DiscrepancyStatus(Enum):
    OPEN = "OPEN"
    ACCEPTED = "ACCEPTED"
    DISMISSED = "DISMISSED"
    CLOSED = "CLOSED"


@strawberry.enum
class DiscrepancyDecision(Enum):
    ACCEPT = "ACCEPT"
    DISMISS = "DISMISS"


@strawberry.type(
    description="A SKU a count found different from our on hand (reserved units included) at "
    "a location."
)
class StockDiscrepancy:
    id: strawberry.ID
    sku: str
    location_code: str
    ours: Int64 = strawberry.field(description="Our on hand when it was counted.")
    theirs: Int64 = strawberry.field(description="What the count said.")
    difference: Int64 = strawberry.field(description="theirs - ours.")
    value_cents: Int64 = strawberry.field(description="The difference at the SKU's unit cost.")
    source: str = strawberry.field(description="Who counted: COUNT_CSV, SHIPBOB, ...")
    counted_at: datetime
    status: DiscrepancyStatus
    holds: bool = strawberry.field(
        description="Beyond the drift threshold: the SKU is not sold from this location while "
        "the discrepancy is open."
    )
    resolved_at: datetime | None

    @classmethod
    def from_proto(cls, found: pb.StockDiscrepancy) -> StockDiscrepancy:
        return reply(
            cls,
            found,
            id=strawberry.ID(str(found.id)),
            status=DiscrepancyStatus[enum_name(pb.DiscrepancyStatus, found.status)],
            counted_at=datetime.fromisoformat(found.counted_at),
            resolved_at=datetime.fromisoformat(found.resolved_at) if found.resolved_at else None,
        )


@strawberry.type(description="What reconciling a count found.")
class CountReconciliation:
    discrepancies: list[StockDiscrepancy] = strawberry.field(
        description="The differences this count found, by SKU (each one OPEN)."
    )
    compared: int = strawberry.field(description="SKUs compared with our on hand.")
    matched: int = strawberry.field(description="SKUs counted as we hold them.")
    closed: int = strawberry.field(
        description="Open discrepancies this count replaced (a SKU counted again)."
    )

    @classmethod
    def from_proto(cls, done: pb.CountReconciliation) -> CountReconciliation:
        return reply(
            cls, done, discrepancies=[StockDiscrepancy.from_proto(x) for x in done.discrepancies]
        )


@strawberry.type
class StockDiscrepancyPage:
    items: list[StockDiscrepancy]
    next_after: strawberry.ID | None = strawberry.field(
        description="Pass as `after` for the next page; null on the last page."
    )


@strawberry.input
class CountLineInput:
    sku: str
    counted: int = strawberry.field(description="Units found, 0 or more.")


@strawberry.input
class StockCountInput:
    location_code: str
    lines: list[CountLineInput]
    complete: bool = strawberry.field(
        default=False,
        description="A full count of the location: a SKU it holds that the lines leave out "
        "was counted 0.",
    )
    source: str = strawberry.field(default=MANUAL_SOURCE, description="Who counted.")

    def to_proto(self) -> pb.ReconcileCountRequest:
        return pb.ReconcileCountRequest(
            location_code=self.location_code,
            source=self.source,
            lines=[pb.CountLine(sku=x.sku, counted=x.counted) for x in self.lines],
            complete=self.complete,
        )


@strawberry.type
class SubmitStockCountPayload(Payload):
    reconciliation: CountReconciliation | None = None


@strawberry.type
class ResolveStockDiscrepancyPayload(Payload):
    discrepancy: StockDiscrepancy | None = None


@strawberry.type
class StockCountQuery:
    @strawberry.field(
        extensions=allow(*STOCK_WRITERS),
        description="Not in the client contract. Discrepancies counts found, newest first, "
        "one page of at most 200 (50 when `first` is left out).",
    )
    async def stock_discrepancies(
        self,
        info: Info,
        location_code: str | None = None,
        status: DiscrepancyStatus | None = None,
        first: int | None = None,
        after: strawberry.ID | None = None,
    ) -> StockDiscrepancyPage:
        request = pb.ListStockDiscrepanciesRequest(
            location_code=location_code or "",
            status=enum_value(pb.DiscrepancyStatus, status.name if status else "UNSPECIFIED"),
            limit=first or 0,
            after=_id(after),
        )
        found = await query_answer(inventory_stub(info).ListStockDiscrepancies(request))
        return StockDiscrepancyPage(
            items=[StockDiscrepancy.from_proto(x) for x in found.discrepancies],
            next_after=strawberry.ID(str(found.next_after)) if found.next_after else None,
        )


@strawberry.type
class StockCountMutation:
    @strawberry.mutation(
        extensions=allow(*STOCK_WRITERS),
        description="Not in the client contract. Reconciles a location's count with our on "
        "hand: each difference becomes an open discrepancy with its value, and one beyond the "
        "drift threshold stops the SKU selling from there until it is resolved. All of the "
        "count or nothing.",
    )
    async def submit_stock_count(
        self, info: Info, input: StockCountInput
    ) -> SubmitStockCountPayload:
        call = inventory_stub(info).ReconcileCount(input.to_proto())
        return await answer(
            SubmitStockCountPayload, call, reconciliation=CountReconciliation.from_proto
        )

    @strawberry.mutation(
        extensions=allow(*STOCK_WRITERS),
        description="Not in the client contract. submitStockCount from a CSV file's text "
        "(columns sku and counted; the README has the format): all of the file, or nothing "
        "of it and the first row that cannot be read by line number.",
    )
    async def import_stock_count(
        self, info: Info, location_code: str, csv: str, complete: bool = False
    ) -> SubmitStockCountPayload:
        request = pb.ImportStockCountRequest(
            location_code=location_code, source=CSV_SOURCE, csv=csv, complete=complete
        )
        call = inventory_stub(info).ImportStockCount(request)
        return await answer(
            SubmitStockCountPayload,
            call,
            argument=None,
            reconciliation=CountReconciliation.from_proto,
        )

    @strawberry.mutation(
        extensions=allow(*STOCK_WRITERS),
        description="Not in the client contract. ACCEPT adjusts on hand by the difference "
        "counted (reason COUNT in the ledger); DISMISS changes nothing; both let the SKU sell "
        "from the location again. Deciding again as decided changes nothing more.",
    )
    async def resolve_stock_discrepancy(
        self, info: Info, id: strawberry.ID, decision: DiscrepancyDecision
    ) -> ResolveStockDiscrepancyPayload:
        request = pb.ResolveStockDiscrepancyRequest(
            id=_id(id), decision=enum_value(pb.DiscrepancyDecision, decision.name)
        )
        call = inventory_stub(info).ResolveStockDiscrepancy(request)
        return await answer(
            ResolveStockDiscrepancyPayload,
            call,
            argument=None,
            discrepancy=StockDiscrepancy.from_proto,
        )


def _id(given: str | None) -> int:
    """A discrepancy id as the service numbers it; one that cannot be is no id at all (0)."""
    text = (given or "").strip()
    return int(text) if text.isdigit() and len(text) < 19 else 0
