from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderLineFact(_message.Message):
    __slots__ = ("sku", "quantity", "unit_price_cents")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_CENTS_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    unit_price_cents: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price_cents: _Optional[int] = ...) -> None: ...

class ShipmentFact(_message.Message):
    __slots__ = ("shipment_id", "location_code", "lines")
    SHIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    shipment_id: str
    location_code: str
    lines: _containers.RepeatedCompositeFieldContainer[OrderLineFact]
    def __init__(self, shipment_id: _Optional[str] = ..., location_code: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[OrderLineFact, _Mapping]]] = ...) -> None: ...

class OrderPlaced(_message.Message):
    __slots__ = ("order_id", "number", "channel", "lines", "shipments", "routing_cost_cents")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    ROUTING_COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    number: str
    channel: str
    lines: _containers.RepeatedCompositeFieldContainer[OrderLineFact]
    shipments: _containers.RepeatedCompositeFieldContainer[ShipmentFact]
    routing_cost_cents: int
    def __init__(self, order_id: _Optional[str] = ..., number: _Optional[str] = ..., channel: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[OrderLineFact, _Mapping]]] = ..., shipments: _Optional[_Iterable[_Union[ShipmentFact, _Mapping]]] = ..., routing_cost_cents: _Optional[int] = ...) -> None: ...

class OrderCancelled(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class ShipmentShipped(_message.Message):
    __slots__ = ("order_id", "shipment", "tracking_number")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SHIPMENT_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    shipment: ShipmentFact
    tracking_number: str
    def __init__(self, order_id: _Optional[str] = ..., shipment: _Optional[_Union[ShipmentFact, _Mapping]] = ..., tracking_number: _Optional[str] = ...) -> None: ...
