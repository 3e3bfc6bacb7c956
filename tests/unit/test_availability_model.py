"""The availability read model's merge rule, without I/O: a level keeps whichever of the
loaded snapshot and its events is newest by version, whatever order they arrive in."""

from __future__ import annotations

from gateway.availability import AvailabilityModel, _Channel, _Sku
from oms.events.v1.inventory_pb2 import StockLevelChanged
from oms.inventory.v1 import inventory_pb2 as pb


def loading(model: AvailabilityModel, *skus: str) -> None:
    """What a load does before its RPC answers: the SKUs' entries exist, so events are kept."""
    model._locations = {
        code: pb.Location(code=code, ships_orders=ships)
        for code, ships in {"DC": True, "STORE": True, "HUB": False}.items()
    }
    model._channels["web"] = _Channel(2, {"MUG": 0})
    for sku in skus:
        model._skus.setdefault(sku, _Sku())


def changed(sku: str, location: str, version: int, available: int) -> StockLevelChanged:
    return StockLevelChanged(sku=sku, location_code=location, version=version, available=available)


def level(sku: str, location: str, version: int, available: int) -> pb.StockLevel:
    return pb.StockLevel(sku=sku, location_code=location, version=version, available=available)


def test_an_event_newer_than_the_snapshot_wins_when_it_arrives_first() -> None:
    model = AvailabilityModel()
    loading(model, "TEE")
    model.apply(changed("TEE", "DC", 5, 3))
    model._merge(["TEE"], [level("TEE", "DC", 4, 10), level("TEE", "STORE", 1, 2)])
    # safety stock 2 on the channel; DC 3 (the event) + STORE 2
    assert model._answer(["TEE"], "web") == [("TEE", 3)]


def test_an_older_event_never_overwrites_the_snapshot() -> None:
    model = AvailabilityModel()
    loading(model, "TEE")
    model._merge(["TEE"], [level("TEE", "DC", 7, 10)])
    model.apply(changed("TEE", "DC", 6, 1))
    assert model._answer(["TEE"], "web") == [("TEE", 8)]
    model.apply(changed("TEE", "DC", 8, 0))  # held by a count: nothing available there
    assert model._answer(["TEE"], "web") == [("TEE", 0)]


def test_non_shipping_locations_overrides_and_unknown_skus() -> None:
    model = AvailabilityModel()
    loading(model, "MUG", "NOPE")
    model._merge(["MUG", "NOPE"], [level("MUG", "DC", 1, 4), level("MUG", "HUB", 1, 50)])
    assert model._answer(["MUG"], "web") == [("MUG", 4)]  # override 0; the hub does not ship
    assert model._answer(["NOPE"], "web") is None  # no level anywhere: the RPC answers
    assert model._answer(["MUG"], "other") is None  # a channel not loaded yet
