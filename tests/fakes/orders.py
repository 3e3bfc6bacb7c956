"""The orders' store and the inventory they call, in memory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypedDict, Unpack

from services.kernel.db import utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.orders.domain import rules
from services.orders.domain.model import NewOrder, Order, OrderStatus, Shipment, ShipmentStatus
from services.orders.domain.routing import Candidate, RoutingPlan
from services.orders.store import OrdersStore
from tests.fakes.kernel import MemoryData, MemoryStore, MemoryUnitOfWork

# (sku, location code, units), as the inventory port speaks of held stock.
Line = tuple[str, str, int]


class ShipmentChange(TypedDict, total=False):
    """What shipping changes on a shipment."""

    status: ShipmentStatus
    tracking_number: str
    shipped_at: datetime | None
    serial_numbers: dict[str, tuple[str, ...]]


@dataclass
class OrdersData(MemoryData):
    # By id, in the order claimed (so by number).
    orders: dict[str, Order] = field(default_factory=dict)
    # When each order last changed: what recovery reads to find interrupted placements.
    updated_at: dict[str, datetime] = field(default_factory=dict)
    last_number: int = 0


class MemoryOrdersStore(MemoryStore[OrdersData]):
    """The orders' store over `OrdersData`. Units of work run one at a time in memory, so a
    lock is only a read."""

    async def claim(self, order_id: str, new: NewOrder) -> bool:
        if await self.order_by_external_id(new.channel, new.external_id) is not None:
            return False
        self.data.last_number += 1
        now = utcnow()
        self.data.orders[order_id] = Order(
            id=order_id,
            number=str(self.data.last_number),
            status=OrderStatus.PLACING,
            channel=new.channel,
            external_id=new.external_id,
            email=new.email,
            ship_to=new.ship_to,
            lines=new.lines,
            shipments=(),
            routing=None,
            split_policy=new.split_policy,
            placed_by=new.placed_by,
            placed_at=now,
        )
        self.data.updated_at[order_id] = now
        return True

    async def order_by_external_id(self, channel: str, external_id: str) -> Order | None:
        return next(
            (
                o
                for o in self.data.orders.values()
                if o.channel == channel and o.external_id == external_id
            ),
            None,
        )

    async def forget_claim(self, order_id: str) -> None:
        del self.data.orders[order_id]
        del self.data.updated_at[order_id]

    async def stale_claims(self, idle_since: datetime) -> list[str]:
        return [
            order.id
            for order in self.data.orders.values()
            if order.status is OrderStatus.PLACING and self.data.updated_at[order.id] < idle_since
        ]

    async def lock_order(self, order_id: str) -> Order | None:
        return self.data.orders.get(order_id)

    async def lock_order_of_shipment(self, shipment_id: str) -> Order | None:
        return next(
            (
                order
                for order in self.data.orders.values()
                if any(s.id == shipment_id for s in order.shipments)
            ),
            None,
        )

    async def allocate(
        self, order_id: str, plan: RoutingPlan | None, shipments: Sequence[Shipment]
    ) -> Order:
        # Shipments come back as SQL lists them: by location code, lines by SKU.
        opened = tuple(
            replace(s, lines=tuple(sorted(s.lines)))
            for s in sorted(shipments, key=lambda s: s.location_code)
        )
        return self._save(
            replace(
                self.data.orders[order_id],
                status=OrderStatus.ALLOCATED,
                routing=plan,
                shipments=opened,
            )
        )

    async def backorder(
        self, order_id: str, plan: RoutingPlan, expected_at: datetime | None
    ) -> Order:
        order = self.data.orders[order_id]
        return self._save(
            replace(
                order,
                status=OrderStatus.BACKORDERED,
                routing=plan,
                backorder_expected_at=expected_at,
            )
        )

    async def mark_cancelled(self, order_id: str) -> Order:
        order = self.data.orders[order_id]
        return self._save(
            replace(
                order,
                status=OrderStatus.CANCELLED,
                cancelled_at=utcnow(),
                shipments=tuple(
                    replace(s, status=ShipmentStatus.CANCELLED) for s in order.shipments
                ),
            )
        )

    async def mark_shipping(self, shipment_id: str) -> None:
        self._change_shipment(shipment_id, status=ShipmentStatus.SHIPPING)

    async def mark_shipped(
        self,
        shipment_id: str,
        tracking_number: str,
        serial_numbers: Mapping[str, Sequence[str]],
        order_status: OrderStatus,
    ) -> None:
        order = self._change_shipment(
            shipment_id,
            status=ShipmentStatus.SHIPPED,
            tracking_number=tracking_number,
            shipped_at=utcnow(),
            serial_numbers={sku: tuple(n) for sku, n in serial_numbers.items() if n},
        )
        shipped_at = utcnow() if order_status is OrderStatus.SHIPPED else order.shipped_at
        self._save(replace(order, status=order_status, shipped_at=shipped_at))

    async def orders(self, order_ids: Sequence[str]) -> list[Order]:
        return [
            o for o in self.data.orders.values() if o.id in order_ids and rules.is_visible(o.status)
        ]

    async def page(
        self,
        first: int,
        before_number: int | None,
        status: OrderStatus | None,
        placed_by: str,
        channels: Sequence[str] | None = None,
    ) -> tuple[list[Order], bool]:
        matching = [
            o
            for o in sorted(self.data.orders.values(), key=lambda o: -int(o.number))
            if rules.is_visible(o.status)
            and (before_number is None or int(o.number) < before_number)
            and (status is None or o.status is status)
            and (not placed_by or o.placed_by == placed_by)
            and (channels is None or o.channel in channels)
        ]
        return matching[:first], len(matching) > first

    async def waiting_orders(self, statuses: Sequence[OrderStatus]) -> tuple[int, datetime | None]:
        waiting = [o.placed_at for o in self.data.orders.values() if o.status in statuses]
        return len(waiting), min(waiting, default=None)

    async def ship_backlog(self, location_codes: Sequence[str]) -> dict[str, int]:
        counts = Counter(
            s.location_code
            for o in self.data.orders.values()
            for s in o.shipments
            if s.status in rules.UNSHIPPED and s.location_code in location_codes
        )
        return dict(counts)

    def _save(self, order: Order) -> Order:
        self.data.orders[order.id] = order
        self.data.updated_at[order.id] = utcnow()
        return order

    def _change_shipment(self, shipment_id: str, **changes: Unpack[ShipmentChange]) -> Order:
        order = next(
            o for o in self.data.orders.values() if any(s.id == shipment_id for s in o.shipments)
        )
        shipments = tuple(
            replace(s, **changes) if s.id == shipment_id else s for s in order.shipments
        )
        return self._save(replace(order, shipments=shipments))


def memory_uow() -> MemoryUnitOfWork[OrdersStore, OrdersData]:
    return MemoryUnitOfWork(OrdersData(), MemoryOrdersStore)


@dataclass(frozen=True)
class Location:
    """A shipping location of the fake inventory."""

    kind: str
    latitude: float
    longitude: float
    daily_ship_capacity: int | None = None


@dataclass
class Reservation:
    held: list[Line] = field(default_factory=list)
    committed: list[Line] = field(default_factory=list)
    # A backorder's units still on order.
    promised: list[Line] = field(default_factory=list)

    @property
    def released(self) -> bool:
        """Released (or a tombstone) when it neither holds, promises nor shipped anything, as
        inventory settles a reservation's status."""
        return not self.held and not self.committed and not self.promised


class Unreachable(Exception):
    """Inventory's answer never arrived (a crash or a network failure, not a refusal)."""


class MemoryInventory:
    """The inventory port over units on hand per (sku, location), with inventory's rules:
    a hold takes all its lines or none, a key holds once, a released key (even one released
    before it was ever held) can never hold again, a commit ships what the key holds at a
    location."""

    def __init__(
        self, locations: Mapping[str, Location], on_hand: Mapping[tuple[str, str], int]
    ) -> None:
        self.locations = dict(locations)
        self.on_hand = dict(on_hand)
        self.skus = {sku for sku, _ in on_hand}
        # Made to order: the blank of each such SKU (known SKUs, never stocked as themselves).
        self.made_from: dict[str, str] = {}
        self.reservations: dict[str, Reservation] = {}
        self.holds_asked = 0
        # (key, location) of every commit asked for.
        self.commits_asked: list[tuple[str, str]] = []
        # Stock that moves (sku, location, delta) just before the next holds are asked for,
        # one move per hold: another order taking it between the plan and the hold.
        self.moves_before_hold: list[Line] = []
        # Failures to inject, each for the next call: before the hold, or after it (the hold
        # stands, its answer is lost), or of a commit.
        self.unreachable_before_hold = False
        self.unreachable_after_hold = False
        self.unreachable_on_commit = False
        # Backorders: units on open purchase orders per (sku, location), the channels that take
        # backorders, and the date promises are answered with.
        self.on_order: dict[tuple[str, str], int] = {}
        self.backorder_channels: set[str] = set()
        self.expected_at: datetime | None = None

    def promised(self, sku: str, location_code: str) -> int:
        return sum(
            units
            for reservation in self.reservations.values()
            for s, loc, units in reservation.promised
            if (s, loc) == (sku, location_code)
        )

    def receive(self, sku: str, location_code: str, units: int) -> list[tuple[str, list[Line]]]:
        """A receipt: the units go on hand and fill the oldest promises first; returns each key
        left with nothing promised and what it holds (what BackorderFilled carries)."""
        self.on_order[(sku, location_code)] -= units
        self.on_hand[(sku, location_code)] = self.on_hand.get((sku, location_code), 0) + units
        filled = []
        for key, reservation in self.reservations.items():
            for line in list(reservation.promised):
                if units and line[:2] == (sku, location_code):
                    taken = min(units, line[2])
                    units -= taken
                    reservation.promised.remove(line)
                    if taken < line[2]:
                        reservation.promised.append((sku, location_code, line[2] - taken))
                    reservation.held.append((sku, location_code, taken))
                    if not reservation.promised:
                        filled.append((key, list(reservation.held)))
        return filled

    def reserved(self, sku: str, location_code: str) -> int:
        return sum(
            units
            for reservation in self.reservations.values()
            for s, loc, units in reservation.held
            if (s, loc) == (sku, location_code)
        )

    def available(self, sku: str, location_code: str) -> int:
        return self.on_hand.get((sku, location_code), 0) - self.reserved(sku, location_code)

    def levels(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(on hand, reserved) per (sku, location)."""
        return {key: (units, self.reserved(*key)) for key, units in self.on_hand.items()}

    async def sourcing_options(
        self, skus: Sequence[str]
    ) -> tuple[list[Candidate], list[str], dict[str, str]]:
        made_from = {sku: self.made_from[sku] for sku in skus if sku in self.made_from}
        sources = sorted({made_from.get(sku, sku) for sku in skus})
        candidates = []
        for code, location in sorted(self.locations.items()):
            available = {sku: self.available(sku, code) for sku in sources}
            available = {sku: units for sku, units in available.items() if units > 0}
            if available:
                candidates.append(
                    Candidate(
                        code,
                        location.kind,
                        location.latitude,
                        location.longitude,
                        available,
                        location.daily_ship_capacity,
                    )
                )
        unknown = [sku for sku in skus if sku not in self.skus and sku not in made_from]
        return candidates, unknown, made_from

    async def reserve(self, key: str, lines: Sequence[Line]) -> bool:
        self.holds_asked += 1
        if self.moves_before_hold:
            sku, location_code, delta = self.moves_before_hold.pop(0)
            self.on_hand[(sku, location_code)] = self.on_hand.get((sku, location_code), 0) + delta
        if self.unreachable_before_hold:
            self.unreachable_before_hold = False
            raise Unreachable(key)
        existing = self.reservations.get(key)
        if existing is not None and existing.released:
            raise DomainError(ErrorCode.INVALID_STATE, f"reservation {key} was released", "key")
        if existing is None:
            if not self._can_hold(lines):
                return False
            self.reservations[key] = Reservation(held=sorted(lines))
        if self.unreachable_after_hold:
            self.unreachable_after_hold = False
            raise Unreachable(key)
        return True

    async def release(self, key: str) -> None:
        reservation = self.reservations.setdefault(key, Reservation())
        reservation.held, reservation.promised = [], []

    async def backorder_options(
        self, skus: Sequence[str], channel: str
    ) -> tuple[bool, list[Candidate]]:
        if channel not in self.backorder_channels:
            return False, []
        candidates = []
        for code, location in sorted(self.locations.items()):
            units = {
                sku: self.on_order.get((sku, code), 0) - self.promised(sku, code) for sku in skus
            }
            units = {sku: n for sku, n in units.items() if n > 0}
            if units:
                candidates.append(
                    Candidate(code, location.kind, location.latitude, location.longitude, units)
                )
        return True, candidates

    async def promise(self, key: str, lines: Sequence[Line]) -> tuple[bool, datetime | None]:
        existing = self.reservations.get(key)
        if existing is not None and existing.released:
            raise DomainError(ErrorCode.INVALID_STATE, f"reservation {key} was released", "key")
        if existing is None:
            left = {k: n - self.promised(*k) for k, n in self.on_order.items()}
            if any(left.get((sku, loc), 0) < units for sku, loc, units in lines):
                return False, None
            self.reservations[key] = Reservation(promised=sorted(lines))
        return True, self.expected_at

    async def commit(self, key: str, location_code: str) -> None:
        self.commits_asked.append((key, location_code))
        if self.unreachable_on_commit:
            self.unreachable_on_commit = False
            raise Unreachable(key)
        reservation = self.reservations.get(key)
        if reservation is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"no reservation {key}", "key")
        if reservation.released:
            raise DomainError(ErrorCode.INVALID_STATE, f"reservation {key} was released", "key")
        shipping = [line for line in reservation.held if line[1] == location_code]
        for sku, location, units in shipping:
            self.on_hand[(sku, location)] -= units
        reservation.held = [line for line in reservation.held if line not in shipping]
        reservation.committed += shipping

    async def held_lines(self, key: str) -> list[Line] | None:
        reservation = self.reservations.get(key)
        return None if reservation is None else list(reservation.held)

    def _can_hold(self, lines: Sequence[Line]) -> bool:
        wanted: dict[tuple[str, str], int] = {}
        for sku, location_code, units in lines:
            wanted[(sku, location_code)] = wanted.get((sku, location_code), 0) + units
        return all(self.available(sku, loc) >= units for (sku, loc), units in wanted.items())
