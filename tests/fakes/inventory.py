"""The inventory's store in memory, with the SQL store's conditional update written out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

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
from services.inventory.store import InventoryStore
from services.kernel.bounds import MAX_LEVEL_UNITS
from services.kernel.db import utcnow
from tests.fakes.kernel import MemoryData, MemoryStore, MemoryUnitOfWork


@dataclass
class InventoryData(MemoryData):
    locations: dict[str, Location] = field(default_factory=dict)
    skus: dict[str, Sku] = field(default_factory=dict)
    # By (SKU, location code).
    levels: dict[tuple[str, str], StockLevel] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    channels: dict[str, Channel] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    holders: dict[str, str] = field(default_factory=dict)
    adjustments: dict[str, Adjustment] = field(default_factory=dict)
    imports: dict[str, ImportOutcome | None] = field(default_factory=dict)
    # By (purchase order id, SKU): (location code, supply).
    supply: dict[tuple[str, str], tuple[str, Supply]] = field(default_factory=dict)
    # By id, which grows from 1.
    discrepancies: dict[int, Discrepancy] = field(default_factory=dict)


def _lock_order(lines: Sequence[ReservationLine]) -> tuple[ReservationLine, ...]:
    return tuple(sorted(lines, key=lambda line: (line.sku, line.location_code)))


class MemoryInventoryStore(MemoryStore[InventoryData]):
    # Locations and SKUs

    async def location(self, code: str) -> Location | None:
        return self.data.locations.get(code)

    async def locations(self, codes: Sequence[str]) -> list[Location]:
        return [
            self.data.locations[code]
            for code in sorted(self.data.locations)
            if not codes or code in codes
        ]

    async def save_location(self, location: Location) -> None:
        stored = self.data.locations.get(location.code)
        if stored is not None and stored.id != location.id:
            raise AssertionError("one location per code (a unique constraint in SQL)")
        self.data.locations[location.code] = location

    async def has_location(self, code: str) -> bool:
        return code in self.data.locations

    async def skus(self, codes: Sequence[str]) -> list[Sku]:
        return [
            self.data.skus[code] for code in sorted(self.data.skus) if not codes or code in codes
        ]

    async def save_sku(self, sku: Sku) -> None:
        self.data.skus[sku.code] = sku

    async def has_sku(self, code: str) -> bool:
        return code in self.data.skus

    async def is_a_blank(self, code: str) -> bool:
        return any(sku.made_from_sku == code for sku in self.data.skus.values())

    async def known_locations(self, codes: Sequence[str]) -> set[str]:
        return {code for code in codes if code in self.data.locations}

    async def upsert_skus(self, skus: Sequence[Sku]) -> tuple[int, int]:
        created = sum(1 for sku in skus if sku.code not in self.data.skus)
        for sku in skus:
            made_from = self.data.skus[sku.code].made_from_sku if sku.code in self.data.skus else ""
            self.data.skus[sku.code] = replace(sku, made_from_sku=made_from)
        return created, len(skus) - created

    async def claim_import(self, key: str) -> ImportOutcome | None:
        if key in self.data.imports:
            return replace(self.data.imports[key] or ImportOutcome(0, 0), replayed=True)
        self.data.imports[key] = None
        return None

    async def finish_import(self, key: str, outcome: ImportOutcome) -> None:
        self.data.imports[key] = outcome

    async def levels_to_import(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], StockLevel]:
        for key in keys:
            self.data.levels.setdefault(key, StockLevel(*key))
        return {key: self.data.levels[key] for key in keys}

    async def apply_imported(
        self, changes: Sequence[StockChange], source_id: str
    ) -> list[AppliedMovement]:
        applied = []
        for change in changes:
            if not change.delta:
                continue
            movement = Movement(
                change.row.sku,
                change.row.location_code,
                StockDelta(on_hand=change.delta),
                change.row.reason,
                SourceType.ADJUSTMENT,
                source_id,
            )
            moved = await self.move(movement)
            assert moved is not None, "a planned change keeps the invariants"
            applied.append(moved)
        return applied

    async def known_skus(self, codes: Sequence[str]) -> set[str]:
        return {code for code in codes if code in self.data.skus}

    # Stock and its ledger

    async def open_stock_level(self, sku: str, location_code: str) -> None:
        self.data.levels.setdefault((sku, location_code), StockLevel(sku, location_code))

    async def claim_adjustment(self, adjustment: Adjustment) -> Adjustment | None:
        first = self.data.adjustments.get(adjustment.key)
        if first is None:
            self.data.adjustments[adjustment.key] = adjustment
        return first

    async def move(self, movement: Movement) -> AppliedMovement | None:
        level = self.data.levels.get((movement.sku, movement.location_code))
        if level is None:
            return None  # the UPDATE matches no row
        delta = movement.delta
        after = replace(
            level,
            on_hand=level.on_hand + delta.on_hand,
            reserved=level.reserved + delta.reserved,
            in_transit=level.in_transit + delta.in_transit,
            pending_inspection=level.pending_inspection + delta.pending_inspection,
            in_repair=level.in_repair + delta.in_repair,
            promised=level.promised + delta.promised,
            version=level.version + 1,
        )
        # The SQL store's WHERE clause, condition by condition.
        states = (
            after.on_hand,
            after.reserved,
            after.in_transit,
            after.pending_inspection,
            after.in_repair,
            after.promised,
        )
        if min(states) < 0 or max(states) > MAX_LEVEL_UNITS or after.reserved > after.on_hand:
            return None
        if delta.promised > 0 and after.promised > after.in_transit:
            return None
        if movement.claims_available and level.on_hold:
            return None
        self.data.levels[(movement.sku, movement.location_code)] = after
        entry = LedgerEntry(len(self.data.ledger) + 1, movement, utcnow())
        self.data.ledger.append(entry)
        return AppliedMovement(after, entry.id)

    async def stock_levels(
        self, skus: Sequence[str], location_codes: Sequence[str]
    ) -> list[StockLevel]:
        return [
            self.data.levels[key]
            for key in sorted(self.data.levels)
            if (not skus or key[0] in skus) and (not location_codes or key[1] in location_codes)
        ]

    async def levels_at(
        self, location_code: str, first: int, after_sku: str
    ) -> tuple[list[StockLevel], bool]:
        matching = [
            self.data.levels[key]
            for key in sorted(self.data.levels)
            if key[1] == location_code and key[0] > after_sku
        ]
        return matching[:first], len(matching) > first

    def _shipping_levels(self, skus: Sequence[str]) -> list[tuple[Location, StockLevel]]:
        return [
            (self.data.locations[level.location_code], level)
            for level in (self.data.levels[key] for key in sorted(self.data.levels))
            if level.sku in skus and self.data.locations[level.location_code].ships_orders
        ]

    async def inventory_value(self) -> InventoryValue:
        value = [0, 0, 0, 0, 0]
        for level in self.data.levels.values():
            cost = self.data.skus[level.sku].unit_cost_cents
            states = (
                level.available,
                level.reserved,
                level.in_transit,
                level.pending_inspection,
                level.in_repair,
            )
            value = [total + units * cost for total, units in zip(value, states, strict=True)]
        return InventoryValue(*value)

    async def sellable_units(self, skus: Sequence[str]) -> dict[str, int]:
        sellable: dict[str, int] = {}
        for _location, level in self._shipping_levels(skus):
            sellable[level.sku] = sellable.get(level.sku, 0) + level.available
        return sellable

    async def sourcing_options(self, skus: Sequence[str]) -> list[tuple[Location, dict[str, int]]]:
        options: dict[str, tuple[Location, dict[str, int]]] = {}
        for location, level in self._shipping_levels(skus):
            if level.available > 0:
                options.setdefault(location.code, (location, {}))[1][level.sku] = level.available
        return [options[code] for code in sorted(options)]

    async def backorder_options(self, skus: Sequence[str]) -> list[tuple[Location, dict[str, int]]]:
        options: dict[str, tuple[Location, dict[str, int]]] = {}
        for location, level in self._shipping_levels(skus):
            if level.in_transit > level.promised:
                units = level.in_transit - level.promised
                options.setdefault(location.code, (location, {}))[1][level.sku] = units
        return [options[code] for code in sorted(options)]

    async def recent_movements(self, sku: str, location_code: str, limit: int) -> list[LedgerEntry]:
        entries = [
            entry
            for entry in reversed(self.data.ledger)
            if (entry.movement.sku, entry.movement.location_code) == (sku, location_code)
        ]
        return entries[:limit]

    async def ledger(self) -> list[Movement]:
        return [entry.movement for entry in self.data.ledger]

    # Counts and their discrepancies

    async def levels_to_count(
        self, location_code: str, skus: Sequence[str] | None
    ) -> list[StockLevel]:
        return [
            level
            for (sku, location), level in sorted(self.data.levels.items())
            if location == location_code and (skus is None or sku in skus)
        ]

    async def set_hold(self, sku: str, location_code: str, on_hold: bool) -> StockLevel:
        before = self.data.levels[(sku, location_code)]
        level = replace(before, on_hold=on_hold, version=before.version + 1)
        self.data.levels[(sku, location_code)] = level
        return level

    async def open_discrepancies(
        self, location_code: str, skus: Sequence[str] | None
    ) -> dict[str, Discrepancy]:
        return {
            found.sku: found
            for found in self.data.discrepancies.values()
            if found.location_code == location_code
            and found.status is DiscrepancyStatus.OPEN
            and (skus is None or found.sku in skus)
        }

    async def add_discrepancy(self, discrepancy: Discrepancy) -> Discrepancy:
        stored = replace(discrepancy, id=len(self.data.discrepancies) + 1)
        self.data.discrepancies[stored.id] = stored
        return stored

    async def save_discrepancy(self, discrepancy: Discrepancy) -> None:
        self.data.discrepancies[discrepancy.id] = discrepancy

    async def discrepancy_to_resolve(self, discrepancy_id: int) -> Discrepancy | None:
        return self.data.discrepancies.get(discrepancy_id)

    async def discrepancies(
        self, location_code: str, status: DiscrepancyStatus | None, after: int, limit: int
    ) -> list[Discrepancy]:
        return [
            found
            for found in sorted(self.data.discrepancies.values(), key=lambda x: -x.id)
            if (not location_code or found.location_code == location_code)
            and (status is None or found.status is status)
            and (not after or found.id < after)
        ][:limit]

    # Channels

    async def safety_stock(self, channel: str, skus: Sequence[str]) -> tuple[int, dict[str, int]]:
        found = self.data.channels.get(channel)
        if found is None:
            return 0, {}
        overrides = {item.sku: item.units for item in found.safety_stock if item.sku in skus}
        return found.default_safety_stock, overrides

    async def save_channel(self, channel: Channel) -> None:
        if len({item.sku for item in channel.safety_stock}) != len(channel.safety_stock):
            raise AssertionError("one safety stock per channel and SKU (a primary key in SQL)")
        self.data.channels[channel.code] = channel

    async def safety_stock_overrides(self, channel: str) -> dict[str, int]:
        found = self.data.channels.get(channel)
        return {item.sku: item.units for item in found.safety_stock} if found else {}

    async def channel(self, code: str) -> Channel | None:
        found = self.data.channels.get(code)
        return replace(found, safety_stock=()) if found else None

    # Supply on purchase orders

    async def expect_supply(
        self,
        purchase_order_id: str,
        location_code: str,
        lines: Sequence[tuple[str, int]],
        expected_at: datetime | None,
    ) -> None:
        for sku, units in lines:
            self.data.supply.setdefault(
                (purchase_order_id, sku), (location_code, Supply(expected_at, units))
            )

    async def supply_received(self, purchase_order_id: str, sku: str, units: int) -> None:
        found = self.data.supply.get((purchase_order_id, sku))
        if found is not None:
            location_code, supply = found
            left = replace(supply, units=max(0, supply.units - units))
            self.data.supply[(purchase_order_id, sku)] = (location_code, left)

    async def supply_cancelled(self, purchase_order_id: str) -> None:
        for key in [k for k in self.data.supply if k[0] == purchase_order_id]:
            del self.data.supply[key]

    async def supply(self, sku: str, location_code: str) -> list[Supply]:
        return [
            supply
            for (_po, line_sku), (where, supply) in self.data.supply.items()
            if (line_sku, where) == (sku, location_code) and supply.units > 0
        ]

    async def backorders(self, sku: str, location_code: str) -> list[tuple[str, int]]:
        # Reservations in the order they were claimed: oldest first.
        return [
            (key, line.quantity)
            for key, reservation in self.data.reservations.items()
            for line in reservation.promised
            if (line.sku, line.location_code) == (sku, location_code)
        ]

    async def fill_promise(self, key: str, sku: str, location_code: str, units: int) -> None:
        reservation = self.data.reservations[key]
        promised = Counter({(x.sku, x.location_code): x.quantity for x in reservation.promised})
        held = Counter({(x.sku, x.location_code): x.quantity for x in reservation.held})
        if promised[(sku, location_code)] < units:
            raise LookupError(f"reservation {key} has not promised {units} {sku}")
        promised[(sku, location_code)] -= units
        held[(sku, location_code)] += units
        self.data.reservations[key] = replace(
            reservation, held=_lines(held), promised=_lines(promised)
        )

    # Reservations

    async def reservation(self, key: str) -> Reservation | None:
        return self.data.reservations.get(key)

    async def reservation_to_settle(self, key: str) -> Reservation | None:
        # One unit of work at a time here: nothing to lock.
        return self.data.reservations.get(key)

    async def claim_reservation(
        self, key: str, holder_type: str, status: ReservationStatus
    ) -> bool:
        if key in self.data.reservations:
            return False
        self.data.reservations[key] = Reservation(key, status)
        self.data.holders[key] = holder_type
        return True

    async def add_reservation_line(
        self, key: str, line: ReservationLine, promised: bool = False
    ) -> None:
        reservation = self.data.reservations[key]
        if (line.sku, line.location_code) in _units(reservation):
            raise AssertionError("one line per SKU and location (a primary key in SQL)")
        if promised:
            added = replace(reservation, promised=_lock_order([*reservation.promised, line]))
        else:
            added = replace(reservation, held=_lock_order([*reservation.held, line]))
        self.data.reservations[key] = added

    async def save_reservation(self, reservation: Reservation) -> None:
        stored = self.data.reservations[reservation.key]
        if _units(stored) != _units(reservation):
            raise AssertionError("a reservation's lines never change once reserved")
        self.data.reservations[reservation.key] = reservation

    async def remake_held(self, key: str, used: ReservationLine, made: ReservationLine) -> None:
        reservation = self.data.reservations[key]
        held = {(x.sku, x.location_code): x.quantity for x in reservation.held}
        if held.get((used.sku, used.location_code), 0) < used.quantity:
            raise LookupError(f"reservation {key} does not hold {used}")
        held[(used.sku, used.location_code)] -= used.quantity
        held[(made.sku, made.location_code)] = (
            held.get((made.sku, made.location_code), 0) + made.quantity
        )
        lines = [ReservationLine(sku, loc, units) for (sku, loc), units in held.items() if units]
        self.data.reservations[key] = replace(reservation, held=_lock_order(lines))


def _units(reservation: Reservation) -> Counter[tuple[str, str]]:
    """Units per (SKU, location) in every state: what a reservation's rows hold in SQL."""
    units: Counter[tuple[str, str]] = Counter()
    for line in (
        *reservation.held,
        *reservation.committed,
        *reservation.released,
        *reservation.promised,
    ):
        units[(line.sku, line.location_code)] += line.quantity
    return units


def _lines(units: Counter[tuple[str, str]]) -> tuple[ReservationLine, ...]:
    return _lock_order([ReservationLine(sku, loc, n) for (sku, loc), n in units.items() if n > 0])


def memory_uow() -> MemoryUnitOfWork[InventoryStore, InventoryData]:
    return MemoryUnitOfWork(InventoryData(), MemoryInventoryStore)
