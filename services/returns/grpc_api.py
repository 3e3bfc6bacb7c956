"""The returns' gRPC edge: protobuf in, use case, protobuf out (errors map in the kernel)."""

from __future__ import annotations

from oms.returns.v1 import returns_pb2 as pb
from oms.returns.v1.returns_pb2_grpc import ReturnsServiceServicer
from services.kernel.caller import Caller
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.geo import AddressToPlace, place
from services.kernel.grpc_server import ServicerContext, caller_of
from services.kernel.messages import to_message
from services.kernel.proto_enums import enum_name, enum_value
from services.returns.domain import rules
from services.returns.domain.model import (
    InspectedUnit,
    Inspection,
    NewReturn,
    Platform,
    PlatformConnection,
    RequestedLine,
    Return,
)
from services.returns.domain.report import ReturnsReport, parse_bound
from services.returns.service import ReturnsService


def return_to_proto(found: Return) -> pb.Return:
    return to_message(pb.Return, found)


async def new_return_from_proto(request: pb.RequestReturnRequest) -> NewReturn:
    customer = None
    if request.HasField("customer"):
        given = request.customer
        placed = await place(
            AddressToPlace(
                given.latitude if given.HasField("latitude") else None,
                given.longitude if given.HasField("longitude") else None,
                given.postal_code,
                given.city,
                given.country,
            ),
            "customer",
        )
        customer = (placed.latitude, placed.longitude)
    return NewReturn(
        order_id=request.order_id,
        lines=tuple(
            RequestedLine(x.sku, x.quantity, enum_name(pb.ReturnReason, x.reason))
            for x in request.lines
        ),
        customer=customer,
        idempotency_key=request.idempotency_key,
    )


def inspection_from_proto(request: pb.InspectReturnRequest, caller: Caller) -> Inspection:
    return Inspection(
        return_id=request.return_id,
        units=tuple(
            InspectedUnit(
                x.sku,
                rules.parse_grade(enum_name(pb.Grade, x.grade), f"lines.{i}.grade"),
                x.serial_number,
            )
            for i, x in enumerate(request.lines)
        ),
        measured_weight_grams=(
            request.measured_weight_grams if request.HasField("measured_weight_grams") else None
        ),
        notes=request.notes,
        acting_location_code=caller.bound_location,
    )


def report_to_proto(report: ReturnsReport) -> pb.ReturnsReport:
    return pb.ReturnsReport(
        returns=report.returns,
        by_destination_kind=[
            pb.DestinationKindFigures(
                kind=k.kind,
                returns=k.returns,
                handling_cost_cents=k.handling_cost_cents,
                centralized_cost_cents=k.centralized_cost_cents,
            )
            for k in report.by_destination_kind
        ],
        handling_cost_cents=report.handling_cost_cents,
        centralized_cost_cents=report.centralized_cost_cents,
        saving_cents=report.saving_cents,
        request_to_refund_hours_p50=report.request_to_refund_hours[0],
        request_to_refund_hours_p90=report.request_to_refund_hours[1],
        receipt_to_restock_hours_p50=report.receipt_to_restock_hours[0],
        receipt_to_restock_hours_p90=report.receipt_to_restock_hours[1],
        backlog=[
            pb.HubBacklog(
                location_code=b.location_code,
                awaiting_inspection=b.awaiting_inspection,
                oldest_minutes=b.oldest_minutes,
            )
            for b in report.backlog
        ],
        awaiting_inspection=report.awaiting_inspection,
    )


class ReturnsGrpc(ReturnsServiceServicer):
    def __init__(self, service: ReturnsService) -> None:
        self._service = service

    async def RequestReturn(
        self, request: pb.RequestReturnRequest, context: ServicerContext
    ) -> pb.Return:
        new = await new_return_from_proto(request)
        return return_to_proto(await self._service.request(new, caller_of(context)))

    async def ReceiveReturn(
        self, request: pb.ReceiveReturnRequest, context: ServicerContext
    ) -> pb.Return:
        received = await self._service.receive(
            request.return_id, request.location_code, caller_of(context)
        )
        return return_to_proto(received)

    async def InspectReturn(
        self, request: pb.InspectReturnRequest, context: ServicerContext
    ) -> pb.Return:
        inspection = inspection_from_proto(request, caller_of(context))
        return return_to_proto(await self._service.inspect(inspection))

    async def GetReturn(self, request: pb.GetReturnRequest, context: ServicerContext) -> pb.Return:
        return return_to_proto(await self._service.get(request.id, caller_of(context)))

    async def GetReturns(
        self, request: pb.GetReturnsRequest, context: ServicerContext
    ) -> pb.GetReturnsResponse:
        found = await self._service.many(list(request.ids), caller_of(context))
        return pb.GetReturnsResponse(returns=[return_to_proto(r) for r in found])

    async def ListReturns(
        self, request: pb.ListReturnsRequest, context: ServicerContext
    ) -> pb.ListReturnsResponse:
        status = None
        if request.status != pb.RETURN_STATUS_UNSPECIFIED:
            status = rules.parse_status(enum_name(pb.ReturnStatus, request.status), "status")
        edges, has_next = await self._service.page(
            request.first, request.after, status, request.destination_code, caller_of(context)
        )
        return pb.ListReturnsResponse(
            edges=[pb.ReturnEdge(cursor=c, node=return_to_proto(r)) for c, r in edges],
            has_next_page=has_next,
            end_cursor=edges[-1][0] if edges else "",
        )

    async def HubQueue(
        self, request: pb.HubQueueRequest, context: ServicerContext
    ) -> pb.HubQueueResponse:
        queue = await self._service.hub_queue(request.location_code, caller_of(context))
        return pb.HubQueueResponse(returns=[return_to_proto(r) for r in queue])

    async def GetReturnsReport(
        self, request: pb.ReturnsReportRequest, context: ServicerContext
    ) -> pb.ReturnsReport:
        start = parse_bound(getattr(request, "from"), "from")
        end = parse_bound(request.to, "to")
        return report_to_proto(await self._service.report(start, end))

    async def GetReturnsSummary(
        self, request: pb.ReturnsSummaryRequest, context: ServicerContext
    ) -> pb.ReturnsSummary:
        count = await self._service.awaiting_inspection(caller_of(context))
        return pb.ReturnsSummary(awaiting_inspection=count)

    async def GetInspectionBacklog(
        self, request: pb.InspectionBacklogRequest, context: ServicerContext
    ) -> pb.InspectionBacklogResponse:
        backlog = await self._service.inspection_backlog(list(request.location_codes))
        return pb.InspectionBacklogResponse(
            backlogs=[
                pb.LocationInspectionBacklog(location_code=c, backlog=n) for c, n in backlog.items()
            ]
        )

    async def ConnectReturnsPlatform(
        self, request: pb.ConnectReturnsPlatformRequest, context: ServicerContext
    ) -> pb.ReturnsPlatformConnection:
        connection = PlatformConnection(
            code=request.code,
            platform=_platform(request.platform),
            channel=request.channel,
            webhook_secret=request.webhook_secret,
            api_base_url=request.api_base_url,
            access_token=request.access_token,
        )
        connected = await self._service.connect_platform(connection, caller_of(context))
        return connection_to_proto(connected)

    async def ListReturnsPlatforms(
        self, request: pb.ListReturnsPlatformsRequest, context: ServicerContext
    ) -> pb.ListReturnsPlatformsResponse:
        found = await self._service.platform_connections(caller_of(context))
        return pb.ListReturnsPlatformsResponse(connections=[connection_to_proto(c) for c in found])

    async def ListParkedPlatformReturns(
        self, request: pb.ListParkedPlatformReturnsRequest, context: ServicerContext
    ) -> pb.ListParkedPlatformReturnsResponse:
        found = await self._service.parked_platform_returns(request.first, caller_of(context))
        return pb.ListParkedPlatformReturnsResponse(
            returns=[to_message(pb.ParkedPlatformReturn, p) for p in found]
        )

    async def ReceivePlatformWebhook(
        self, request: pb.PlatformWebhookRequest, context: ServicerContext
    ) -> pb.PlatformWebhookReply:
        outcome, return_id, problem = await self._service.receive_platform_webhook(
            _platform(request.platform), request.signature, request.topic, request.body
        )
        return pb.PlatformWebhookReply(outcome=outcome, return_id=return_id, problem=problem)


def connection_to_proto(connection: PlatformConnection) -> pb.ReturnsPlatformConnection:
    """What may be read back of a connection: never its secret or token."""
    return pb.ReturnsPlatformConnection(
        code=connection.code,
        platform=enum_value(pb.ReturnsPlatform, connection.platform.value),
        channel=connection.channel,
        api_base_url=connection.api_base_url,
        connected_at=connection.connected_at.isoformat() if connection.connected_at else "",
    )


def _platform(value: int) -> Platform:
    name = enum_name(pb.ReturnsPlatform, value)
    if name not in Platform.__members__:
        raise DomainError(ErrorCode.INVALID_INPUT, "platform must be named", "platform")
    return Platform(name)
