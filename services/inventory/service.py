"""Inventory use cases: each one transaction, each stock change a ledger row and an event."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from oms.events.v1.inventory_pb2 import StockLevelChanged
from services.inventory.domain import rules
from services.inventory.domain.model import (
    Channel,
    Location,
    LocationKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
    SafetyStock,
    Sku,
    SourceType,
    StockDelta,
    StockLevel,
)
from services.inventory.store import (
    ChannelRow,
    ChannelSafetyStockRow,
    LocationRow,
    ReservationLineRow,
    ReservationRow,
    SkuRow,
    StockLevelRow,
    StockMovementRow,
    apply_delta_atomically,
    ensure_stock_level,
    sellable_units,
    sourcing_rows,
)
from services.kernel.db import Database, utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.outbox import record_event

PRODUCER = "inventory"


class InventoryService:
    """The inventory's use cases over its own database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # Locations and SKUs

    async def upsert_location(
        self,
        code: str,
        name: str,
        kind: LocationKind,
        latitude: float,
        longitude: float,
        ships_orders: bool | None = None,
        accepts_returns: bool | None = None,
    ) -> Location:
        code = rules.require_code(code, "code", "location code")
        name = rules.require_words(name, "name", "name")
        rules.require_coordinates(latitude, longitude)
        default_ships, default_returns = rules.default_capabilities(kind)
        async with self._db.transaction() as session:
            row = (await session.exec(select(LocationRow).where(LocationRow.code == code))).first()
            if row is None:
                row = LocationRow(
                    id=str(uuid.uuid4()),
                    code=code,
                    name=name,
                    kind=kind.value,
                    latitude=latitude,
                    longitude=longitude,
                    ships_orders=default_ships,
                    accepts_returns=default_returns,
                )
            row.name, row.kind = name, kind.value
            row.latitude, row.longitude = latitude, longitude
            if ships_orders is not None:
                row.ships_orders = ships_orders
            if accepts_returns is not None:
                row.accepts_returns = accepts_returns
            row.updated_at = utcnow()
            session.add(row)
        return row.to_domain()

    async def locations(self, codes: Sequence[str] = ()) -> list[Location]:
        statement = select(LocationRow).order_by(col(LocationRow.code))
        if codes:
            statement = statement.where(col(LocationRow.code).in_(codes))
        async with self._db.snapshot() as session:
            return [row.to_domain() for row in (await session.exec(statement)).all()]

    async def upsert_sku(
        self, code: str, title: str, unit_cost_cents: int, weight_grams: int, serialized: bool
    ) -> Sku:
        code = rules.require_code(code, "code", "SKU code")
        title = rules.require_words(title, "title", "title")
        rules.require_non_negative(unit_cost_cents, "unit_cost_cents", "unit cost")
        rules.require_non_negative(weight_grams, "weight_grams", "weight")
        async with self._db.transaction() as session:
            row = await session.get(SkuRow, code) or SkuRow(
                code=code, title=title, unit_cost_cents=0, weight_grams=0
            )
            row.title, row.unit_cost_cents = title, unit_cost_cents
            row.weight_grams, row.serialized = weight_grams, serialized
            row.updated_at = utcnow()
            session.add(row)
        return row.to_domain()

    async def skus(self, codes: Sequence[str] = ()) -> list[Sku]:
        statement = select(SkuRow).order_by(col(SkuRow.code))
        if codes:
            statement = statement.where(col(SkuRow.code).in_(codes))
        async with self._db.snapshot() as session:
            return [row.to_domain() for row in (await session.exec(statement)).all()]

    # Stock

    async def adjust_stock(
        self, sku: str, location_code: str, delta: int, reason: str
    ) -> StockLevel:
        """Changes on-hand units; refused when it would take on hand below what is reserved."""
        reason = rules.require_adjustment(delta, reason)
        async with self._db.transaction() as session:
            await require_sku(session, sku, "sku")
            await require_location(session, location_code, "location_code")
            await ensure_stock_level(session, sku, location_code)
            return await apply_movement(
                session,
                sku,
                location_code,
                StockDelta(on_hand=delta),
                reason,
                SourceType.ADJUSTMENT,
                str(uuid.uuid4()),
                field="delta",
            )

    async def stock_levels(
        self, skus: Sequence[str] = (), location_codes: Sequence[str] = ()
    ) -> list[StockLevel]:
        statement = select(StockLevelRow).order_by(
            col(StockLevelRow.sku), col(StockLevelRow.location_code)
        )
        if skus:
            statement = statement.where(col(StockLevelRow.sku).in_(skus))
        if location_codes:
            statement = statement.where(col(StockLevelRow.location_code).in_(location_codes))
        async with self._db.snapshot() as session:
            return [row.to_domain() for row in (await session.exec(statement)).all()]

    async def availability(self, skus: Sequence[str], channel: str) -> list[tuple[str, int]]:
        """Units each SKU may be promised on `channel`. Unknown SKUs and channels have none
        held back and nothing sellable, so they report 0 rather than an error."""
        async with self._db.snapshot() as session:
            sellable = await sellable_units(session, skus)
            channel_row = await session.get(ChannelRow, channel)
            overrides = {
                row.sku: row.units
                for row in (
                    await session.exec(
                        select(ChannelSafetyStockRow).where(
                            ChannelSafetyStockRow.channel == channel,
                            col(ChannelSafetyStockRow.sku).in_(skus),
                        )
                    )
                ).all()
            }
        default = channel_row.default_safety_stock if channel_row else 0
        return rules.channel_availability(skus, sellable, overrides, default)

    async def sourcing_options(
        self, skus: Sequence[str]
    ) -> tuple[list[tuple[Location, dict[str, int]]], list[str]]:
        """Each shipping location holding available units of the SKUs, with those units; and
        the SKUs that do not exist (one call answers both questions a placement asks)."""
        async with self._db.snapshot() as session:
            rows = await sourcing_rows(session, skus)
            known = set(
                (await session.exec(select(SkuRow.code).where(col(SkuRow.code).in_(skus)))).all()
            )
        options: dict[str, tuple[Location, dict[str, int]]] = {}
        for location_row, sku, units in rows:
            entry = options.setdefault(location_row.code, (location_row.to_domain(), {}))
            entry[1][sku] = units
        return list(options.values()), [sku for sku in skus if sku not in known]

    async def upsert_channel(
        self, code: str, default_safety_stock: int, safety_stock: Sequence[SafetyStock]
    ) -> Channel:
        code = rules.require_code(code, "code", "channel code")
        rules.require_non_negative(default_safety_stock, "default_safety_stock", "safety stock")
        for index, item in enumerate(safety_stock):
            rules.require_non_negative(item.units, f"safety_stock.{index}.units", "safety stock")
        async with self._db.transaction() as session:
            row = await session.get(ChannelRow, code) or ChannelRow(code=code)
            row.default_safety_stock = default_safety_stock
            session.add(row)
            await session.flush()
            await session.exec(  # type: ignore[call-overload]
                delete(ChannelSafetyStockRow).where(col(ChannelSafetyStockRow.channel) == code)
            )
            for item in safety_stock:
                session.add(ChannelSafetyStockRow(channel=code, sku=item.sku, units=item.units))
        return Channel(code, default_safety_stock, tuple(safety_stock))

    async def movements(
        self, sku: str, location_code: str, limit: int = 100
    ) -> list[StockMovementRow]:
        statement = (
            select(StockMovementRow)
            .where(
                StockMovementRow.sku == sku,
                StockMovementRow.location_code == location_code,
            )
            .order_by(col(StockMovementRow.id).desc())
            .limit(max(1, min(limit, 1000)))
        )
        async with self._db.snapshot() as session:
            return list((await session.exec(statement)).all())

    async def ledger_discrepancies(self) -> list[tuple[StockLevel, StockLevel]]:
        """Levels that differ from a replay of the ledger, as (stored, rebuilt) pairs."""
        async with self._db.snapshot() as session:
            movements = (
                await session.exec(select(StockMovementRow).order_by(col(StockMovementRow.id)))
            ).all()
            stored = (await session.exec(select(StockLevelRow))).all()
        rebuilt = rules.levels_from_ledger((m.sku, m.location_code, m.delta()) for m in movements)
        mismatches = []
        for row in stored:
            level = row.to_domain()
            replayed = rebuilt.get(
                (row.sku, row.location_code), StockLevel(row.sku, row.location_code)
            )
            if level != replayed:
                mismatches.append((level, replayed))
        return mismatches

    # Reservations

    async def reserve(
        self, key: str, lines: Sequence[ReservationLine], holder_type: str
    ) -> Reservation:
        """Holds every line or none, atomically. Idempotent per key.

        Reserving again under a key that holds (or shipped) units returns that reservation
        and holds nothing more; under a key that was released it is refused, so a late retry
        of a cancelled order cannot take stock back.
        """
        key = rules.require_code(key, "key", "reservation key")
        ordered = rules.normalize_reservation_lines(lines)
        try:
            async with self._db.transaction() as session:
                existing = await session.get(ReservationRow, key)
                if existing is not None and existing.status == ReservationStatus.RELEASED.value:
                    raise DomainError(
                        ErrorCode.INVALID_STATE, f"reservation {key} was released", "key"
                    )
                if existing is not None:
                    return await _existing_reservation(session, existing)
                session.add(
                    ReservationRow(
                        key=key,
                        holder_type=holder_type or "order",
                        status=ReservationStatus.HELD.value,
                    )
                )
                await session.flush()
                for index, line in enumerate(ordered):
                    try:
                        await apply_movement(
                            session,
                            line.sku,
                            line.location_code,
                            StockDelta(reserved=line.quantity),
                            f"reserved for {key}",
                            SourceType.RESERVATION,
                            key,
                            field=f"lines.{index}.quantity",
                        )
                    except DomainError:
                        # Only a refused line pays for finding out whether it names an unknown
                        # SKU or location (no level row exists for those either).
                        await require_sku(session, line.sku, f"lines.{index}.sku")
                        await require_location(
                            session, line.location_code, f"lines.{index}.location_code"
                        )
                        raise
                    session.add(
                        ReservationLineRow(
                            key=key,
                            sku=line.sku,
                            location_code=line.location_code,
                            quantity=line.quantity,
                        )
                    )
        except IntegrityError:
            # A concurrent call under the same key won the claim; answer with its result.
            return await self.reservation(key)
        return Reservation(key, ReservationStatus.HELD, held=tuple(ordered))

    async def release(self, key: str) -> Reservation:
        """Gives back what the key still holds. Releasing an unknown key records it as
        released, so a reservation that arrives late under that key is refused."""
        async with self._db.transaction() as session:
            header = await session.get(ReservationRow, key)
            if header is None:
                session.add(
                    ReservationRow(
                        key=key, holder_type="unknown", status=ReservationStatus.RELEASED.value
                    )
                )
                return Reservation(key, ReservationStatus.RELEASED)
            for line in await _lines(session, key, ReservationStatus.HELD):
                await apply_movement(
                    session,
                    line.sku,
                    line.location_code,
                    StockDelta(reserved=-line.quantity),
                    f"released by {key}",
                    SourceType.RESERVATION,
                    key,
                )
                line.status = ReservationStatus.RELEASED.value
                session.add(line)
            return await _settle(session, header)

    async def commit(self, key: str, location_code: str = "") -> Reservation:
        """Ships held units (all, or those at one location): on hand and reserved go down."""
        async with self._db.transaction() as session:
            header = await session.get(ReservationRow, key)
            if header is None:
                raise DomainError(ErrorCode.NOT_FOUND, f"no reservation {key}", "key")
            held = await _lines(session, key, ReservationStatus.HELD)
            if header.status == ReservationStatus.RELEASED.value:
                raise DomainError(ErrorCode.INVALID_STATE, f"reservation {key} was released", "key")
            for line in held:
                if location_code and line.location_code != location_code:
                    continue
                await apply_movement(
                    session,
                    line.sku,
                    line.location_code,
                    StockDelta(on_hand=-line.quantity, reserved=-line.quantity),
                    f"shipped for {key}",
                    SourceType.SHIPMENT,
                    key,
                )
                line.status = ReservationStatus.COMMITTED.value
                session.add(line)
            return await _settle(session, header)

    async def reservation(self, key: str) -> Reservation:
        async with self._db.snapshot() as session:
            header = await session.get(ReservationRow, key)
            if header is None:
                raise DomainError(ErrorCode.NOT_FOUND, f"no reservation {key}", "key")
            return await _existing_reservation(session, header)


async def require_sku(session: AsyncSession, code: str, field: str) -> None:
    if await session.get(SkuRow, code) is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"unknown SKU {code!r}", field)


async def require_location(session: AsyncSession, code: str, field: str) -> None:
    found = (await session.exec(select(LocationRow.id).where(LocationRow.code == code))).first()
    if found is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"unknown location {code!r}", field)


async def apply_movement(
    session: AsyncSession,
    sku: str,
    location_code: str,
    delta: StockDelta,
    reason: str,
    source_type: SourceType,
    source_id: str,
    field: str | None = None,
) -> StockLevel:
    """Applies one movement inside the caller's transaction: the level (atomically), its
    ledger row and its StockLevelChanged event, so all three commit or none does.

    The level row must exist (`ensure_stock_level`); a delta that would break an invariant
    (a state below zero, reserved above on hand) is refused with INSUFFICIENT_STOCK.
    """
    level = await apply_delta_atomically(session, sku, location_code, delta)
    if level is None:
        raise DomainError(
            ErrorCode.INSUFFICIENT_STOCK,
            f"not enough {sku} available at {location_code}",
            field,
        )
    movement = StockMovementRow(
        sku=sku,
        location_code=location_code,
        on_hand_delta=delta.on_hand,
        reserved_delta=delta.reserved,
        in_transit_delta=delta.in_transit,
        pending_inspection_delta=delta.pending_inspection,
        in_repair_delta=delta.in_repair,
        reason=reason,
        source_type=source_type.value,
        source_id=source_id,
    )
    session.add(movement)
    await session.flush()
    record_event(
        session,
        PRODUCER,
        StockLevelChanged(
            sku=sku,
            location_code=location_code,
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.available,
            in_transit=level.in_transit,
            pending_inspection=level.pending_inspection,
            in_repair=level.in_repair,
            reason=reason,
            source_type=source_type.value,
            source_id=source_id,
            movement_id=movement.id or 0,
        ),
    )
    return level


async def _lines(
    session: AsyncSession, key: str, status: ReservationStatus | None = None
) -> list[ReservationLineRow]:
    statement = select(ReservationLineRow).where(ReservationLineRow.key == key)
    if status is not None:
        statement = statement.where(ReservationLineRow.status == status.value)
    statement = statement.order_by(
        col(ReservationLineRow.sku), col(ReservationLineRow.location_code)
    )
    return list((await session.exec(statement)).all())


async def _existing_reservation(session: AsyncSession, header: ReservationRow) -> Reservation:
    by_status: dict[str, list[ReservationLine]] = {s.value: [] for s in ReservationStatus}
    for line in await _lines(session, header.key):
        by_status[line.status].append(ReservationLine(line.sku, line.location_code, line.quantity))
    return Reservation(
        key=header.key,
        status=ReservationStatus(header.status),
        held=tuple(by_status[ReservationStatus.HELD.value]),
        committed=tuple(by_status[ReservationStatus.COMMITTED.value]),
        released=tuple(by_status[ReservationStatus.RELEASED.value]),
    )


async def _settle(session: AsyncSession, header: ReservationRow) -> Reservation:
    """Recomputes the header's status from its lines, saves it and returns the reservation."""
    await session.flush()
    lines = await _lines(session, header.key)
    count = {s: sum(1 for line in lines if line.status == s.value) for s in ReservationStatus}
    status = rules.reservation_status(
        count[ReservationStatus.HELD],
        count[ReservationStatus.COMMITTED],
        count[ReservationStatus.RELEASED],
    )
    header.status = status.value
    header.updated_at = utcnow()
    session.add(header)
    return await _existing_reservation(session, header)
