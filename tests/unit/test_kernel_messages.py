"""Messages to and from plain objects by field name: enums by name, presence as None, times as
RFC 3339 text, nested and repeated fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from oms.inventory.v1 import inventory_pb2 as pb
from oms.orders.v1 import orders_pb2 as opb
from services.kernel.messages import from_message, to_message


class Kind(StrEnum):
    DISTRIBUTION_CENTER = "DISTRIBUTION_CENTER"
    RETURN_HUB = "RETURN_HUB"


@dataclass(frozen=True)
class Place:
    code: str
    kind: Kind | None
    latitude: float
    ships_orders: bool | None = None
    daily_ship_capacity: int | None = None


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Parcel:
    id: str
    lines: tuple[Line, ...]
    shipped_at: datetime | None


def test_fields_enums_and_presence_go_into_a_message() -> None:
    place = Place("HUB-1", Kind.RETURN_HUB, 52.5, ships_orders=False)
    message = to_message(pb.UpsertLocationRequest, place, name="Hub")
    assert message == pb.UpsertLocationRequest(
        code="HUB-1",
        name="Hub",
        kind=pb.LOCATION_KIND_RETURN_HUB,
        latitude=52.5,
        ships_orders=False,
    )
    # None is a field left out, not its zero value.
    assert not message.HasField("daily_ship_capacity") and not message.HasField("accepts_returns")


def test_a_message_becomes_the_object_with_enums_and_absences() -> None:
    message = pb.UpsertLocationRequest(
        code="DC-1", kind=pb.LOCATION_KIND_DISTRIBUTION_CENTER, daily_ship_capacity=0
    )
    assert from_message(Place, message) == Place(
        "DC-1", Kind.DISTRIBUTION_CENTER, 0.0, ships_orders=None, daily_ship_capacity=0
    )
    # Unspecified, or a number the enum does not have: no value.
    assert from_message(Place, pb.UpsertLocationRequest(code="X")).kind is None
    unknown = pb.LocationKind.ValueType(99)
    assert from_message(Place, pb.UpsertLocationRequest(code="X", kind=unknown)).kind is None


def test_nested_repeated_fields_and_times_both_ways() -> None:
    shipped = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    parcel = Parcel("s-1", (Line("TEE", 2), Line("MUG", 1)), shipped)
    message = to_message(opb.Shipment, parcel)
    assert [(x.sku, x.quantity) for x in message.lines] == [("TEE", 2), ("MUG", 1)]
    assert message.shipped_at == "2030-01-02T03:04:05+00:00"
    assert from_message(Parcel, message) == parcel
    assert from_message(Parcel, opb.Shipment(id="s-2")) == Parcel("s-2", (), None)
