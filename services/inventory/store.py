"""The inventory's store: the port its use cases call, and its queries over its own tables
(`tables.py`; no other service's data)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Dialect, Table, bindparam, delete, func, insert, update
from sqlalchemy import select as core_select
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.inventory.domain.imports import ImportOutcome, StockChange
from services.inventory.domain.model import (
    Adjustment,
    AppliedMovement,
    Channel,
    Discrepancy,
    DiscrepancyStatus,
    InventoryValue,
    LedgerEntry,
    Location,
    Movement,
    Reservation,
    ReservationLine,
    ReservationStatus,
    Sku,
    SourceType,
    StockDelta,
    StockLevel,
    Supply,
)
from services.inventory.tables import (
    TABLES,
    ChannelRow,
    ChannelSafetyStockRow,
    LocationRow,
    ReservationLineRow,
    ReservationRow,
    SkuRow,
    StockAdjustmentRow,
    StockDiscrepancyRow,
    StockImportRecordRow,
    StockLevelRow,
    StockMovementRow,
    SupplyRow,
)
from services.kernel.bounds import MAX_LEVEL_UNITS
from services.kernel.db import insert_ignoring_conflict, select_in, utcnow
from services.kernel.unit_of_work import SqlStore, Store

__all__ = ["PRODUCER", "TABLES", "InventoryStore", "SqlInventoryStore"]

PRODUCER = "inventory"


class InventoryStore(Store, Protocol):
    """What the inventory's use cases ask of their storage, in one unit of work."""

    # Locations and SKUs

    async def location(self, code: str) -> Location | None:
        """The location with this code, if any."""
        ...

    async def locations(self, codes: Sequence[str]) -> list[Location]:
        """The locations with these codes (all of them when none is named), by code."""
        ...

    async def save_location(self, location: Location) -> None:
        """Stores the location under its id, replacing what was stored."""
        ...

    async def has_location(self, code: str) -> bool: ...

    async def skus(self, codes: Sequence[str]) -> list[Sku]:
        """The SKUs with these codes (all of them when none is named), by code."""
        ...

    async def save_sku(self, sku: Sku) -> None:
        """Stores the SKU under its code, replacing what was stored."""
        ...

    async def has_sku(self, code: str) -> bool: ...

    async def is_a_blank(self, code: str) -> bool:
        """Whether some SKU is made to order from this one."""
        ...

    async def known_skus(self, codes: Sequence[str]) -> set[str]:
        """The codes among these that name a SKU."""
        ...

    async def known_locations(self, codes: Sequence[str]) -> set[str]:
        """The codes among these that name a location."""
        ...

    async def upsert_skus(self, skus: Sequence[Sku]) -> tuple[int, int]:
        """Stores each SKU under its code (made-to-order declarations as they were), in a few
        statements whatever their number; (created, updated)."""
        ...

    # Bulk stock imports

    async def claim_import(self, key: str) -> ImportOutcome | None:
        """Claims the import's key for this unit of work: None when this call claimed it, else
        what the import that holds it did (see `claim_adjustment`)."""
        ...

    async def finish_import(self, key: str, outcome: ImportOutcome) -> None: ...

    async def levels_to_import(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], StockLevel]:
        """The levels at these (SKU, location) keys, each opened at zero when new and locked
        for the rest of the unit of work (taken in key order)."""
        ...

    async def apply_imported(
        self, changes: Sequence[StockChange], source_id: str
    ) -> list[AppliedMovement]:
        """Sets each changed level's on hand (version one more) and appends its ledger row,
        in a few statements whatever their number. The levels must be those `levels_to_import`
        locked in this unit of work, so nothing changed them in between."""
        ...

    # Stock and its ledger

    async def open_stock_level(self, sku: str, location_code: str) -> None:
        """Makes sure the SKU has a level at the location (at zero when new), so a movement
        has a level to change; harmless when one exists or is being created concurrently."""
        ...

    async def claim_adjustment(self, adjustment: Adjustment) -> Adjustment | None:
        """Claims the adjustment's idempotency key for this unit of work: None when this call
        claimed it, else the adjustment that holds it. Of concurrent claims of one key exactly
        one wins; the others wait for the winner's unit of work to end, then find its claim
        (or, when it was rolled back, claim the key themselves)."""
        ...

    async def move(self, movement: Movement) -> AppliedMovement | None:
        """Applies the movement to its level and appends it to the ledger, atomically.

        None, with nothing changed, when the level does not exist or the movement would take
        a state below zero or above MAX_LEVEL_UNITS, or reserved above on hand: the check and
        the change are one step,
        so no concurrent unit of work can spend the same units in between. Units of work
        that move several levels move them in (SKU, location) order.
        """
        ...

    async def stock_levels(
        self, skus: Sequence[str], location_codes: Sequence[str]
    ) -> list[StockLevel]:
        """Levels matching both filters (an empty one matches all), by SKU then location."""
        ...

    async def levels_at(
        self, location_code: str, first: int, after_sku: str
    ) -> tuple[list[StockLevel], bool]:
        """At most `first` levels at the location, by SKU, past `after_sku` when given; and
        whether more follow."""
        ...

    async def inventory_value(self) -> InventoryValue:
        """Every level's units in each state at its SKU's unit cost, summed."""
        ...

    async def sellable_units(self, skus: Sequence[str]) -> dict[str, int]:
        """Available units per SKU summed over the locations that ship orders; a SKU without
        a level at any such location is left out."""
        ...

    async def sourcing_options(self, skus: Sequence[str]) -> list[tuple[Location, dict[str, int]]]:
        """Each location that ships orders and has available units of the SKUs, by code, with
        those units per SKU (SKUs in code order, only those with units)."""
        ...

    async def backorder_options(self, skus: Sequence[str]) -> list[tuple[Location, dict[str, int]]]:
        """`sourcing_options` for units in transit not yet promised to backorders."""
        ...

    async def recent_movements(self, sku: str, location_code: str, limit: int) -> list[LedgerEntry]:
        """The latest `limit` ledger entries of one level, newest first."""
        ...

    async def ledger(self) -> list[Movement]:
        """Every movement ever applied, in the order applied."""
        ...

    # Counts and their discrepancies

    async def levels_to_count(
        self, location_code: str, skus: Sequence[str] | None
    ) -> list[StockLevel]:
        """The location's levels of these SKUs (None: all of its levels), by SKU, each locked
        until the unit of work ends: a reservation or shipment of them waits for the count's
        verdict, and the on hand compared is the one the hold applies to."""
        ...

    async def set_hold(self, sku: str, location_code: str, on_hold: bool) -> StockLevel:
        """Holds the existing level back from sale (or lifts that); the level after it."""
        ...

    async def open_discrepancies(
        self, location_code: str, skus: Sequence[str] | None
    ) -> dict[str, Discrepancy]:
        """The OPEN discrepancy of each of these SKUs (None: any) at the location, by SKU."""
        ...

    async def add_discrepancy(self, discrepancy: Discrepancy) -> Discrepancy:
        """Stores a new discrepancy; it, with the id it was given (ids grow in time)."""
        ...

    async def save_discrepancy(self, discrepancy: Discrepancy) -> None:
        """Stores a stored discrepancy's status and resolution time."""
        ...

    async def discrepancy_to_resolve(self, discrepancy_id: int) -> Discrepancy | None:
        """The discrepancy, locked until the unit of work ends, so two decisions take turns."""
        ...

    async def discrepancies(
        self, location_code: str, status: DiscrepancyStatus | None, after: int, limit: int
    ) -> list[Discrepancy]:
        """At most `limit` discrepancies (of the location and status when given), newest
        first, of ids below `after` when it is not 0."""
        ...

    # Channels

    async def safety_stock(self, channel: str, skus: Sequence[str]) -> tuple[int, dict[str, int]]:
        """The channel's default safety stock (0 for a channel never set up) and the units it
        holds back of those SKUs that have their own."""
        ...

    async def save_channel(self, channel: Channel) -> None:
        """Stores the channel; its per-SKU safety stock replaces what it had."""
        ...

    async def channel(self, code: str) -> Channel | None:
        """The channel as set up (its safety stock overrides left out); None when never set."""
        ...

    async def safety_stock_overrides(self, channel: str) -> dict[str, int]:
        """Every SKU's safety stock override on the channel."""
        ...

    # Supply on purchase orders

    async def expect_supply(
        self,
        purchase_order_id: str,
        location_code: str,
        lines: Sequence[tuple[str, int]],
        expected_at: datetime | None,
    ) -> None:
        """Notes the (SKU, units) a purchase order brings to the location; once per order."""
        ...

    async def supply_received(self, purchase_order_id: str, sku: str, units: int) -> None:
        """Fewer units of the order's SKU still to come (never below zero)."""
        ...

    async def supply_cancelled(self, purchase_order_id: str) -> None:
        """The order's units will not come."""
        ...

    async def supply(self, sku: str, location_code: str) -> list[Supply]:
        """The units of the SKU still to come to the location, per purchase order line."""
        ...

    async def backorders(self, sku: str, location_code: str) -> list[tuple[str, int]]:
        """(key, units promised) of the reservations promised units of the SKU at the location,
        oldest reservation first, each line locked until the unit of work ends."""
        ...

    async def fill_promise(self, key: str, sku: str, location_code: str, units: int) -> None:
        """`units` of the key's promise at the level are held now."""
        ...

    # Reservations

    async def reservation(self, key: str) -> Reservation | None:
        """The reservation under this key with its lines by state, each in (SKU, location)
        order; None when the key was never used."""
        ...

    async def reservation_to_settle(self, key: str) -> Reservation | None:
        """`reservation`, held until the unit of work ends, for releasing or committing it.

        Two units of work settling one key take turns, and the second reads the lines as the
        first left them, so it cannot give back or ship the same units again (which would
        spend another reservation's hold on the level).
        """
        ...

    async def claim_reservation(
        self, key: str, holder_type: str, status: ReservationStatus
    ) -> bool:
        """Stores a reservation without lines under the key, unless the key is taken; True
        when this call claimed it. Of concurrent claims of one key exactly one wins, and the
        others return False once the winner's unit of work has ended."""
        ...

    async def add_reservation_line(
        self, key: str, line: ReservationLine, promised: bool = False
    ) -> None:
        """Adds a HELD line to the reservation this unit of work claimed; all of its units
        promised (a backorder) when `promised`."""
        ...

    async def save_reservation(self, reservation: Reservation) -> None:
        """Stores the reservation's status and the state of each of its lines (the lines
        themselves never change once reserved, but by `remake_held`)."""
        ...

    async def remake_held(self, key: str, used: ReservationLine, made: ReservationLine) -> None:
        """Made to order: `used` units held under the key (blanks) were turned into `made`
        units, which the key now holds in their place. The one change to a reservation's lines
        after reserving: the used line shrinks (gone at zero) and the made line grows."""
        ...


class SqlInventoryStore(SqlStore):
    """The inventory's store over its own database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, PRODUCER)

    # Locations and SKUs

    async def location(self, code: str) -> Location | None:
        statement = select(LocationRow).where(LocationRow.code == code)
        row = (await self.session.exec(statement)).first()
        return row.to_domain() if row else None

    async def locations(self, codes: Sequence[str]) -> list[Location]:
        if codes:
            found = await self.session.exec(_LOCATIONS_BY_CODE, params={"codes": list(codes)})
        else:
            found = await self.session.exec(select(LocationRow).order_by(col(LocationRow.code)))
        return [row.to_domain() for row in found.all()]

    async def save_location(self, location: Location) -> None:
        fields = asdict(location) | {"kind": location.kind.value, "updated_at": utcnow()}
        row = await self.session.get(LocationRow, location.id)
        if row is None:
            row = LocationRow.model_validate({"id": location.id, **fields})
        else:
            row.sqlmodel_update(fields)
        self.session.add(row)

    async def has_location(self, code: str) -> bool:
        statement = select(LocationRow.id).where(LocationRow.code == code)
        return (await self.session.exec(statement)).first() is not None

    async def skus(self, codes: Sequence[str]) -> list[Sku]:
        if codes:
            found = await self.session.exec(_SKUS_BY_CODE, params={"codes": list(codes)})
        else:
            found = await self.session.exec(select(SkuRow).order_by(col(SkuRow.code)))
        return [row.to_domain() for row in found.all()]

    async def save_sku(self, sku: Sku) -> None:
        row = await self.session.get(SkuRow, sku.code) or SkuRow(
            code=sku.code, title=sku.title, unit_cost_cents=0, weight_grams=0
        )
        row.title, row.unit_cost_cents = sku.title, sku.unit_cost_cents
        row.weight_grams, row.serialized = sku.weight_grams, sku.serialized
        row.made_from_sku = sku.made_from_sku or None
        row.updated_at = utcnow()
        self.session.add(row)

    async def has_sku(self, code: str) -> bool:
        return await self.session.get(SkuRow, code) is not None

    async def is_a_blank(self, code: str) -> bool:
        statement = select(SkuRow.code).where(SkuRow.made_from_sku == code).limit(1)
        return (await self.session.exec(statement)).first() is not None

    async def known_skus(self, codes: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for part in _chunks(codes):
            statement = select(SkuRow.code).where(col(SkuRow.code).in_(part))
            found.update((await self.session.exec(statement)).all())
        return found

    async def known_locations(self, codes: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for part in _chunks(codes):
            statement = select(LocationRow.code).where(col(LocationRow.code).in_(part))
            found.update((await self.session.exec(statement)).all())
        return found

    async def upsert_skus(self, skus: Sequence[Sku]) -> tuple[int, int]:
        existing = await self.known_skus([sku.code for sku in skus])
        connection = await self.session.connection()
        table = SkuRow.__table__  # type: ignore[attr-defined]  # SQLModel does not declare it
        now = utcnow()
        rows = [
            {
                "code": sku.code,
                "title": sku.title,
                "unit_cost_cents": sku.unit_cost_cents,
                "weight_grams": sku.weight_grams,
                "serialized": sku.serialized,
                "updated_at": now,
            }
            for sku in skus
        ]
        new = [row for row in rows if row["code"] not in existing]
        if new:
            await connection.execute(insert(table), new)
        old = [
            {f"new_{name}": value for name, value in row.items()}
            for row in rows
            if row["code"] in existing
        ]
        if old:
            statement = (
                update(table)
                .where(table.c.code == bindparam("new_code"))
                .values(
                    title=bindparam("new_title"),
                    unit_cost_cents=bindparam("new_unit_cost_cents"),
                    weight_grams=bindparam("new_weight_grams"),
                    serialized=bindparam("new_serialized"),
                    updated_at=bindparam("new_updated_at"),
                )
            )
            await connection.execute(statement, old)
        return len(new), len(old)

    async def claim_import(self, key: str) -> ImportOutcome | None:
        values: dict[str, object] = {"key": key, "created_at": utcnow()}
        if await insert_ignoring_conflict(self.session, StockImportRecordRow, values):
            return None
        row = await self.session.get(StockImportRecordRow, key)
        if row is None:
            raise LookupError(f"import key {key!r} conflicts but is not stored")
        return ImportOutcome(row.rows, row.levels_changed, replayed=True)

    async def finish_import(self, key: str, outcome: ImportOutcome) -> None:
        t = StockImportRecordRow
        await self.session.exec(
            update(t)
            .where(col(t.key) == key)
            .values(rows=outcome.rows, levels_changed=outcome.levels_changed)
        )

    async def levels_to_import(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], StockLevel]:
        if not keys:
            return {}
        connection = await self.session.connection()
        table = StockLevelRow.__table__  # type: ignore[attr-defined]  # SQLModel does not declare it
        statements = _import_statements(connection.dialect.paramstyle)
        await connection.exec_driver_sql(statements.open_level, sorted(keys))
        wanted = set(keys)
        # Only the import's locations: the lock must not reach a SKU's levels elsewhere.
        locations = sorted({location for _, location in keys})
        levels: dict[tuple[str, str], StockLevel] = {}
        for part in _chunks(sorted({sku for sku, _ in keys})):
            statement = (
                core_select(
                    table.c.sku, table.c.location_code, *cast("tuple[Any, ...]", _LEVEL_STATES)
                )
                .where(table.c.sku.in_(part), table.c.location_code.in_(locations))
                .order_by(table.c.sku, table.c.location_code)
                .with_for_update()
            )
            for sku, location, *states in await connection.execute(statement):
                if (sku, location) in wanted:
                    levels[(sku, location)] = StockLevel(sku, location, *states)
        return levels

    async def apply_imported(
        self, changes: Sequence[StockChange], source_id: str
    ) -> list[AppliedMovement]:
        moved = [change for change in changes if change.delta]
        if not moved:
            return []
        connection = await self.session.connection()
        ledger = StockMovementRow.__table__  # type: ignore[attr-defined]  # SQLModel does not declare it
        statements = _import_statements(connection.dialect.paramstyle)
        await connection.exec_driver_sql(
            statements.set_on_hand,
            [(c.before.on_hand + c.delta, c.before.sku, c.before.location_code) for c in moved],
        )
        occurred_at = _bound(ledger.c.occurred_at, connection.dialect, utcnow())
        source_type = SourceType.ADJUSTMENT.value
        # One executemany without RETURNING (with it, SQLite inserts row by row), then the ids
        # it took, in order: above the highest before it, under this import's source id.
        before = (await connection.execute(core_select(func.max(ledger.c.id)))).scalar() or 0
        await connection.exec_driver_sql(
            statements.append_to_ledger,
            [
                (
                    c.before.sku,
                    c.before.location_code,
                    c.delta,
                    c.row.reason,
                    source_type,
                    source_id,
                    occurred_at,
                )
                for c in moved
            ],
        )
        taken = (
            core_select(ledger.c.id)
            .where(ledger.c.id > before, ledger.c.source_id == source_id)
            .order_by(ledger.c.id)
        )
        ids = (await connection.execute(taken)).scalars()
        return [
            AppliedMovement(_moved_level(c.before, c.delta), movement_id)
            for c, movement_id in zip(moved, ids, strict=True)
        ]

    # Stock and its ledger

    async def open_stock_level(self, sku: str, location_code: str) -> None:
        values: dict[str, object] = {"sku": sku, "location_code": location_code}
        await insert_ignoring_conflict(self.session, StockLevelRow, values)

    async def claim_adjustment(self, adjustment: Adjustment) -> Adjustment | None:
        values: dict[str, object] = {
            "key": adjustment.key,
            "sku": adjustment.sku,
            "location_code": adjustment.location_code,
            "delta": adjustment.delta,
            "created_at": utcnow(),
        }
        if await insert_ignoring_conflict(self.session, StockAdjustmentRow, values):
            return None
        # A claim that conflicts has met a committed row (PostgreSQL waits for the other
        # claim's unit of work to end; SQLite has one writer at a time).
        row = await self.session.get(StockAdjustmentRow, adjustment.key)
        if row is None:
            raise LookupError(f"adjustment key {adjustment.key!r} conflicts but is not stored")
        return Adjustment(row.key, row.sku, row.location_code, row.delta)

    async def move(self, movement: Movement) -> AppliedMovement | None:
        """Applies the movement's delta in one conditional UPDATE, then appends its ledger row;
        None (nothing written) when the level would break an invariant.

        The condition is evaluated on the row as it is when the update takes its lock
        (PostgreSQL re-checks it after waiting; SQLite has one writer at a time), so a read of
        "enough units" can never go stale between the check and the write. Callers that move
        several levels take them in (SKU, location) order, so two reservations touching the
        same levels never wait on each other in a cycle.
        """
        level = await self._apply_delta_atomically(movement)
        if level is None:
            return None
        connection = await self.session.connection()
        ledger_row = {
            "sku": movement.sku,
            "location_code": movement.location_code,
            **_delta_columns(movement.delta),
            "reason": movement.reason,
            "source_type": movement.source_type.value,
            "source_id": movement.source_id,
            "occurred_at": utcnow(),
        }
        movement_id = (await connection.execute(_append_to_ledger(), ledger_row)).scalar_one()
        return AppliedMovement(level, movement_id)

    async def _apply_delta_atomically(self, movement: Movement) -> StockLevel | None:
        """The level after the movement's delta, applied only if every state stays at or above
        zero and reserved within on hand, and a new promise within what is in transit (see
        `move`): the same conditional update that makes reservations race-safe makes
        backorders so.

        Only a movement that promises more is held to in transit: a receipt takes units off
        in transit before the same unit of work fills the promises they served, and a cancelled
        purchase order leaves its promises waiting for the next one.

        A level on hold (a count's open discrepancy) takes no new reservation nor a work order's
        consumption (`Movement.claims_available`): the hold and the reservation both write
        the level's row, so whichever comes second sees the first."""
        delta = movement.delta
        statement = _apply_delta(delta.promised > 0, movement.claims_available)
        params = {
            "level_sku": movement.sku,
            "level_location": movement.location_code,
            **_delta_columns(delta),
        }
        connection = await self.session.connection()
        row = (await connection.execute(statement, params)).first()
        if row is None:
            return None
        return StockLevel(movement.sku, movement.location_code, *row)

    async def stock_levels(
        self, skus: Sequence[str], location_codes: Sequence[str]
    ) -> list[StockLevel]:
        statement = select(StockLevelRow).order_by(
            col(StockLevelRow.sku), col(StockLevelRow.location_code)
        )
        if skus:
            statement = statement.where(col(StockLevelRow.sku).in_(skus))
        if location_codes:
            statement = statement.where(col(StockLevelRow.location_code).in_(location_codes))
        return [row.to_domain() for row in (await self.session.exec(statement)).all()]

    async def levels_at(
        self, location_code: str, first: int, after_sku: str
    ) -> tuple[list[StockLevel], bool]:
        statement = select(StockLevelRow).where(StockLevelRow.location_code == location_code)
        if after_sku:
            statement = statement.where(col(StockLevelRow.sku) > after_sku)
        # One row more than asked tells whether another page follows.
        statement = statement.order_by(col(StockLevelRow.sku)).limit(first + 1)
        rows = (await self.session.exec(statement)).all()
        return [row.to_domain() for row in rows[:first]], len(rows) > first

    async def inventory_value(self) -> InventoryValue:
        level, cost = StockLevelRow, col(SkuRow.unit_cost_cents)
        states = (
            col(level.on_hand) - col(level.reserved),
            col(level.reserved),
            col(level.in_transit),
            col(level.pending_inspection),
            col(level.in_repair),
        )
        statement = select(*(func.coalesce(func.sum(s * cost), 0) for s in states)).join(
            SkuRow, col(SkuRow.code) == col(level.sku)
        )
        # One row of five sums (the stub types a multi-column select's row as its first column).
        row = cast(tuple[int, ...], (await self.session.exec(statement)).one())
        return InventoryValue(*(int(cents) for cents in row))

    async def sellable_units(self, skus: Sequence[str]) -> dict[str, int]:
        level, location = StockLevelRow, LocationRow
        statement = (
            select(level.sku, func.sum(col(level.on_hand) - col(level.reserved)))
            .join(location, col(location.code) == col(level.location_code))
            .where(
                col(level.sku).in_(skus),
                col(location.ships_orders).is_(True),
                col(level.on_hold).is_(False),
            )
            .group_by(col(level.sku))
        )
        return {sku: int(units) for sku, units in (await self.session.exec(statement)).all()}

    async def sourcing_options(self, skus: Sequence[str]) -> list[tuple[Location, dict[str, int]]]:
        found = await self.session.exec(_SOURCING_OPTIONS, params={"skus": list(skus)})
        options: dict[str, tuple[Location, dict[str, int]]] = {}
        for row, sku, units in found.all():
            entry = options.setdefault(row.code, (row.to_domain(), {}))
            entry[1][sku] = int(units)
        return list(options.values())

    async def backorder_options(self, skus: Sequence[str]) -> list[tuple[Location, dict[str, int]]]:
        level, location = StockLevelRow, LocationRow
        unpromised = col(level.in_transit) - col(level.promised)
        statement = (
            select(location, level.sku, unpromised)
            .join(level, col(location.code) == col(level.location_code))
            .where(col(level.sku).in_(skus), col(location.ships_orders).is_(True), unpromised > 0)
            .order_by(col(location.code), col(level.sku))
        )
        options: dict[str, tuple[Location, dict[str, int]]] = {}
        for row, sku, units in (await self.session.exec(statement)).all():
            entry = options.setdefault(row.code, (row.to_domain(), {}))
            entry[1][sku] = int(units)
        return list(options.values())

    async def recent_movements(self, sku: str, location_code: str, limit: int) -> list[LedgerEntry]:
        statement = (
            select(StockMovementRow)
            .where(StockMovementRow.sku == sku, StockMovementRow.location_code == location_code)
            .order_by(col(StockMovementRow.id).desc())
            .limit(limit)
        )
        return [
            LedgerEntry(row.id or 0, _movement(row), row.occurred_at)
            for row in (await self.session.exec(statement)).all()
        ]

    async def ledger(self) -> list[Movement]:
        statement = select(StockMovementRow).order_by(col(StockMovementRow.id))
        return [_movement(row) for row in (await self.session.exec(statement)).all()]

    # Counts and their discrepancies

    async def levels_to_count(
        self, location_code: str, skus: Sequence[str] | None
    ) -> list[StockLevel]:
        # FOR UPDATE in SKU order, the order reservations lock levels in (SQLite: one writer).
        statement = (
            select(StockLevelRow)
            .where(StockLevelRow.location_code == location_code)
            .order_by(col(StockLevelRow.sku))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if skus is not None:
            statement = statement.where(col(StockLevelRow.sku).in_(skus))
        return [row.to_domain() for row in (await self.session.exec(statement)).all()]

    async def set_hold(self, sku: str, location_code: str, on_hold: bool) -> StockLevel:
        t = StockLevelRow
        statement = (
            update(t)
            .where(col(t.sku) == sku, col(t.location_code) == location_code)
            .values(on_hold=on_hold, version=col(t.version) + 1)
            .returning(*_LEVEL_STATES)  # type: ignore[call-overload]  # sqlmodel's exec() lacks it
        )
        row = (await self.session.exec(statement)).first()
        if row is None:
            raise LookupError(f"no level of {sku} at {location_code} to hold")
        return StockLevel(sku, location_code, *row)

    async def open_discrepancies(
        self, location_code: str, skus: Sequence[str] | None
    ) -> dict[str, Discrepancy]:
        row = StockDiscrepancyRow
        statement = select(row).where(
            row.location_code == location_code, row.status == DiscrepancyStatus.OPEN.value
        )
        if skus is not None:
            statement = statement.where(col(row.sku).in_(skus))
        return {found.sku: found.to_domain() for found in (await self.session.exec(statement))}

    async def add_discrepancy(self, discrepancy: Discrepancy) -> Discrepancy:
        fields = asdict(discrepancy) | {"status": discrepancy.status.value}
        row = StockDiscrepancyRow.model_validate({**fields, "id": None})
        self.session.add(row)
        await self.session.flush()
        return row.to_domain()

    async def save_discrepancy(self, discrepancy: Discrepancy) -> None:
        row = await self.session.get(StockDiscrepancyRow, discrepancy.id)
        if row is None:
            raise LookupError(f"no discrepancy {discrepancy.id} to save")
        row.status = discrepancy.status.value
        row.resolved_at = discrepancy.resolved_at
        self.session.add(row)

    async def discrepancy_to_resolve(self, discrepancy_id: int) -> Discrepancy | None:
        statement = (
            select(StockDiscrepancyRow)
            .where(StockDiscrepancyRow.id == discrepancy_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row = (await self.session.exec(statement)).first()
        return row.to_domain() if row else None

    async def discrepancies(
        self, location_code: str, status: DiscrepancyStatus | None, after: int, limit: int
    ) -> list[Discrepancy]:
        row = StockDiscrepancyRow
        statement = select(row).order_by(col(row.id).desc()).limit(limit)
        if location_code:
            statement = statement.where(row.location_code == location_code)
        if status is not None:
            statement = statement.where(row.status == status.value)
        if after:
            statement = statement.where(col(row.id) < after)
        return [found.to_domain() for found in (await self.session.exec(statement)).all()]

    # Channels

    async def safety_stock(self, channel: str, skus: Sequence[str]) -> tuple[int, dict[str, int]]:
        row = await self.session.get(ChannelRow, channel)
        statement = select(ChannelSafetyStockRow).where(
            ChannelSafetyStockRow.channel == channel, col(ChannelSafetyStockRow.sku).in_(skus)
        )
        overrides = {item.sku: item.units for item in (await self.session.exec(statement)).all()}
        return (row.default_safety_stock if row else 0), overrides

    async def save_channel(self, channel: Channel) -> None:
        row = await self.session.get(ChannelRow, channel.code) or ChannelRow(code=channel.code)
        row.default_safety_stock = channel.default_safety_stock
        row.allow_backorders = channel.allow_backorders
        self.session.add(row)
        # The channel row first: its safety stock rows refer to it.
        await self.session.flush()
        await self.session.exec(
            delete(ChannelSafetyStockRow).where(col(ChannelSafetyStockRow.channel) == channel.code)
        )
        for item in channel.safety_stock:
            self.session.add(
                ChannelSafetyStockRow(channel=channel.code, sku=item.sku, units=item.units)
            )

    async def safety_stock_overrides(self, channel: str) -> dict[str, int]:
        statement = select(ChannelSafetyStockRow).where(ChannelSafetyStockRow.channel == channel)
        return {item.sku: item.units for item in (await self.session.exec(statement)).all()}

    async def channel(self, code: str) -> Channel | None:
        row = await self.session.get(ChannelRow, code)
        return (
            Channel(row.code, row.default_safety_stock, (), row.allow_backorders) if row else None
        )

    # Supply on purchase orders

    async def expect_supply(
        self,
        purchase_order_id: str,
        location_code: str,
        lines: Sequence[tuple[str, int]],
        expected_at: datetime | None,
    ) -> None:
        for sku, units in lines:
            values: dict[str, object] = {
                "purchase_order_id": purchase_order_id,
                "sku": sku,
                "location_code": location_code,
                "units": units,
                "expected_at": expected_at,
            }
            await insert_ignoring_conflict(self.session, SupplyRow, values)

    async def supply_received(self, purchase_order_id: str, sku: str, units: int) -> None:
        row = await self.session.get(SupplyRow, (purchase_order_id, sku))
        if row is not None:
            row.units = max(0, row.units - units)
            self.session.add(row)

    async def supply_cancelled(self, purchase_order_id: str) -> None:
        await self.session.exec(
            delete(SupplyRow).where(col(SupplyRow.purchase_order_id) == purchase_order_id)
        )

    async def supply(self, sku: str, location_code: str) -> list[Supply]:
        await self.session.flush()
        statement = select(SupplyRow).where(
            SupplyRow.sku == sku, SupplyRow.location_code == location_code, SupplyRow.units > 0
        )
        return [Supply(r.expected_at, r.units) for r in (await self.session.exec(statement)).all()]

    async def backorders(self, sku: str, location_code: str) -> list[tuple[str, int]]:
        line, header = ReservationLineRow, ReservationRow
        statement = (
            select(line.key, line.promised)
            .join(header, col(header.key) == col(line.key))
            .where(
                line.sku == sku,
                line.location_code == location_code,
                line.status == ReservationStatus.HELD.value,
                line.promised > 0,
            )
            .order_by(col(header.created_at), col(header.key))
            .with_for_update(of=line)
        )
        return [(key, int(units)) for key, units in (await self.session.exec(statement)).all()]

    async def fill_promise(self, key: str, sku: str, location_code: str, units: int) -> None:
        row = await self.session.get(ReservationLineRow, (key, sku, location_code))
        if row is None or row.promised < units:
            raise LookupError(
                f"reservation {key} has not promised {units} {sku} at {location_code}"
            )
        row.promised -= units
        self.session.add(row)

    # Reservations

    async def reservation(self, key: str) -> Reservation | None:
        header = await self.session.get(ReservationRow, key)
        return await self._with_lines(header) if header else None

    async def reservation_to_settle(self, key: str) -> Reservation | None:
        # FOR UPDATE on PostgreSQL (SQLite has one writer at a time): a second settler waits
        # for the first to commit, then reads its header and lines afresh.
        statement = (
            select(ReservationRow)
            .where(ReservationRow.key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        header = (await self.session.exec(statement)).first()
        return await self._with_lines(header) if header else None

    async def _with_lines(self, header: ReservationRow) -> Reservation:
        by_status: dict[str, list[ReservationLine]] = {s.value: [] for s in ReservationStatus}
        promised: list[ReservationLine] = []
        for line in await self._line_rows(header.key):
            # A held line's promised units are not held yet: they are still on their way.
            waiting = line.promised if line.status == ReservationStatus.HELD.value else 0
            if line.quantity > waiting:
                by_status[line.status].append(
                    ReservationLine(line.sku, line.location_code, line.quantity - waiting)
                )
            if waiting:
                promised.append(ReservationLine(line.sku, line.location_code, waiting))
        return Reservation(
            key=header.key,
            status=ReservationStatus(header.status),
            held=tuple(by_status[ReservationStatus.HELD.value]),
            committed=tuple(by_status[ReservationStatus.COMMITTED.value]),
            released=tuple(by_status[ReservationStatus.RELEASED.value]),
            promised=tuple(promised),
        )

    async def claim_reservation(
        self, key: str, holder_type: str, status: ReservationStatus
    ) -> bool:
        now = utcnow()
        return await insert_ignoring_conflict(
            self.session,
            ReservationRow,
            {
                "key": key,
                "holder_type": holder_type,
                "status": status.value,
                "created_at": now,
                "updated_at": now,
            },
        )

    async def add_reservation_line(
        self, key: str, line: ReservationLine, promised: bool = False
    ) -> None:
        row = {
            "key": key,
            "sku": line.sku,
            "location_code": line.location_code,
            "quantity": line.quantity,
            "status": ReservationStatus.HELD.value,
            "promised": line.quantity if promised else 0,
        }
        connection = await self.session.connection()
        await connection.execute(_add_reservation_line(), row)

    async def save_reservation(self, reservation: Reservation) -> None:
        status_of = {
            (line.sku, line.location_code): status
            for status, lines in (
                (ReservationStatus.HELD, (*reservation.held, *reservation.promised)),
                (ReservationStatus.COMMITTED, reservation.committed),
                (ReservationStatus.RELEASED, reservation.released),
            )
            for line in lines
        }
        for row in await self._line_rows(reservation.key):
            row.status = status_of[(row.sku, row.location_code)].value
            if row.status != ReservationStatus.HELD.value:
                row.promised = 0  # a settled line waits for nothing
            self.session.add(row)
        header = await self.session.get(ReservationRow, reservation.key)
        if header is None:
            raise LookupError(f"no reservation {reservation.key} to save")
        header.status = reservation.status.value
        header.updated_at = utcnow()
        self.session.add(header)

    async def remake_held(self, key: str, used: ReservationLine, made: ReservationLine) -> None:
        blank = await self.session.get(ReservationLineRow, (key, used.sku, used.location_code))
        if blank is None or blank.quantity < used.quantity:
            raise LookupError(f"reservation {key} does not hold {used}")
        blank.quantity -= used.quantity
        if blank.quantity:
            self.session.add(blank)
        else:
            await self.session.delete(blank)
        row = await self.session.get(ReservationLineRow, (key, made.sku, made.location_code))
        if row is None:
            row = ReservationLineRow(
                key=key, sku=made.sku, location_code=made.location_code, quantity=0
            )
        row.quantity += made.quantity
        self.session.add(row)

    async def _line_rows(self, key: str) -> list[ReservationLineRow]:
        statement = (
            select(ReservationLineRow)
            .where(ReservationLineRow.key == key)
            .order_by(col(ReservationLineRow.sku), col(ReservationLineRow.location_code))
        )
        return list((await self.session.exec(statement)).all())


# A level's columns after `sku` and `location_code`, in StockLevel's order.
_LEVEL_STATES = (
    StockLevelRow.on_hand,
    StockLevelRow.reserved,
    StockLevelRow.in_transit,
    StockLevelRow.pending_inspection,
    StockLevelRow.in_repair,
    StockLevelRow.promised,
    StockLevelRow.on_hold,
    StockLevelRow.version,
)


# A placement asks for its SKUs, their sourcing options and its shipments' locations: these
# queries are built once, their values parameters (building them per call cost more than
# running them).
_LOCATIONS_BY_CODE = select_in(LocationRow, LocationRow.code, "codes", col(LocationRow.code))
_SKUS_BY_CODE = select_in(SkuRow, SkuRow.code, "codes", col(SkuRow.code))
_AVAILABLE = col(StockLevelRow.on_hand) - col(StockLevelRow.reserved)
_SOURCING_OPTIONS = (
    select(LocationRow, StockLevelRow.sku, _AVAILABLE)
    .join(StockLevelRow, col(LocationRow.code) == col(StockLevelRow.location_code))
    .where(
        col(StockLevelRow.sku).in_(bindparam("skus", expanding=True)),
        col(LocationRow.ships_orders).is_(True),
        col(StockLevelRow.on_hold).is_(False),
        _AVAILABLE > 0,
    )
    .order_by(col(LocationRow.code), col(StockLevelRow.sku))
)


@dataclasses.dataclass(frozen=True)
class _ImportStatements:
    """An import's executemany statements as the driver's own SQL, each row's parameters a
    tuple: SQLAlchemy's processing of each row's parameters was a third of an import's CPU.
    `open_level` opens a level at zero unless it is stored (sku, location); `set_on_hand`
    sets a level's on hand (on hand, sku, location); `append_to_ledger` adds an adjustment
    of on hand (sku, location, delta, reason, source type, source id, occurred at, the last
    as the column's type binds it)."""

    open_level: str
    set_on_hand: str
    append_to_ledger: str


@functools.cache
def _import_statements(paramstyle: str) -> _ImportStatements:
    """The statements in the driver's placeholders: SQLite's `?`, psycopg's `%s` (a KeyError
    for a driver with other placeholders, rather than SQL it cannot run)."""
    p = {"qmark": "?", "format": "%s", "pyformat": "%s"}[paramstyle]
    levels = _table(StockLevelRow).name
    ledger = _table(StockMovementRow).name
    return _ImportStatements(
        open_level=(
            f"INSERT INTO {levels} (sku, location_code, on_hand, reserved, in_transit,"
            " pending_inspection, in_repair, promised, on_hold, version)"
            f" VALUES ({p}, {p}, 0, 0, 0, 0, 0, 0, FALSE, 0) ON CONFLICT DO NOTHING"
        ),
        set_on_hand=(
            f"UPDATE {levels} SET on_hand = {p}, version = version + 1"
            f" WHERE sku = {p} AND location_code = {p}"
        ),
        append_to_ledger=(
            f"INSERT INTO {ledger} (sku, location_code, on_hand_delta, reserved_delta,"
            " in_transit_delta, pending_inspection_delta, in_repair_delta, promised_delta,"
            " reason, source_type, source_id, occurred_at)"
            f" VALUES ({p}, {p}, {p}, 0, 0, 0, 0, 0, {p}, {p}, {p}, {p})"
        ),
    )


def _bound(column: Any, dialect: Dialect, value: object) -> object:
    """`value` as SQLAlchemy binds it to `column` on `dialect`, for SQL the driver runs."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process else value


def _moved_level(before: StockLevel, on_hand_delta: int) -> StockLevel:
    """The level after an import moved its on hand (`dataclasses.replace` cost three times
    as much)."""
    return StockLevel(
        before.sku,
        before.location_code,
        before.on_hand + on_hand_delta,
        before.reserved,
        before.in_transit,
        before.pending_inspection,
        before.in_repair,
        before.promised,
        before.on_hold,
        before.version + 1,
    )


# The statements every movement runs are built once (per variant), their values parameters,
# and run as Core on the session's connection: building them per movement, and the ORM's
# synchronising of its update and flushing of the ledger row, were a sixth of inventory's CPU
# per placed order. Levels are read into domain values, never kept as rows, so no row loaded
# in the session goes stale behind the update.
@functools.cache
def _apply_delta(promises_more: bool, claims_available: bool) -> Any:
    """`_apply_delta_atomically`'s conditional UPDATE ... RETURNING for one kind of movement:
    whether it promises more (held to in transit) and whether it claims available units (held
    back by a hold). Its parameters: the level's key and the six deltas."""
    t = _table(StockLevelRow)
    new_on_hand = t.c.on_hand + bindparam("on_hand_delta")
    new_reserved = t.c.reserved + bindparam("reserved_delta")
    new_in_transit = t.c.in_transit + bindparam("in_transit_delta")
    new_pending = t.c.pending_inspection + bindparam("pending_inspection_delta")
    new_in_repair = t.c.in_repair + bindparam("in_repair_delta")
    new_promised = t.c.promised + bindparam("promised_delta")
    conditions = [
        t.c.sku == bindparam("level_sku"),
        t.c.location_code == bindparam("level_location"),
        new_on_hand.between(0, MAX_LEVEL_UNITS),
        new_reserved >= 0,
        new_reserved <= new_on_hand,
        new_in_transit.between(0, MAX_LEVEL_UNITS),
        new_pending.between(0, MAX_LEVEL_UNITS),
        new_in_repair.between(0, MAX_LEVEL_UNITS),
        new_promised.between(0, MAX_LEVEL_UNITS),
    ]
    if promises_more:
        conditions.append(new_promised <= new_in_transit)
    if claims_available:
        conditions.append(t.c.on_hold.is_(False))
    return (
        update(t)
        .where(*conditions)
        .values(
            on_hand=new_on_hand,
            reserved=new_reserved,
            in_transit=new_in_transit,
            pending_inspection=new_pending,
            in_repair=new_in_repair,
            promised=new_promised,
            version=t.c.version + 1,
        )
        .returning(*cast("tuple[Any, ...]", _LEVEL_STATES))
    )


def _delta_columns(delta: StockDelta) -> dict[str, int]:
    """The delta as the ledger's columns, which are also `_apply_delta`'s parameters."""
    return {
        "on_hand_delta": delta.on_hand,
        "reserved_delta": delta.reserved,
        "in_transit_delta": delta.in_transit,
        "pending_inspection_delta": delta.pending_inspection,
        "in_repair_delta": delta.in_repair,
        "promised_delta": delta.promised,
    }


@functools.cache
def _append_to_ledger() -> Any:
    """`move`'s ledger row insert, answering the id the row took."""
    ledger = _table(StockMovementRow)
    return insert(ledger).returning(ledger.c.id)


@functools.cache
def _add_reservation_line() -> Any:
    """`add_reservation_line`'s insert (a placement's every line; the ORM's flush of the new
    row cost more than the statement)."""
    return insert(_table(ReservationLineRow))


def _table(row: type[SQLModel]) -> Table:
    return row.__table__  # type: ignore[attr-defined,no-any-return]  # SQLModel does not declare it


def _chunks(values: Sequence[str], size: int = 5_000) -> list[Sequence[str]]:
    """Values in parts small enough for one statement's parameters on every database."""
    return [values[start : start + size] for start in range(0, len(values), size)]


def _movement(row: StockMovementRow) -> Movement:
    return Movement(
        sku=row.sku,
        location_code=row.location_code,
        delta=row.delta(),
        reason=row.reason,
        source_type=SourceType(row.source_type),
        source_id=row.source_id,
    )
