"""The inventory's gRPC edge: protobuf in, use case, protobuf out (errors map in the kernel)."""

from __future__ import annotations

from oms.inventory.v1 import inventory_pb2 as pb
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceServicer
from services.inventory.domain.imports import StockImportRow
from services.inventory.domain.model import (
    CountLine,
    CountReconciliation,
    Discrepancy,
    DiscrepancyDecision,
    DiscrepancyStatus,
    LedgerEntry,
    Location,
    LocationChange,
    Reservation,
    ReservationLine,
    SafetyStock,
    Sku,
    StockCount,
    StockLevel,
)
from services.inventory.service import InventoryService
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.grpc_server import ServicerContext, caller_of
from services.kernel.messages import from_message, to_message
from services.kernel.proto_enums import enum_name


def location_to_proto(location: Location) -> pb.Location:
    return to_message(pb.Location, location)


def sku_to_proto(sku: Sku) -> pb.Sku:
    return to_message(pb.Sku, sku)


def level_to_proto(level: StockLevel) -> pb.StockLevel:
    return to_message(pb.StockLevel, level)


def movement_to_proto(entry: LedgerEntry) -> pb.StockMovement:
    movement, delta = entry.movement, entry.movement.delta
    return pb.StockMovement(
        id=entry.id,
        sku=movement.sku,
        location_code=movement.location_code,
        on_hand_delta=delta.on_hand,
        reserved_delta=delta.reserved,
        in_transit_delta=delta.in_transit,
        pending_inspection_delta=delta.pending_inspection,
        in_repair_delta=delta.in_repair,
        promised_delta=delta.promised,
        reason=movement.reason,
        source_type=movement.source_type.value,
        source_id=movement.source_id,
        occurred_at=entry.occurred_at.isoformat(),
    )


def reservation_to_proto(reservation: Reservation) -> pb.Reservation:
    return to_message(pb.Reservation, reservation)


def discrepancy_to_proto(discrepancy: Discrepancy) -> pb.StockDiscrepancy:
    return to_message(pb.StockDiscrepancy, discrepancy)


def reconciliation_to_proto(done: CountReconciliation) -> pb.CountReconciliation:
    return pb.CountReconciliation(
        discrepancies=[discrepancy_to_proto(x) for x in done.discrepancies],
        compared=done.compared,
        matched=done.matched,
        closed=done.closed,
    )


def _status(value: int) -> DiscrepancyStatus | None:
    """The status a list asks for; None (any) when left unspecified."""
    name = enum_name(pb.DiscrepancyStatus, value)
    if name == "UNSPECIFIED":
        return None
    if name not in DiscrepancyStatus.__members__:
        raise DomainError(ErrorCode.INVALID_INPUT, "an unknown discrepancy status", "status")
    return DiscrepancyStatus(name)


class InventoryGrpc(InventoryServiceServicer):
    def __init__(self, service: InventoryService) -> None:
        self._service = service

    async def UpsertLocation(
        self, request: pb.UpsertLocationRequest, context: ServicerContext
    ) -> pb.Location:
        location = await self._service.upsert_location(from_message(LocationChange, request))
        return location_to_proto(location)

    async def ListLocations(
        self, request: pb.ListLocationsRequest, context: ServicerContext
    ) -> pb.ListLocationsResponse:
        locations = await self._service.locations(list(request.codes))
        return pb.ListLocationsResponse(locations=[location_to_proto(x) for x in locations])

    async def UpsertSku(self, request: pb.UpsertSkuRequest, context: ServicerContext) -> pb.Sku:
        sku = await self._service.upsert_sku(
            request.code,
            request.title,
            request.unit_cost_cents,
            request.weight_grams,
            request.serialized,
            request.made_from_sku if request.HasField("made_from_sku") else None,
        )
        return sku_to_proto(sku)

    async def ListSkus(
        self, request: pb.ListSkusRequest, context: ServicerContext
    ) -> pb.ListSkusResponse:
        skus = await self._service.skus(list(request.codes))
        return pb.ListSkusResponse(skus=[sku_to_proto(x) for x in skus])

    async def AdjustStock(
        self, request: pb.AdjustStockRequest, context: ServicerContext
    ) -> pb.StockLevel:
        level = await self._service.adjust_stock(
            request.sku,
            request.location_code,
            request.delta,
            request.reason,
            request.idempotency_key,
        )
        return level_to_proto(level)

    async def GetStockLevels(
        self, request: pb.GetStockLevelsRequest, context: ServicerContext
    ) -> pb.GetStockLevelsResponse:
        levels = await self._service.stock_levels(
            list(request.skus), list(request.location_codes), caller_of(context)
        )
        return pb.GetStockLevelsResponse(levels=[level_to_proto(x) for x in levels])

    async def ListStockLevels(
        self, request: pb.ListStockLevelsRequest, context: ServicerContext
    ) -> pb.ListStockLevelsResponse:
        edges, has_next = await self._service.levels_at(
            request.location_code, request.first, request.after, caller_of(context)
        )
        return pb.ListStockLevelsResponse(
            edges=[pb.StockLevelEdge(cursor=c, level=level_to_proto(x)) for c, x in edges],
            has_next_page=has_next,
            end_cursor=edges[-1][0] if edges else "",
        )

    async def GetAvailability(
        self, request: pb.GetAvailabilityRequest, context: ServicerContext
    ) -> pb.GetAvailabilityResponse:
        rows = await self._service.availability(list(request.skus), request.channel)
        return pb.GetAvailabilityResponse(
            availability=[pb.SkuAvailability(sku=sku, available=units) for sku, units in rows]
        )

    async def GetSourcingOptions(
        self, request: pb.GetSourcingOptionsRequest, context: ServicerContext
    ) -> pb.GetSourcingOptionsResponse:
        options, unknown, made_from = await self._service.sourcing_options(list(request.skus))
        return pb.GetSourcingOptionsResponse(
            unknown_skus=unknown,
            made_from=[pb.MadeFrom(sku=sku, blank_sku=blank) for sku, blank in made_from.items()],
            options=[
                pb.SourcingOption(
                    location=location_to_proto(location),
                    available=[pb.SkuUnits(sku=sku, available=n) for sku, n in units.items()],
                )
                for location, units in options
            ],
        )

    async def UpsertChannel(
        self, request: pb.UpsertChannelRequest, context: ServicerContext
    ) -> pb.Channel:
        channel = await self._service.upsert_channel(
            request.code,
            request.default_safety_stock,
            [SafetyStock(x.sku, x.units) for x in request.safety_stock],
            request.allow_backorders if request.HasField("allow_backorders") else None,
        )
        return to_message(pb.Channel, channel)

    async def UpsertSkus(
        self, request: pb.UpsertSkusRequest, context: ServicerContext
    ) -> pb.UpsertSkusResponse:
        skus = [
            (f"skus.{i}", Sku(s.code, s.title, s.unit_cost_cents, s.weight_grams, s.serialized))
            for i, s in enumerate(request.skus)
        ]
        created, updated = await self._service.upsert_skus(skus, request.csv)
        return pb.UpsertSkusResponse(created=created, updated=updated)

    async def ImportStock(
        self, request: pb.ImportStockRequest, context: ServicerContext
    ) -> pb.ImportStockResponse:
        rows = [
            StockImportRow(
                r.sku,
                r.location_code,
                r.delta if r.HasField("delta") else None,
                r.on_hand if r.HasField("on_hand") else None,
                r.reason,
                f"rows.{i}",
            )
            for i, r in enumerate(request.rows)
        ]
        outcome = await self._service.import_stock(rows, request.idempotency_key, request.csv)
        return pb.ImportStockResponse(
            rows=outcome.rows, levels_changed=outcome.levels_changed, replayed=outcome.replayed
        )

    async def GetChannel(
        self, request: pb.GetChannelRequest, context: ServicerContext
    ) -> pb.Channel:
        return to_message(pb.Channel, await self._service.channel(request.code))

    async def GetBackorderOptions(
        self, request: pb.GetBackorderOptionsRequest, context: ServicerContext
    ) -> pb.GetBackorderOptionsResponse:
        allowed, options = await self._service.backorder_options(
            list(request.skus), request.channel
        )
        return pb.GetBackorderOptionsResponse(
            allowed=allowed,
            options=[
                pb.SourcingOption(
                    location=location_to_proto(location),
                    available=[pb.SkuUnits(sku=sku, available=n) for sku, n in units.items()],
                )
                for location, units in options
            ],
        )

    async def PromiseStock(
        self, request: pb.PromiseRequest, context: ServicerContext
    ) -> pb.Promise:
        lines = [ReservationLine(x.sku, x.location_code, x.quantity) for x in request.lines]
        reservation, expected_at = await self._service.promise(request.key, lines)
        return pb.Promise(
            reservation=reservation_to_proto(reservation),
            expected_at=expected_at.isoformat() if expected_at else "",
        )

    async def Reserve(self, request: pb.ReserveRequest, context: ServicerContext) -> pb.Reservation:
        lines = [ReservationLine(x.sku, x.location_code, x.quantity) for x in request.lines]
        reservation = await self._service.reserve(request.key, lines, request.holder_type)
        return reservation_to_proto(reservation)

    async def Release(self, request: pb.ReleaseRequest, context: ServicerContext) -> pb.Reservation:
        return reservation_to_proto(await self._service.release(request.key))

    async def Commit(self, request: pb.CommitRequest, context: ServicerContext) -> pb.Reservation:
        return reservation_to_proto(await self._service.commit(request.key, request.location_code))

    async def ConsumeStock(
        self, request: pb.ConsumeStockRequest, context: ServicerContext
    ) -> pb.Reservation:
        lines = [ReservationLine(x.sku, x.location_code, x.quantity) for x in request.lines]
        return reservation_to_proto(await self._service.consume(request.key, lines, request.reason))

    async def GetReservation(
        self, request: pb.GetReservationRequest, context: ServicerContext
    ) -> pb.Reservation:
        return reservation_to_proto(await self._service.reservation(request.key))

    async def ListMovements(
        self, request: pb.ListMovementsRequest, context: ServicerContext
    ) -> pb.ListMovementsResponse:
        entries = await self._service.movements(
            request.sku, request.location_code, request.limit or 100
        )
        return pb.ListMovementsResponse(movements=[movement_to_proto(x) for x in entries])

    async def GetInventoryValue(
        self, request: pb.InventoryValueRequest, context: ServicerContext
    ) -> pb.InventoryValue:
        value = await self._service.inventory_value(caller_of(context))
        return pb.InventoryValue(
            sellable_cents=value.sellable,
            reserved_cents=value.reserved,
            in_transit_cents=value.in_transit,
            pending_inspection_cents=value.pending_inspection,
            in_repair_cents=value.in_repair,
        )

    async def ReconcileCount(
        self, request: pb.ReconcileCountRequest, context: ServicerContext
    ) -> pb.CountReconciliation:
        count = StockCount(
            request.location_code,
            request.source,
            tuple(CountLine(x.sku, x.counted) for x in request.lines),
            request.complete,
        )
        done = await self._service.reconcile_count(count, caller_of(context))
        return reconciliation_to_proto(done)

    async def ImportStockCount(
        self, request: pb.ImportStockCountRequest, context: ServicerContext
    ) -> pb.CountReconciliation:
        done = await self._service.import_count(
            request.location_code,
            request.source,
            request.csv,
            request.complete,
            caller_of(context),
        )
        return reconciliation_to_proto(done)

    async def ListStockDiscrepancies(
        self, request: pb.ListStockDiscrepanciesRequest, context: ServicerContext
    ) -> pb.ListStockDiscrepanciesResponse:
        found, next_after = await self._service.stock_discrepancies(
            request.location_code,
            _status(request.status),
            request.limit,
            request.after,
            caller_of(context),
        )
        return pb.ListStockDiscrepanciesResponse(
            discrepancies=[discrepancy_to_proto(x) for x in found], next_after=next_after
        )

    async def ResolveStockDiscrepancy(
        self, request: pb.ResolveStockDiscrepancyRequest, context: ServicerContext
    ) -> pb.StockDiscrepancy:
        name = enum_name(pb.DiscrepancyDecision, request.decision)
        decision = DiscrepancyDecision(name) if name in DiscrepancyDecision.__members__ else None
        resolved = await self._service.resolve_discrepancy(request.id, decision, caller_of(context))
        return discrepancy_to_proto(resolved)
