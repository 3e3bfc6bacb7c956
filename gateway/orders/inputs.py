"""Orders input types and the requests they become."""

from __future__ import annotations

import strawberry

from gateway.orders.types import SplitPolicy
from oms.orders.v1 import orders_pb2 as pb


@strawberry.input
class AddressInput:
    name: str | None = strawberry.UNSET
    line1: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET
    country: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 3166-1 alpha-2."
    )
    latitude: float | None = strawberry.field(
        default=strawberry.UNSET,
        description="Optional: when left out, the address is placed from its postal code, city "
        "and country.",
    )
    longitude: float | None = strawberry.UNSET

    def to_proto(self) -> pb.Address:
        # UNSET and null are both falsy: the service stores an absent part as "".
        address = pb.Address(
            name=self.name or "",
            line1=self.line1 or "",
            city=self.city or "",
            postal_code=self.postal_code or "",
            country=self.country or "",
        )
        # Presence matters: an address without coordinates is placed (or refused) by the service.
        if isinstance(self.latitude, float):
            address.latitude = self.latitude
        if isinstance(self.longitude, float):
            address.longitude = self.longitude
        return address


@strawberry.input
class OrderLineInput:
    sku: str
    quantity: int
    unit_price_cents: int

    def to_proto(self) -> pb.OrderLine:
        return pb.OrderLine(
            sku=self.sku, quantity=self.quantity, unit_price_cents=self.unit_price_cents
        )


@strawberry.input(description="The serial numbers scanned into a parcel for one SKU.")
class ShippedSerialsInput:
    sku: str
    serial_numbers: list[str]

    def to_proto(self) -> pb.ShipmentLine:
        return pb.ShipmentLine(sku=self.sku, serial_numbers=self.serial_numbers)


@strawberry.input
class PlaceOrderInput:
    channel: str
    external_id: str = strawberry.field(
        description="The order's id in its sales channel; placing the same (channel, externalId) "
        "again returns the first order."
    )
    email: str
    ship_to: AddressInput
    lines: list[OrderLineInput]
    split_policy: SplitPolicy | None = SplitPolicy.ALLOW_SPLIT

    def to_proto(self) -> pb.PlaceOrderRequest:
        return pb.PlaceOrderRequest(
            channel=self.channel,
            external_id=self.external_id,
            email=self.email,
            ship_to=self.ship_to.to_proto(),
            lines=[line.to_proto() for line in self.lines],
            split_policy=(self.split_policy or SplitPolicy.ALLOW_SPLIT).to_proto(),
        )
