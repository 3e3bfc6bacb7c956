"""Returns input types and the requests they become."""

from __future__ import annotations

import strawberry

from gateway.orders import AddressInput
from gateway.returns.types import Grade, ReturnReason, ReturnsPlatform
from oms.returns.v1 import returns_pb2 as pb
from services.kernel.proto_enums import enum_value


@strawberry.input
class ReturnLineInput:
    sku: str
    quantity: int
    reason: ReturnReason

    def to_proto(self) -> pb.RequestedLine:
        return pb.RequestedLine(
            sku=self.sku,
            quantity=self.quantity,
            reason=enum_value(pb.ReturnReason, self.reason.name),
        )


@strawberry.input
class RequestReturnInput:
    order_id: strawberry.ID
    lines: list[ReturnLineInput]
    customer_address: AddressInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="Where the customer is now; the order's ship-to address when left out.",
    )
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Chosen by the client; sending the same key again returns the first return "
        "and creates nothing.",
    )

    def to_proto(self) -> pb.RequestReturnRequest:
        request = pb.RequestReturnRequest(
            order_id=self.order_id,
            lines=[line.to_proto() for line in self.lines],
            idempotency_key=self.idempotency_key or "",
        )
        # Presence matters: without coordinates the service routes from the order's ship-to.
        if isinstance(self.customer_address, AddressInput):
            address = self.customer_address.to_proto()
            request.customer.SetInParent()
            request.customer.postal_code = address.postal_code
            request.customer.city = address.city
            request.customer.country = address.country
            if address.HasField("latitude"):
                request.customer.latitude = address.latitude
            if address.HasField("longitude"):
                request.customer.longitude = address.longitude
        return request


@strawberry.input
class InspectedLineInput:
    sku: str
    grade: Grade
    serial_number: str | None = strawberry.UNSET

    def to_proto(self) -> pb.InspectedLine:
        return pb.InspectedLine(
            sku=self.sku,
            grade=enum_value(pb.Grade, self.grade.name),
            serial_number=self.serial_number or "",
        )


@strawberry.input
class InspectReturnInput:
    return_id: strawberry.ID
    lines: list[InspectedLineInput]
    measured_weight_grams: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Weight of the parcel's contents as scanned at the hub.",
    )
    notes: str | None = strawberry.UNSET

    def to_proto(self) -> pb.InspectReturnRequest:
        request = pb.InspectReturnRequest(
            return_id=self.return_id,
            lines=[line.to_proto() for line in self.lines],
            notes=self.notes or "",
        )
        # Presence matters: a parcel not weighed is not checked by weight.
        if isinstance(self.measured_weight_grams, int):
            request.measured_weight_grams = self.measured_weight_grams
        return request


@strawberry.input
class ConnectReturnsPlatformInput:
    code: str = strawberry.field(description="Our name for the platform account.")
    platform: ReturnsPlatform
    channel: str = strawberry.field(
        description="The sales channel whose orders the platform returns: the platform's order "
        "id is their externalId."
    )
    webhook_secret: str = strawberry.field(
        description="The secret the platform signs its webhooks with; never shown back."
    )
    api_base_url: str = strawberry.field(description="Where the platform's API is reached.")
    access_token: str = strawberry.field(
        description="The platform API's key (Narvar: user:password); never shown back."
    )

    def to_proto(self) -> pb.ConnectReturnsPlatformRequest:
        return pb.ConnectReturnsPlatformRequest(
            code=self.code,
            platform=enum_value(pb.ReturnsPlatform, self.platform.name),
            channel=self.channel,
            webhook_secret=self.webhook_secret,
            api_base_url=self.api_base_url,
            access_token=self.access_token,
        )
