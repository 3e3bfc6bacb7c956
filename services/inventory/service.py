"""Inventory use cases: each one unit of work, each stock change a ledger row and an event.

Each use case runs in one unit of work, whose store holds the queries and records the events;
the rules come from `domain/`.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

from google.protobuf.message import Message

from oms.events.v1.inventory_pb2 import (
    BackorderFilled,
    ChannelChanged,
    FilledLine,
    LocationChanged,
    StockDiscrepancyFound,
    StockDiscrepancyResolved,
    StockImported,
    StockLevelChanged,
)
from services.inventory.domain import counts, imports, rules
from services.inventory.domain.model import (
    Adjustment,
    AppliedMovement,
    Channel,
    CountReconciliation,
    Discrepancy,
    DiscrepancyDecision,
    DiscrepancyStatus,
    InventoryValue,
    LedgerEntry,
    Location,
    LocationChange,
    Movement,
    Reservation,
    ReservationLine,
    ReservationStatus,
    SafetyStock,
    Sku,
    SourceType,
    StockCount,
    StockDelta,
    StockLevel,
)
from services.inventory.settings import InventorySettings
from services.inventory.store import InventoryStore
from services.kernel import bounds, paging
from services.kernel.bounds import MAX_CENTS, MAX_LEVEL_UNITS
from services.kernel.caller import INTERNAL, Caller, require_runs_the_business
from services.kernel.db import utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# Levels one StockImported carries (about 100 bytes each, far below NATS's message limit).
IMPORT_EVENT_LEVELS = 1_000


class InventoryService:
    """The inventory's use cases."""

    def __init__(self, uow: UnitOfWork[InventoryStore], settings: InventorySettings) -> None:
        self.uow = uow
        self._settings = settings

    # Locations and SKUs

    async def upsert_location(self, change: LocationChange) -> Location:
        change = rules.require_location_change(change)
        async with self.uow.write() as store:
            existing = await store.location(change.code)
            location = rules.upserted_location(existing, change, new_id=str(uuid.uuid4()))
            await store.save_location(location)
            store.record(LocationChanged(code=location.code, ships_orders=location.ships_orders))
        return location

    async def locations(self, codes: Sequence[str] = ()) -> list[Location]:
        codes = rules.require_codes(codes, "codes", "location codes")
        async with self.uow.read() as store:
            return await store.locations(codes)

    async def upsert_sku(
        self,
        code: str,
        title: str,
        unit_cost_cents: int,
        weight_grams: int,
        serialized: bool,
        made_from_sku: str | None = None,
    ) -> Sku:
        """Creates or replaces the SKU. `made_from_sku` declares it made to order from that
        blank ("" for stocked as itself; None keeps what was declared)."""
        code = rules.require_code(code, "code", "SKU code")
        title = rules.require_words(title, "title", "title")
        rules.require_non_negative(unit_cost_cents, "unit_cost_cents", "unit cost", MAX_CENTS)
        rules.require_non_negative(weight_grams, "weight_grams", "weight")
        if made_from_sku:
            made_from_sku = rules.require_code(made_from_sku, "made_from_sku", "SKU code")
        async with self.uow.write() as store:
            if made_from_sku is None:
                existing = await store.skus([code])
                made_from_sku = existing[0].made_from_sku if existing else ""
            elif made_from_sku:
                await _require_blank(store, code, made_from_sku)
            sku = Sku(code, title, unit_cost_cents, weight_grams, serialized, made_from_sku)
            await store.save_sku(sku)
        return sku

    async def upsert_skus(
        self, skus: Sequence[tuple[str, Sku]] = (), csv: str = ""
    ) -> tuple[int, int]:
        """Creates or replaces many SKUs in one unit of work, all or none: (created, updated).
        Each comes with its path in the request for refusals; `csv`, when given, is the file
        instead (`imports.skus_from_csv`). Made-to-order declarations stay as they were."""
        checked = imports.require_skus(imports.skus_from_csv(csv) if csv else skus)
        async with self.uow.write() as store:
            return await store.upsert_skus(checked)

    async def import_stock(
        self,
        rows: Sequence[imports.StockImportRow] = (),
        idempotency_key: str = "",
        csv: str = "",
    ) -> imports.ImportOutcome:
        """Applies many on-hand changes in one unit of work, all of them or none: every row is
        checked (codes, SKUs and locations known, on hand never below reserved) before any is
        written, a refusal names its row or file line. Each level that moves gets its ledger
        row; the levels after are published in StockImported events of up to
        IMPORT_EVENT_LEVELS each (one message per thousand levels rather than one per level:
        the gateway's feed hands each level to inventoryChanged subscribers as a change of its
        own, and the channels owe the SKUs their availability). Under an `idempotency_key`
        the import applies once."""
        checked = imports.require_stock_rows(imports.stock_rows_from_csv(csv) if csv else rows)
        if idempotency_key:
            bounds.require_text(
                idempotency_key, "idempotency_key", "idempotencyKey", bounds.MAX_KEY
            )
        import_id = str(uuid.uuid4())
        async with self.uow.write() as store:
            if idempotency_key:
                first = await store.claim_import(idempotency_key)
                if first is not None:
                    return first
            await _require_known(store, checked)
            levels = await store.levels_to_import([(r.sku, r.location_code) for r in checked])
            changes = imports.plan_stock_changes(checked, levels)
            applied = await store.apply_imported(changes, import_id)
            moved = (c for c in changes if c.delta)
            adjustment = SourceType.ADJUSTMENT
            after = [
                level_changed(done, change.row.reason, adjustment, import_id)
                for change, done in zip(moved, applied, strict=True)
            ]
            for event in _import_events(import_id, len(checked), after):
                store.record(event)
            outcome = imports.ImportOutcome(len(checked), len(applied))
            if idempotency_key:
                await store.finish_import(idempotency_key, outcome)
        return outcome

    async def skus(self, codes: Sequence[str] = ()) -> list[Sku]:
        codes = rules.require_codes(codes, "codes", "SKU codes")
        async with self.uow.read() as store:
            return await store.skus(codes)

    # Stock

    async def adjust_stock(
        self, sku: str, location_code: str, delta: int, reason: str, idempotency_key: str = ""
    ) -> StockLevel:
        """Changes on-hand units; refused when it would take on hand below what is reserved
        (INSUFFICIENT_STOCK) or above what a level holds (INVALID_QUANTITY).

        Under an `idempotency_key` it changes them once: the same key again changes nothing
        and answers the level as it is now. The key is claimed in the adjustment's own unit of
        work, so of concurrent adjustments under one key exactly one moves stock (the others
        wait for it, then find its claim), and a refused adjustment leaves the key unused.
        """
        reason = rules.require_adjustment(delta, reason, idempotency_key)
        movement = Movement(
            sku,
            location_code,
            StockDelta(on_hand=delta),
            reason,
            SourceType.ADJUSTMENT,
            str(uuid.uuid4()),
        )
        async with self.uow.write() as store:
            if idempotency_key:
                asked = Adjustment(idempotency_key, sku, location_code, delta)
                first = await store.claim_adjustment(asked)
                if first is not None:
                    rules.require_same_adjustment(first, asked)
                    return await _level(store, sku, location_code)
            await require_sku(store, sku, "sku")
            await require_location(store, location_code, "location_code")
            await store.open_stock_level(sku, location_code)
            try:
                return await move(store, movement, field="delta")
            except DomainError:
                # Adding units can only fail by going past what a level holds.
                if delta > 0:
                    raise rules.over_capacity("delta") from None
                raise

    async def apply_movements(
        self, store: InventoryStore, movements: Sequence[Movement], cause: str
    ) -> None:
        """Applies the movements an event (named by `cause`) asks for, in the caller's unit of
        work: the event consumer's, so the levels, their ledger rows and events and the
        processed-event guard commit together, and a redelivered event moves nothing twice.

        A SKU or location inventory does not know is bad data that no retry will fix, so that
        movement is logged and skipped rather than holding the stream forever. A movement that
        would break a level's invariant raises instead: its usual cause is an earlier event not
        yet applied (a redelivery out of order), which a later retry of this one will find.
        """
        for movement in movements:
            try:
                await require_sku(store, movement.sku, "sku")
                await require_location(store, movement.location_code, "location_code")
            except DomainError as error:
                log.warning("%s: %s; skipped", cause, error.message)
                continue
            await store.open_stock_level(movement.sku, movement.location_code)
            await move(store, movement)

    async def stock_levels(
        self,
        skus: Sequence[str] = (),
        location_codes: Sequence[str] = (),
        caller: Caller = INTERNAL,
    ) -> list[StockLevel]:
        """The levels of these SKUs at these locations (empty: any); a scanner reads those at
        its own location only."""
        skus = rules.require_codes(skus, "skus", "SKUs")
        location_codes = rules.require_codes(location_codes, "location_codes", "locations")
        if caller.bound_location:
            if location_codes and caller.bound_location not in location_codes:
                return []
            location_codes = [caller.bound_location]
        async with self.uow.read() as store:
            return await store.stock_levels(skus, location_codes)

    async def levels_at(
        self, location_code: str, first: int, after: str, caller: Caller = INTERNAL
    ) -> tuple[list[tuple[str, StockLevel]], bool]:
        """One location's levels by SKU, a page at a time: ([(cursor, level)], has next). A
        scanner reads its own location only (FORBIDDEN); an unknown location is NOT_FOUND."""
        location_code = bounds.require_code(location_code, "location_code", "locationCode")
        paging.require_page_size(first, rules.MAX_LEVELS_PAGE)
        after_sku = paging.decode_cursor(rules.LEVELS_CURSOR, after) if after else ""
        if not caller.works_at(location_code):
            raise DomainError(
                ErrorCode.FORBIDDEN,
                f"this scanner works at {caller.location_code}, not at {location_code}",
                "location_code",
            )
        async with self.uow.read() as store:
            if await store.location(location_code) is None:
                raise DomainError(
                    ErrorCode.NOT_FOUND, f"unknown location {location_code!r}", "location_code"
                )
            levels, has_next = await store.levels_at(location_code, first, after_sku)
        edges = [(paging.encode_cursor(rules.LEVELS_CURSOR, x.sku), x) for x in levels]
        return edges, has_next

    async def availability(self, skus: Sequence[str], channel: str) -> list[tuple[str, int]]:
        """Units each SKU may be promised on `channel`. Unknown SKUs and channels have none
        held back and nothing sellable, so they report 0 rather than an error. At most
        MAX_CODES SKUs at once."""
        skus = rules.require_codes(skus, "skus", "SKUs")
        channel = rules.require_code(channel, "channel", "channel code")
        async with self.uow.read() as store:
            sellable = await store.sellable_units(skus)
            default, overrides = await store.safety_stock(channel, skus)
        return rules.channel_availability(skus, sellable, overrides, default)

    async def sourcing_options(
        self, skus: Sequence[str]
    ) -> tuple[list[tuple[Location, dict[str, int]]], list[str], dict[str, str]]:
        """Each shipping location holding available units of the SKUs, with those units; the
        SKUs that do not exist; and the blank of each SKU made to order (one call answers every
        question a placement asks). A SKU made to order ships as units made from its blank, so
        the options count its blank's units, never its own."""
        skus = rules.require_codes(skus, "skus", "SKUs")
        if not skus:
            return [], [], {}
        async with self.uow.read() as store:
            found = await store.skus(skus)
            made_from = {sku.code: sku.made_from_sku for sku in found if sku.made_from_sku}
            sources = {made_from.get(sku.code, sku.code) for sku in found}
            options = await store.sourcing_options(sorted(sources))
        known = {sku.code for sku in found}
        return options, [sku for sku in skus if sku not in known], made_from

    async def backorder_options(
        self, skus: Sequence[str], channel: str
    ) -> tuple[bool, list[tuple[Location, dict[str, int]]]]:
        """Whether `channel` takes backorders, and if so each shipping location with units of
        the SKUs on open purchase orders not yet promised, with those units."""
        skus = rules.require_codes(skus, "skus", "SKUs")
        channel = rules.require_code(channel, "channel", "channel code")
        async with self.uow.read() as store:
            found = await store.channel(channel)
            if found is None or not found.allow_backorders or not skus:
                return False, []
            return True, await store.backorder_options(skus)

    async def upsert_channel(
        self,
        code: str,
        default_safety_stock: int,
        safety_stock: Sequence[SafetyStock],
        allow_backorders: bool | None = None,
    ) -> Channel:
        """Creates or replaces the channel; `allow_backorders` left out (None) keeps what it
        was (no backorders for a new channel)."""
        code = rules.require_code(code, "code", "channel code")
        rules.require_non_negative(
            default_safety_stock, "default_safety_stock", "safety stock", MAX_LEVEL_UNITS
        )
        bounds.require_count(safety_stock, "safety_stock", bounds.MAX_CODES, "overrides")
        overrides = []
        for index, item in enumerate(safety_stock):
            where = f"safety_stock.{index}"
            sku = rules.require_code(item.sku, f"{where}.sku", "SKU code")
            rules.require_non_negative(
                item.units, f"{where}.units", "safety stock", MAX_LEVEL_UNITS
            )
            overrides.append(SafetyStock(sku, item.units))
        async with self.uow.write() as store:
            if allow_backorders is None:
                existing = await store.channel(code)
                allow_backorders = existing.allow_backorders if existing else False
            channel = Channel(code, default_safety_stock, tuple(overrides), allow_backorders)
            await store.save_channel(channel)
            store.record(ChannelChanged(code=channel.code))
        return channel

    async def channel(self, code: str) -> Channel:
        """The channel as set; NOT_FOUND for one never set."""
        code = rules.require_code(code, "code", "channel code")
        async with self.uow.read() as store:
            found = await store.channel(code)
            overrides = await store.safety_stock_overrides(code)
        if found is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"unknown channel {code!r}", "code")
        safety_stock = tuple(SafetyStock(sku, units) for sku, units in sorted(overrides.items()))
        return dataclasses.replace(found, safety_stock=safety_stock)

    async def movements(self, sku: str, location_code: str, limit: int = 100) -> list[LedgerEntry]:
        """A level's ledger, newest first, one bounded page."""
        page = rules.movements_page(limit, self._settings.max_movements_page)
        async with self.uow.read() as store:
            return await store.recent_movements(sku, location_code, page)

    async def ledger_discrepancies(self) -> list[tuple[StockLevel | None, StockLevel]]:
        """Levels that differ from a replay of the ledger, as (stored, rebuilt) pairs; stored
        is None where the ledger moved a level that is not stored."""
        async with self.uow.read() as store:
            ledger = await store.ledger()
            stored = await store.stock_levels((), ())
        return rules.ledger_discrepancies(stored, ledger)

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
        async with self.uow.write() as store:
            existing = await store.reservation(key)
            if existing is not None and existing.status is ReservationStatus.RELEASED:
                raise DomainError(ErrorCode.INVALID_STATE, f"reservation {key} was released", "key")
            if existing is not None:
                return existing
            if not await store.claim_reservation(
                key, holder_type or "order", ReservationStatus.HELD
            ):
                # A concurrent call under the same key won the claim; answer with its result.
                return await _require_reservation(store, key)
            for index, line in enumerate(ordered):
                await _hold(store, key, index, line)
                await store.add_reservation_line(key, line)
        return Reservation(key, ReservationStatus.HELD, held=tuple(ordered))

    async def promise(
        self, key: str, lines: Sequence[ReservationLine]
    ) -> tuple[Reservation, datetime | None]:
        """Promises every line or none against units on open purchase orders, atomically, and
        says when they are expected (None when unknown). Each line counts against its level's
        in transit less what is already promised, in the conditional update reservations use,
        so however many buyers race, no more is promised than is on order.

        Idempotent per key as `reserve` is (the date is answered only the first time); a
        receipt at the location holds the promised units (`fill_backorders`)."""
        key = rules.require_code(key, "key", "reservation key")
        ordered = rules.normalize_reservation_lines(lines)
        async with self.uow.write() as store:
            existing = await store.reservation(key)
            if existing is not None and existing.status is ReservationStatus.RELEASED:
                raise DomainError(ErrorCode.INVALID_STATE, f"reservation {key} was released", "key")
            if existing is not None:
                return existing, None
            if not await store.claim_reservation(key, "order", ReservationStatus.HELD):
                return await _require_reservation(store, key), None
            arrivals = []
            for index, line in enumerate(ordered):
                level = await _hold(store, key, index, line, promised=True)
                await store.add_reservation_line(key, line, promised=True)
                supply = await store.supply(line.sku, line.location_code)
                before = level.promised - line.quantity
                arrivals.append(rules.expected_arrival(supply, before, line.quantity))
        expected = None if None in arrivals else max(a for a in arrivals if a is not None)
        return Reservation(key, ReservationStatus.HELD, promised=tuple(ordered)), expected

    async def fill_backorders(
        self, store: InventoryStore, location_code: str, received: Sequence[tuple[str, int]]
    ) -> None:
        """Units received at the location, in the receipt's unit of work: the oldest promises
        of each SKU there become held units first (`rules.fill_oldest_first`), within the units
        received, and each key left with nothing promised is published as BackorderFilled, so
        the order it backs can be allocated. Runs after the receipt put the units on hand, in
        the same transaction, so no other order can take them in between."""
        filled_keys: list[str] = []
        for sku, units in received:
            waiting = await store.backorders(sku, location_code)
            for key, taken in rules.fill_oldest_first(waiting, units):
                movement = Movement(
                    sku,
                    location_code,
                    StockDelta(promised=-taken, reserved=taken),
                    f"received for backorder {key}",
                    SourceType.RESERVATION,
                    key,
                )
                await move(store, movement)
                await store.fill_promise(key, sku, location_code, taken)
                if key not in filled_keys:
                    filled_keys.append(key)
        for key in filled_keys:
            reservation = await _require_reservation(store, key)
            if not reservation.promised:
                store.record(
                    BackorderFilled(
                        key=key,
                        held=[
                            FilledLine(
                                sku=x.sku, location_code=x.location_code, quantity=x.quantity
                            )
                            for x in reservation.held
                        ],
                    )
                )

    async def release(self, key: str) -> Reservation:
        """Gives back what the key still holds. Releasing an unknown key records it as
        released, so a reservation that arrives late under that key is refused.

        Settling (releasing or committing) holds the reservation until the unit of work ends,
        so two settlements of one key take turns and its units move once.
        """
        async with self.uow.write() as store:
            reservation = await store.reservation_to_settle(key)
            if reservation is None:
                if await store.claim_reservation(key, "unknown", ReservationStatus.RELEASED):
                    return Reservation(key, ReservationStatus.RELEASED)
                # A concurrent reservation claimed the key first: give back what it holds.
                reservation = await _reservation_to_settle(store, key)
            return await release_held(store, reservation, f"released by {key}")

    async def commit(self, key: str, location_code: str = "") -> Reservation:
        """Ships held units (all, or those at one location): on hand and reserved go down."""
        async with self.uow.write() as store:
            reservation = await _reservation_to_settle(store, key)
            if reservation.status is ReservationStatus.RELEASED:
                raise DomainError(ErrorCode.INVALID_STATE, f"reservation {key} was released", "key")
            if reservation.promised:
                raise DomainError(
                    ErrorCode.INVALID_STATE, f"reservation {key} waits for a receipt", "key"
                )
            shipped = rules.lines_to_ship(reservation, location_code)
            for line in shipped:
                movement = Movement(
                    line.sku,
                    line.location_code,
                    StockDelta(on_hand=-line.quantity, reserved=-line.quantity),
                    f"shipped for {key}",
                    SourceType.SHIPMENT,
                    key,
                )
                await move(store, movement)
            committed = rules.settled(reservation, shipped, ReservationStatus.COMMITTED)
            await store.save_reservation(committed)
            return committed

    async def consume(self, key: str, lines: Sequence[ReservationLine], reason: str) -> Reservation:
        """Takes units off on hand for internal use (a work order's parts): every line or none,
        never below what is reserved (INSUFFICIENT_STOCK), so nothing promised is used up.

        Idempotent per key: the key is claimed in the same unit of work as the moves, so of
        concurrent calls under one key exactly one takes stock and the others answer what it
        took; a refused call leaves the key unclaimed.
        """
        key = rules.require_code(key, "key", "consumption key")
        reason = rules.require_words(reason, "reason", "reason")
        ordered = rules.normalize_reservation_lines(lines)
        async with self.uow.write() as store:
            if not await store.claim_reservation(key, "consumption", ReservationStatus.COMMITTED):
                return await _require_reservation(store, key)
            for index, line in enumerate(ordered):
                movement = Movement(
                    line.sku,
                    line.location_code,
                    StockDelta(on_hand=-line.quantity),
                    reason,
                    SourceType.WORK_ORDER,
                    key,
                )
                await _take(store, movement, index)
                await store.add_reservation_line(key, line)
            consumed = Reservation(key, ReservationStatus.COMMITTED, committed=tuple(ordered))
            await store.save_reservation(consumed)
        return consumed

    async def produce_from_work_order(
        self, store: InventoryStore, work_order_id: str, sku: str, location_code: str, units: int
    ) -> None:
        """A kit or value-add work order completed, in the event consumer's unit of work: the
        components its id holds are consumed (on hand and reserved down) and the units it made
        are added to on hand — one transaction keyed by the work order, so the ledger never
        shows one without the other, and units are made once: only while the key still holds
        its components (a redelivery, even under another event id, finds them consumed).

        Done on the event rather than by an RPC so that completing a work order is one local
        transaction in the work orders service; held units cannot fall short meanwhile (on hand
        never goes below reserved).
        """
        reservation = await store.reservation_to_settle(work_order_id)
        if reservation is None or not reservation.held:
            log.warning("work order %s holds no components; nothing produced", work_order_id)
            return
        reason = f"consumed by work order {work_order_id}"
        for line in reservation.held:
            delta = StockDelta(on_hand=-line.quantity, reserved=-line.quantity)
            movement = Movement(
                line.sku, line.location_code, delta, reason, SourceType.WORK_ORDER, work_order_id
            )
            await move(store, movement)
        await store.save_reservation(
            rules.settled(reservation, reservation.held, ReservationStatus.COMMITTED)
        )
        produced = Movement(
            sku,
            location_code,
            StockDelta(on_hand=units),
            f"produced by work order {work_order_id}",
            SourceType.WORK_ORDER,
            work_order_id,
        )
        await self.apply_movements(store, [produced], "WorkOrderCompleted")

    async def make_for_order(
        self,
        store: InventoryStore,
        work_order_id: str,
        order_id: str,
        made: ReservationLine,
        blank: ReservationLine,
    ) -> None:
        """A made-to-order work order completed, in the event consumer's unit of work: the
        blanks its order holds at the location are consumed (on hand and reserved down) and the
        units made are added, held for the order in their place (on hand and reserved up), so
        the order's shipment ships them. Once per work order (its id is claimed in the same
        unit of work); nothing is made when the order no longer holds the blanks (cancelled
        meanwhile: the blanks went back with its reservation).
        """
        if not await store.claim_reservation(
            work_order_id, "made_to_order", ReservationStatus.COMMITTED
        ):
            return
        reservation = await store.reservation_to_settle(order_id)
        if reservation is None or not rules.holds(reservation, blank):
            log.warning("order %s holds no blanks for work order %s", order_id, work_order_id)
            return
        reason = f"made to order {order_id} by work order {work_order_id}"
        used = StockDelta(on_hand=-blank.quantity, reserved=-blank.quantity)
        await move(store, _made_to_order(blank, used, reason, work_order_id))
        await store.open_stock_level(made.sku, made.location_code)
        added = StockDelta(on_hand=made.quantity, reserved=made.quantity)
        await move(store, _made_to_order(made, added, reason, work_order_id))
        await store.remake_held(order_id, blank, made)

    async def inventory_value(self, caller: Caller = INTERNAL) -> InventoryValue:
        """What the stock is worth in each state; the back office's figure (FORBIDDEN to a
        storefront or scanner)."""
        require_runs_the_business(caller)
        async with self.uow.read() as store:
            return await store.inventory_value()

    async def release_for_work_order(self, store: InventoryStore, work_order_id: str) -> None:
        """A kit or value-add work order was cancelled: what its id holds goes back, in the
        event consumer's unit of work (so once, however often the event arrives)."""
        reservation = await store.reservation_to_settle(work_order_id)
        if reservation is not None and reservation.held:
            await release_held(
                store, reservation, f"released by cancelled work order {work_order_id}"
            )

    async def reservation(self, key: str) -> Reservation:
        async with self.uow.read() as store:
            return await _require_reservation(store, key)

    # Counts and drift

    async def reconcile_count(
        self, count: StockCount, caller: Caller = INTERNAL
    ) -> CountReconciliation:
        """Compares a location's count with our on hand there (`counts.compared`), in one unit
        of work: each SKU counted differently becomes an OPEN discrepancy (StockDiscrepancyFound)
        in place of the one it had open, and one beyond the drift threshold holds the level
        back from sale (`counts.holds_back`) until an operator decides; a SKU counted as we
        hold it closes what it had open and lifts its hold. All of the count or nothing (an
        unknown location or SKU refuses it, NOT_FOUND).

        The levels are locked (SKU order) before they are read, so the on hand compared is the
        one the hold is set on: a reservation racing the count either commits first (and is
        counted as reserved, still on hand) or waits and then finds the hold."""
        require_runs_the_business(caller)
        count = counts.require_stock_count(count)
        threshold = self._settings.drift_threshold
        async with self.uow.write() as store:
            await require_location(store, count.location_code, "location_code")
            await _require_counted_skus(store, count)
            skus = None if count.complete else [line.sku for line in count.lines]
            levels = await _levels_to_count(store, count, skus)
            open_before = await store.open_discrepancies(count.location_code, skus)
            items = counts.compared(count, {x.sku: x.on_hand for x in levels.values()})
            differing = [x.sku for x in items if x.difference]
            costs = {x.code: x.unit_cost_cents for x in await store.skus(differing)}
            found: list[Discrepancy] = []
            now = utcnow()
            for item in items:
                previous = open_before.get(item.sku)
                if previous is not None:
                    await _settle(store, previous, DiscrepancyStatus.CLOSED, now)
                holds = counts.holds_back(item.ours, item.theirs, threshold)
                cause = previous
                if item.difference:
                    cause = await _found(store, count, item, costs.get(item.sku, 0), holds, now)
                    found.append(cause)
                level = levels.get(item.sku)
                if level is not None and cause is not None and level.on_hold != holds:
                    await _hold_level(store, level, holds, cause.id)
        return CountReconciliation(
            tuple(found), len(items), len(items) - len(found), len(open_before)
        )

    async def import_count(
        self,
        location_code: str,
        source: str,
        csv: str,
        complete: bool = False,
        caller: Caller = INTERNAL,
    ) -> CountReconciliation:
        """`reconcile_count` of a CSV file (`counts.count_lines_from_csv`): the whole file is
        read first, and one row that cannot be read refuses all of it, naming its line."""
        require_runs_the_business(caller)
        lines = counts.count_lines_from_csv(csv)
        return await self.reconcile_count(
            StockCount(location_code, source, lines, complete), caller
        )

    async def stock_discrepancies(
        self,
        location_code: str = "",
        status: DiscrepancyStatus | None = None,
        limit: int = 0,
        after: int = 0,
        caller: Caller = INTERNAL,
    ) -> tuple[list[Discrepancy], int]:
        """One page of discrepancies, newest first, and the `after` of the next page (0 when
        this is the last); the back office's figures (FORBIDDEN to others)."""
        require_runs_the_business(caller)
        if location_code:
            location_code = rules.require_code(location_code, "location_code", "location code")
        page = counts.discrepancies_page(limit)
        bounds.require_range(after, "after", "a discrepancy id", 0, bounds.INT64_MAX)
        async with self.uow.read() as store:
            found = await store.discrepancies(location_code, status, after, page + 1)
        more = len(found) > page
        return found[:page], (found[page - 1].id if more else 0)

    async def resolve_discrepancy(
        self,
        discrepancy_id: int,
        decision: DiscrepancyDecision | None,
        caller: Caller = INTERNAL,
    ) -> Discrepancy:
        """An operator's decision on an open discrepancy, in one unit of work: ACCEPT moves on
        hand by the difference counted (a ledger row with reason COUNT, so on hand is what the
        count said plus whatever moved since), DISMISS moves nothing; either lifts the level's
        hold. Deciding again as decided answers the discrepancy and changes nothing more (the
        row is locked, so two decisions take turns). Accepting fewer units than are reserved
        is refused (INSUFFICIENT_STOCK): those orders must be released or shipped first."""
        require_runs_the_business(caller)
        decision = counts.require_decision(decision)
        async with self.uow.write() as store:
            found = await store.discrepancy_to_resolve(discrepancy_id)
            if found is None:
                raise DomainError(
                    ErrorCode.NOT_FOUND, f"no stock discrepancy {discrepancy_id}", "id"
                )
            status = counts.resolution(found, decision)
            if found.status is status:
                return found
            adjusted = 0
            if status is DiscrepancyStatus.ACCEPTED:
                await _accept(store, found)
                adjusted = found.difference
            level = await _level(store, found.sku, found.location_code)
            if level.on_hold:
                await _hold_level(store, level, False, found.id)
            return await _settle(store, found, status, utcnow(), adjusted)


async def _require_counted_skus(store: InventoryStore, count: StockCount) -> None:
    """NOT_FOUND on the first line naming a SKU inventory does not know."""
    known = await store.known_skus([line.sku for line in count.lines])
    for index, line in enumerate(count.lines):
        if line.sku not in known:
            raise DomainError(
                ErrorCode.NOT_FOUND, f"unknown SKU {line.sku!r}", f"lines.{index}.sku"
            )


async def _levels_to_count(
    store: InventoryStore, count: StockCount, skus: list[str] | None
) -> dict[str, StockLevel]:
    """The location's levels the count compares, locked, by SKU; a SKU counted above zero
    without a level gets one first, so the hold its discrepancy may set has a row to mark."""
    levels = {x.sku: x for x in await store.levels_to_count(count.location_code, skus)}
    missing = [x.sku for x in count.lines if x.counted and x.sku not in levels]
    for sku in missing:
        await store.open_stock_level(sku, count.location_code)
    if missing:
        levels |= {x.sku: x for x in await store.levels_to_count(count.location_code, missing)}
    return levels


async def _found(
    store: InventoryStore,
    count: StockCount,
    item: counts.Compared,
    unit_cost_cents: int,
    holds: bool,
    at: datetime,
) -> Discrepancy:
    """Records an OPEN discrepancy of the compared SKU and its StockDiscrepancyFound event."""
    stored = await store.add_discrepancy(
        Discrepancy(
            id=0,
            sku=item.sku,
            location_code=count.location_code,
            ours=item.ours,
            theirs=item.theirs,
            difference=item.difference,
            value_cents=counts.value_of(item.difference, unit_cost_cents),
            source=count.source,
            counted_at=at,
            holds=holds,
        )
    )
    store.record(
        StockDiscrepancyFound(
            id=stored.id,
            sku=stored.sku,
            location_code=stored.location_code,
            ours=stored.ours,
            theirs=stored.theirs,
            difference=stored.difference,
            value_cents=stored.value_cents,
            source=stored.source,
            holds=stored.holds,
            counted_at=stored.counted_at.isoformat(),
        )
    )
    return stored


async def _settle(
    store: InventoryStore,
    discrepancy: Discrepancy,
    status: DiscrepancyStatus,
    at: datetime,
    adjusted: int = 0,
) -> Discrepancy:
    settled = dataclasses.replace(discrepancy, status=status, resolved_at=at)
    await store.save_discrepancy(settled)
    store.record(
        StockDiscrepancyResolved(
            id=settled.id,
            sku=settled.sku,
            location_code=settled.location_code,
            status=status.value,
            adjusted=adjusted,
        )
    )
    return settled


async def _hold_level(
    store: InventoryStore, level: StockLevel, on_hold: bool, discrepancy_id: int
) -> None:
    """Sets or lifts the level's hold and publishes the level as it now is (available 0 on
    hold), so the channels push the new quantity; no units move, so no ledger row."""
    after = await store.set_hold(level.sku, level.location_code, on_hold)
    reason = "held back by a count" if on_hold else "count hold lifted"
    movement = Movement(
        level.sku,
        level.location_code,
        StockDelta(),
        reason,
        SourceType.COUNT,
        str(discrepancy_id),
    )
    store.record(stock_level_changed(movement, AppliedMovement(after, 0)))


async def _accept(store: InventoryStore, discrepancy: Discrepancy) -> None:
    """Moves on hand by the counted difference: a ledger row with reason COUNT."""
    movement = Movement(
        discrepancy.sku,
        discrepancy.location_code,
        StockDelta(on_hand=discrepancy.difference),
        "COUNT",
        SourceType.ADJUSTMENT,
        str(discrepancy.id),
    )
    try:
        await move(store, movement, field="id")
    except DomainError:
        if discrepancy.difference > 0:
            raise rules.over_capacity("id") from None
        raise DomainError(
            ErrorCode.INSUFFICIENT_STOCK,
            f"accepting it would leave fewer {discrepancy.sku} on hand at "
            f"{discrepancy.location_code} than are reserved: release or ship those first",
            "id",
        ) from None


async def _level(store: InventoryStore, sku: str, location_code: str) -> StockLevel:
    """The SKU's level at the location as it is now (at zero when it has none)."""
    found = await store.stock_levels([sku], [location_code])
    return found[0] if found else StockLevel(sku, location_code)


def _import_events(import_id: str, rows: int, levels: Sequence[StockLevelChanged]) -> list[Message]:
    """The import's changed levels in StockImported events of at most IMPORT_EVENT_LEVELS
    (one event, without levels, when nothing moved)."""
    parts = [
        levels[start : start + IMPORT_EVENT_LEVELS]
        for start in range(0, len(levels), IMPORT_EVENT_LEVELS)
    ] or [[]]
    return [
        StockImported(
            import_id=import_id,
            rows=rows,
            skus=sorted({level.sku for level in part}),
            levels=part,
        )
        for part in parts
    ]


async def _require_known(store: InventoryStore, rows: Sequence[imports.StockImportRow]) -> None:
    """NOT_FOUND on the first row naming a SKU or a location inventory does not know."""
    skus = await store.known_skus(sorted({row.sku for row in rows}))
    locations = await store.known_locations(sorted({row.location_code for row in rows}))
    for row in rows:
        for field, code, known in (
            ("sku", row.sku, skus),
            ("location_code", row.location_code, locations),
        ):
            if code not in known:
                raise imports.row_refusal(
                    ErrorCode.NOT_FOUND,
                    row.where,
                    field,
                    f"unknown {field.replace('_code', '')} {code!r}",
                )


async def require_sku(store: InventoryStore, code: str, field: str) -> None:
    if not await store.has_sku(code):
        raise DomainError(ErrorCode.NOT_FOUND, f"unknown SKU {code!r}", field)


async def require_location(store: InventoryStore, code: str, field: str) -> None:
    if not await store.has_location(code):
        raise DomainError(ErrorCode.NOT_FOUND, f"unknown location {code!r}", field)


async def move(store: InventoryStore, movement: Movement, field: str | None = None) -> StockLevel:
    """Applies one movement in the caller's unit of work: the level (atomically), its ledger
    row and its StockLevelChanged event, so all three commit or none does.

    The level must exist (`open_stock_level`); a delta that would break an invariant (a state
    below zero, reserved above on hand) is refused with INSUFFICIENT_STOCK.
    """
    applied = await store.move(movement)
    if applied is None:
        raise DomainError(
            ErrorCode.INSUFFICIENT_STOCK,
            f"not enough {movement.sku} available at {movement.location_code}",
            field,
        )
    store.record(stock_level_changed(movement, applied))
    return applied.level


def stock_level_changed(movement: Movement, applied: AppliedMovement) -> StockLevelChanged:
    return level_changed(applied, movement.reason, movement.source_type, movement.source_id)


def level_changed(
    applied: AppliedMovement, reason: str, source_type: SourceType, source_id: str
) -> StockLevelChanged:
    """A moved level as it is after, with its movement's cause (an import names the cause
    without building each row's Movement: they were a tenth of its CPU per row)."""
    level = applied.level
    return StockLevelChanged(
        sku=level.sku,
        location_code=level.location_code,
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.available,
        in_transit=level.in_transit,
        pending_inspection=level.pending_inspection,
        in_repair=level.in_repair,
        promised=level.promised,
        on_hold=level.on_hold,
        reason=reason,
        source_type=source_type.value,
        source_id=source_id,
        movement_id=applied.movement_id,
        version=level.version,
    )


async def _hold(
    store: InventoryStore, key: str, index: int, line: ReservationLine, promised: bool = False
) -> StockLevel:
    """Reserves one line's units (or, `promised`, promises units on order); refused when they
    are not available, or NOT_FOUND when the line names a SKU or location inventory does not
    know. Returns the level after it."""
    delta = StockDelta(promised=line.quantity) if promised else StockDelta(reserved=line.quantity)
    verb = "promised" if promised else "reserved"
    movement = Movement(
        line.sku, line.location_code, delta, f"{verb} for {key}", SourceType.RESERVATION, key
    )
    try:
        return await move(store, movement, field=f"lines.{index}.quantity")
    except DomainError:
        # Only a refused line pays for finding out whether it names an unknown SKU or
        # location (no level exists for those either).
        await require_sku(store, line.sku, f"lines.{index}.sku")
        await require_location(store, line.location_code, f"lines.{index}.location_code")
        raise


async def release_held(store: InventoryStore, reservation: Reservation, reason: str) -> Reservation:
    """Gives back every line the reservation holds or promises, in the caller's unit of work."""
    gone = [(line, StockDelta(reserved=-line.quantity)) for line in reservation.held] + [
        (line, StockDelta(promised=-line.quantity)) for line in reservation.promised
    ]
    for line, delta in gone:
        movement = Movement(
            line.sku, line.location_code, delta, reason, SourceType.RESERVATION, reservation.key
        )
        await move(store, movement)
    whole = rules.whole_lines(reservation)
    released = rules.settled(whole, whole.held, ReservationStatus.RELEASED)
    await store.save_reservation(released)
    return released


async def _take(store: InventoryStore, movement: Movement, index: int) -> None:
    """Takes one line's units off on hand; refused like a hold (`_hold`), and with
    INVALID_STATE while a count's open discrepancy holds the level."""
    field = f"lines.{index}.quantity"
    try:
        await move(store, movement, field=field)
    except DomainError:
        await require_sku(store, movement.sku, f"lines.{index}.sku")
        await require_location(store, movement.location_code, f"lines.{index}.location_code")
        levels = await store.stock_levels([movement.sku], [movement.location_code])
        if any(level.on_hold for level in levels):
            raise DomainError(
                ErrorCode.INVALID_STATE,
                f"{movement.sku} at {movement.location_code} is on hold: a count disagreed "
                "with our books, so none of its units may be used until the discrepancy is "
                "accepted or dismissed",
                field,
            ) from None
        raise


def _made_to_order(
    line: ReservationLine, delta: StockDelta, reason: str, work_order_id: str
) -> Movement:
    return Movement(
        line.sku, line.location_code, delta, reason, SourceType.WORK_ORDER, work_order_id
    )


async def _require_blank(store: InventoryStore, code: str, blank: str) -> None:
    """A made-to-order SKU's blank is another SKU, stocked as itself: a chain of blanks
    (or a SKU others are made from becoming made to order) would make routing recursive."""
    if blank == code:
        raise DomainError(ErrorCode.INVALID_INPUT, "a SKU is not its own blank", "made_from_sku")
    found = await store.skus([blank])
    if not found:
        raise DomainError(ErrorCode.NOT_FOUND, f"unknown SKU {blank!r}", "made_from_sku")
    if found[0].made_from_sku or await store.is_a_blank(code):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "a blank is stocked as itself: it is not made to order, nor made from another blank",
            "made_from_sku",
        )


async def _reservation_to_settle(store: InventoryStore, key: str) -> Reservation:
    reservation = await store.reservation_to_settle(key)
    if reservation is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"no reservation {key}", "key")
    return reservation


async def _require_reservation(store: InventoryStore, key: str) -> Reservation:
    reservation = await store.reservation(key)
    if reservation is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"no reservation {key}", "key")
    return reservation
