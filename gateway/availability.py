"""The availability read model: each channel's availability per SKU answered from memory.

Inventory publishes every change to a stock level (`StockLevelChanged`, with the level's
`version`; a bulk import's levels a thousand to a `StockImported`), every change to a location
(`LocationChanged`) and to a channel (`ChannelChanged`). The gateway keeps, per SKU it has been
asked about, each level's available units and version; the locations that ship orders; and
each channel's safety stock. An availability request then sums and subtracts in memory: no RPC
and no query once warm.

What keeps it right:

- A SKU is loaded from inventory (`GetStockLevels`) the first time it is asked for. Its entry
  exists from the moment the load starts, so events that arrive while the load is in flight are
  kept; the load and the events merge level by level, the higher version winning. An older
  event never overwrites a newer snapshot, and a snapshot never overwrites a newer event.
- Locations and channels are reloaded after their change events (a generation counter makes a
  load that started before the change land nowhere).
- Changes published while NATS is unreachable are lost for a core subscription, so a
  disconnected model answers nothing (the RPC answers) and a reconnected one starts empty.
- Reads follow this gateway's own writes: while a mutation runs here and for SETTLE_SECONDS
  after, the RPC answers (`NotesWrites`), so a client that changes stock and then asks (a count
  that holds units back, an order placed) reads the change at once, not only after its events.
  Changes made through other gateways or by the services' own work show within the event delay.
- The locations, kept whole, also answer the locations orders name (`locations`), during and
  after mutations too: only `UpsertLocation` changes one, and its event or this gateway's own
  `upsertLocation` drops them.
- Unknown SKUs (no level anywhere) are not kept: the RPC answers them, so a client cannot fill
  the memory with names. A channel never set holds nothing back, as inventory answers; the
  model keeps at most MAX_CHANNELS channels and `max_skus` SKUs, and asks the RPC beyond.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
from graphql import OperationType
from nats import errors as nats_errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver
from strawberry.types import Info

from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.inventory_pb2 import (
    ChannelChanged,
    LocationChanged,
    StockImported,
    StockLevelChanged,
)
from oms.inventory.v1 import inventory_pb2 as pb
from services.kernel.events import unpack

if TYPE_CHECKING:
    from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceAsyncStub

log = logging.getLogger(__name__)

STOCK_LEVEL_CHANGED = "oms.inventory.stock_level_changed"
STOCK_IMPORTED = "oms.inventory.stock_imported"
LOCATION_CHANGED = "oms.inventory.location_changed"
CHANNEL_CHANGED = "oms.inventory.channel_changed"
# Every subject the gateway listens to (the feed's and the model's): its NATS user may
# subscribe to these and nothing else (launcher/nats_access.py).
SUBJECTS = (STOCK_LEVEL_CHANGED, STOCK_IMPORTED, LOCATION_CHANGED, CHANNEL_CHANGED)
MAX_SKUS = 500_000
MAX_CHANNELS = 1_000
# How long after a mutation through this gateway availability is asked of inventory: well
# above the event delay (p99 35 ms from a mutation sent to its message, docs/benchmarks.md).
SETTLE_SECONDS = 1.0


@dataclass
class _Channel:
    default_safety_stock: int
    overrides: dict[str, int]


@dataclass
class _Sku:
    # location code -> (version, available units; 0 while on hold)
    levels: dict[str, tuple[int, int]] = field(default_factory=dict)
    loaded: bool = False


class AvailabilityModel:
    """Channel availability per SKU, kept from inventory's events (see the module docstring)."""

    def __init__(self, max_skus: int = MAX_SKUS) -> None:
        self._max_skus = max_skus
        self._skus: dict[str, _Sku] = {}
        # Every location by code (None: not loaded, or changed since)
        self._locations: dict[str, pb.Location] | None = None
        self._channels: dict[str, _Channel] = {}
        self._generation = 0  # one more at every reset, location change and channel change
        self._nats: NatsClient | None = None
        self._reconnects = 0
        self._subscriptions: list[Subscription] = []
        self._writing = 0
        self._settled_at = 0.0

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Marks a mutation running: until SETTLE_SECONDS after it ends, the RPC answers."""
        self._writing += 1
        try:
            yield
        finally:
            self._writing -= 1
            self._settled_at = time.monotonic() + SETTLE_SECONDS

    async def start(self, nats: NatsClient) -> None:
        handlers: dict[str, Callable[[Msg], None]] = {
            STOCK_LEVEL_CHANGED: self._on_stock_level,
            STOCK_IMPORTED: self._on_import,
            LOCATION_CHANGED: self._on_location,
            CHANNEL_CHANGED: self._on_channel,
        }
        for subject, handler in handlers.items():
            self._subscriptions.append(await nats.subscribe(subject, cb=_decoded(handler)))
        self._nats = nats
        self._reconnects = nats.stats["reconnects"]

    async def stop(self) -> None:
        self._nats = None
        for subscription in self._subscriptions:
            with contextlib.suppress(nats_errors.Error):  # gone already with its connection
                await subscription.unsubscribe()
        self._subscriptions.clear()
        self.reset()

    def reset(self) -> None:
        """Forgets everything: the next requests load again."""
        self._skus.clear()
        self._locations = None
        self._channels.clear()
        self._generation += 1

    @property
    def live(self) -> bool:
        """Whether the model answers availability now: events reach it, and no mutation
        through this gateway has run in the last SETTLE_SECONDS."""
        if not self._listening:
            return False
        return not self._writing and time.monotonic() >= self._settled_at

    @property
    def _listening(self) -> bool:
        """Whether events reach the model now; after a reconnection it starts over."""
        if self._nats is None or not self._nats.is_connected:
            return False
        reconnects = self._nats.stats["reconnects"]
        if reconnects != self._reconnects:
            self._reconnects = reconnects
            self.reset()
        return True

    # Events

    def apply(self, change: StockLevelChanged) -> None:
        entry = self._skus.get(change.sku)
        if entry is None:
            return  # never asked for: loaded from inventory when it is
        _keep_newer(entry.levels, change.location_code, change.version, change.available)
        if self._locations is not None and change.location_code not in self._locations:
            self._locations = None  # a location the model has not seen: reload them

    def _on_stock_level(self, message: Msg) -> None:
        self.apply(unpack(EventEnvelope.FromString(message.data), StockLevelChanged))

    def _on_import(self, message: Msg) -> None:
        for level in unpack(EventEnvelope.FromString(message.data), StockImported).levels:
            self.apply(level)

    def _on_location(self, message: Msg) -> None:
        unpack(EventEnvelope.FromString(message.data), LocationChanged)
        self.forget_locations()

    def forget_locations(self) -> None:
        """Drops the locations (changed): the next request that needs them loads them again."""
        self._locations = None
        self._generation += 1

    def _on_channel(self, message: Msg) -> None:
        changed = unpack(EventEnvelope.FromString(message.data), ChannelChanged)
        self._channels.pop(changed.code, None)
        self._generation += 1

    # Requests

    async def availability(
        self, stub: InventoryServiceAsyncStub, skus: Sequence[str], channel: str
    ) -> list[tuple[str, int]] | None:
        """Units each SKU may be promised on the channel, or None when the model cannot answer
        (not live, settling after a write, an unknown SKU, too much kept): the caller asks
        the RPC."""
        if not self.live:
            return None
        answer = self._answer(skus, channel)
        if answer is not None:
            return answer
        await self._load(stub, skus, channel)
        return self._answer(skus, channel)

    async def locations(
        self, stub: InventoryServiceAsyncStub, codes: Sequence[str]
    ) -> dict[str, pb.Location] | None:
        """These locations, from memory once loaded; None when the model cannot answer (not
        listening, or a code it does not hold: created a moment ago elsewhere, or unknown):
        the caller asks the RPC. Locations change only through `UpsertLocation`, whose event
        (or, through this gateway, `forget_locations`) drops them, so unlike availability
        they are answered during and after other mutations, placeOrder's own answer among them."""
        if not self._listening:
            return None
        if self._locations is None:
            generation = self._generation
            listed = await stub.ListLocations(pb.ListLocationsRequest())
            if generation != self._generation:
                return None
            self._locations = {location.code: location for location in listed.locations}
        held = self._locations
        if any(code not in held for code in codes):
            return None
        return {code: held[code] for code in codes}

    def _answer(self, skus: Sequence[str], channel: str) -> list[tuple[str, int]] | None:
        locations, found = self._locations, self._channels.get(channel)
        if locations is None or found is None:
            return None
        answer = []
        for sku in skus:
            entry = self._skus.get(sku)
            if entry is None or not entry.loaded:
                return None
            sellable = 0
            for code, (_, available) in entry.levels.items():
                location = locations.get(code)
                if location is None:
                    return None
                if location.ships_orders:
                    sellable += available
            held_back = found.overrides.get(sku, found.default_safety_stock)
            answer.append((sku, max(0, sellable - held_back)))
        return answer

    async def _load(
        self, stub: InventoryServiceAsyncStub, skus: Sequence[str], channel: str
    ) -> None:
        generation = self._generation
        missing = [sku for sku in dict.fromkeys(skus) if not self._loaded(sku)]
        if len(self._skus) + len(missing) > self._max_skus:
            return
        for sku in missing:
            self._skus.setdefault(sku, _Sku())
        if missing:
            response = await stub.GetStockLevels(pb.GetStockLevelsRequest(skus=missing))
            if generation != self._generation:
                return
            self._merge(missing, response.levels)
        if self._locations is None:
            listed = await stub.ListLocations(pb.ListLocationsRequest())
            if generation != self._generation:
                return
            self._locations = {location.code: location for location in listed.locations}
        if channel not in self._channels and len(self._channels) < MAX_CHANNELS:
            try:
                found = await stub.GetChannel(pb.GetChannelRequest(code=channel))
            except grpc.aio.AioRpcError as error:
                if error.code() is not grpc.StatusCode.NOT_FOUND:
                    raise
                # A channel never set holds nothing back (what inventory answers for it); its
                # ChannelChanged when it is set makes the model load it again.
                found = pb.Channel(code=channel)
            if generation == self._generation:
                overrides = {item.sku: item.units for item in found.safety_stock}
                self._channels[channel] = _Channel(found.default_safety_stock, overrides)

    def _loaded(self, sku: str) -> bool:
        entry = self._skus.get(sku)
        return entry is not None and entry.loaded

    def _merge(self, skus: Sequence[str], levels: Sequence[pb.StockLevel]) -> None:
        for level in levels:
            entry = self._skus.get(level.sku)
            if entry is not None:
                _keep_newer(entry.levels, level.location_code, level.version, level.available)
        for sku in skus:
            entry = self._skus.get(sku)
            if entry is None:
                continue
            if entry.levels:
                entry.loaded = True
            else:
                del self._skus[sku]  # no level anywhere: unknown or never stocked; the RPC


class NotesWrites(FieldExtension):
    """Tells the availability model a mutation runs (see `AvailabilityModel.writing`)."""

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        result = next_(source, info, **kwargs)
        if info.operation.operation is not OperationType.MUTATION or inspect.isasyncgen(result):
            return result if inspect.isasyncgen(result) else await result
        with info.context.feed.availability.writing():
            return await result


def _keep_newer(
    levels: dict[str, tuple[int, int]], location: str, version: int, available: int
) -> None:
    current = levels.get(location)
    if current is None or version > current[0]:
        levels[location] = (version, available)


def _decoded(handler: Callable[[Msg], None]) -> Callable[[Msg], Awaitable[None]]:
    async def on_message(message: Msg) -> None:
        try:
            handler(message)
        except Exception as error:  # one bad message must not stop the model
            log.warning("skipping malformed %s message: %s", message.subject, error)

    return on_message
