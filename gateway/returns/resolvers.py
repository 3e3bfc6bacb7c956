"""Returns queries and mutations, each calling the returns service once; the locations they
mention are batched through the request's loader.

The returns service decides what the caller may see and do (each call carries whom it is for):
a scanner works at its own location only — it scans and inspects the parcels bound there and
reads that hub's queue and returns; a storefront requests and reads returns of the orders it
placed. A return or order the caller may not see is answered exactly like one that does not
exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.context import Context
from gateway.errors import query_answer
from gateway.mutations import answer
from gateway.permissions import allow
from gateway.returns.inputs import (
    ConnectReturnsPlatformInput,
    InspectReturnInput,
    RequestReturnInput,
)
from gateway.returns.types import (
    ConnectReturnsPlatformPayload,
    InspectReturnPayload,
    ParkedPlatformReturn,
    ReceiveReturnPayload,
    RequestReturnPayload,
    Return,
    ReturnConnection,
    ReturnsPlatformConnection,
    ReturnsReport,
    ReturnStatus,
)
from oms.returns.v1 import returns_pb2 as pb
from oms.returns.v1.returns_pb2_grpc import ReturnsServiceStub
from services.kernel.caller import Role

if TYPE_CHECKING:  # the asyncio stub's type exists for the type checker only
    from oms.returns.v1.returns_pb2_grpc import ReturnsServiceAsyncStub

Info = strawberry.Info[Context, None]

STAFF = (Role.BACKOFFICE, Role.ADMIN)
REQUESTERS = (Role.STOREFRONT, *STAFF)
HUB_STAFF = (Role.SCANNER, *STAFF)
READERS = (Role.SCANNER, Role.STOREFRONT, *STAFF)

# Where the service's fields are in each mutation's arguments, when not simply camel-cased.
REQUEST_RETURN_FIELDS = {"customer": "input.customerAddress"}
RECEIVE_RETURN_ARGUMENTS = {"return_id": "id"}


def _returns(info: Info) -> ReturnsServiceAsyncStub:
    return info.context.services[ReturnsServiceStub]


@strawberry.type
class ReturnsQuery:
    @strawberry.field(
        name="return",
        extensions=allow(*READERS),
        description="Null when there is no such return (or none the caller may see: a scanner "
        "sees the returns bound for its location, a storefront those of its own orders).",
    )
    async def return_(self, info: Info, id: strawberry.ID) -> Return | None:
        response = await query_answer(_returns(info).GetReturns(pb.GetReturnsRequest(ids=[id])))
        return next((Return.from_proto(found) for found in response.returns), None)

    @strawberry.field(
        extensions=allow(*READERS),
        description="Newest requested first, `first` within 1..100, in `status` and bound for "
        "`destinationCode` when given. A scanner lists the returns bound for its own location "
        "(FORBIDDEN to ask for another's), a storefront those of its own orders.",
    )
    async def returns(
        self,
        info: Info,
        status: ReturnStatus | None = None,
        destination_code: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> ReturnConnection:
        request = pb.ListReturnsRequest(
            first=first, after=after or "", destination_code=destination_code or ""
        )
        if status is not None:
            request.status = status.to_proto()
        page = await query_answer(_returns(info).ListReturns(request))
        return ReturnConnection.from_proto(page)

    @strawberry.field(
        extensions=allow(*HUB_STAFF),
        description="Returns received at the location and not yet inspected, oldest first; a "
        "scanner reads its own location's queue only.",
    )
    async def hub_queue(self, info: Info, location_code: str) -> list[Return]:
        request = pb.HubQueueRequest(location_code=location_code)
        response = await query_answer(_returns(info).HubQueue(request))
        return [Return.from_proto(r) for r in response.returns]

    @strawberry.field(
        extensions=allow(*STAFF),
        description="Figures for the returns requested in [from, to) (unbounded when left out); "
        "the backlog as it is now.",
    )
    async def returns_report(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> ReturnsReport:
        period = {"from": from_.isoformat() if from_ else "", "to": to.isoformat() if to else ""}
        report = await query_answer(
            _returns(info).GetReturnsReport(pb.ReturnsReportRequest(**period))
        )
        return ReturnsReport.from_proto(report)

    @strawberry.field(
        extensions=allow(*STAFF),
        description="The returns platform connections, by code (50 at most); no secrets.",
    )
    async def returns_platforms(self, info: Info) -> list[ReturnsPlatformConnection]:
        call = _returns(info).ListReturnsPlatforms(pb.ListReturnsPlatformsRequest())
        response = await query_answer(call)
        return [ReturnsPlatformConnection.from_proto(c) for c in response.connections]

    @strawberry.field(
        extensions=allow(*STAFF),
        description="Returns platforms' returns parked for an operator (unknown order or SKU, "
        "nothing returnable), newest first; `first` within 1..100.",
    )
    async def parked_platform_returns(
        self, info: Info, first: int = 50
    ) -> list[ParkedPlatformReturn]:
        request = pb.ListParkedPlatformReturnsRequest(first=first)
        response = await query_answer(_returns(info).ListParkedPlatformReturns(request))
        return [ParkedPlatformReturn.from_proto(p) for p in response.returns]


@strawberry.type
class ReturnsMutation:
    @strawberry.mutation(
        extensions=allow(*REQUESTERS),
        description="Accepts shipped units not yet returned (INVALID_QUANTITY) within the "
        "return window (OUTSIDE_WINDOW) and routes them to the hub near the customer, else the "
        "distribution centre; a storefront returns only the orders it placed. With an "
        "`idempotencyKey` seen before for the order, answers the first return and creates "
        "nothing.",
    )
    async def request_return(self, info: Info, input: RequestReturnInput) -> RequestReturnPayload:
        return await answer(
            RequestReturnPayload,
            _returns(info).RequestReturn(input.to_proto()),
            paths=REQUEST_RETURN_FIELDS,
            return_=Return.from_proto,
        )

    @strawberry.mutation(
        extensions=allow(*HUB_STAFF),
        description="The hub's scan of the parcel, at its destination only (WRONG_LOCATION) and "
        "once (INVALID_STATE); its units count as pendingInspection there. A scanner scans at "
        "its own location only (FORBIDDEN).",
    )
    async def receive_return(
        self, info: Info, id: strawberry.ID, location_code: str
    ) -> ReceiveReturnPayload:
        request = pb.ReceiveReturnRequest(return_id=id, location_code=location_code)
        return await answer(
            ReceiveReturnPayload,
            _returns(info).ReceiveReturn(request),
            argument=None,
            paths=RECEIVE_RETURN_ARGUMENTS,
            return_=Return.from_proto,
        )

    @strawberry.mutation(
        extensions=allow(*HUB_STAFF),
        description="Grades each unit and decides its disposition; refunds verified goods, "
        "withholds the refund of a parcel that is not what was sold (REJECTED). Once only "
        "(INVALID_STATE); a scanner inspects its own location's returns only (FORBIDDEN).",
    )
    async def inspect_return(self, info: Info, input: InspectReturnInput) -> InspectReturnPayload:
        call = _returns(info).InspectReturn(input.to_proto())
        return await answer(InspectReturnPayload, call, return_=Return.from_proto)

    @strawberry.mutation(
        extensions=allow(*STAFF),
        description="Connects (again: replaces, by code) a returns platform account: Loop, "
        "Happy Returns or Narvar. Its webhooks (POST /webhooks/loop, /webhooks/happy-returns, "
        "/webhooks/narvar) start returns; refunds and status updates go back through its API.",
    )
    async def connect_returns_platform(
        self, info: Info, input: ConnectReturnsPlatformInput
    ) -> ConnectReturnsPlatformPayload:
        call = _returns(info).ConnectReturnsPlatform(input.to_proto())
        return await answer(
            ConnectReturnsPlatformPayload, call, connection=ReturnsPlatformConnection.from_proto
        )
