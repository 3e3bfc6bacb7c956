"""The gateway's GraphQL input objects as the tests and the bench send them, typed by field so
that a misspelt or mistyped one fails the type check rather than a request."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class LocationInput(TypedDict):
    code: str
    name: str
    kind: str  # a LocationKind's name
    latitude: float
    longitude: float
    shipsOrders: NotRequired[bool | None]
    acceptsReturns: NotRequired[bool | None]
    dailyShipCapacity: NotRequired[int | None]
    dailyInspectionCapacity: NotRequired[int | None]


class SkuInput(TypedDict):
    code: str
    title: str
    unitCostCents: int
    weightGrams: int
    serialized: NotRequired[bool | None]


class StockAdjustmentInput(TypedDict):
    sku: str
    locationCode: str
    delta: int
    reason: str


class AddressInput(TypedDict, total=False):
    name: str | None
    line1: str | None
    city: str | None
    postalCode: str | None
    country: str | None
    latitude: float | None
    longitude: float | None


class OrderLineInput(TypedDict):
    sku: str
    quantity: int
    unitPriceCents: int


class PlaceOrderInput(TypedDict):
    channel: str
    externalId: str
    email: str
    shipTo: AddressInput
    lines: list[OrderLineInput]
    splitPolicy: NotRequired[str | None]  # a SplitPolicy's name
