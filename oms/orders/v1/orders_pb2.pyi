from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SplitPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPLIT_POLICY_UNSPECIFIED: _ClassVar[SplitPolicy]
    SPLIT_POLICY_ALLOW_SPLIT: _ClassVar[SplitPolicy]
    SPLIT_POLICY_SHIP_COMPLETE: _ClassVar[SplitPolicy]

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_ALLOCATED: _ClassVar[OrderStatus]
    ORDER_STATUS_BACKORDERED: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_SHIPPED: _ClassVar[OrderStatus]
    ORDER_STATUS_SHIPPED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELLED: _ClassVar[OrderStatus]

class ShipmentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHIPMENT_STATUS_UNSPECIFIED: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_ALLOCATED: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_SHIPPED: _ClassVar[ShipmentStatus]
    SHIPMENT_STATUS_CANCELLED: _ClassVar[ShipmentStatus]
SPLIT_POLICY_UNSPECIFIED: SplitPolicy
SPLIT_POLICY_ALLOW_SPLIT: SplitPolicy
SPLIT_POLICY_SHIP_COMPLETE: SplitPolicy
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_ALLOCATED: OrderStatus
ORDER_STATUS_BACKORDERED: OrderStatus
ORDER_STATUS_PARTIALLY_SHIPPED: OrderStatus
ORDER_STATUS_SHIPPED: OrderStatus
ORDER_STATUS_CANCELLED: OrderStatus
SHIPMENT_STATUS_UNSPECIFIED: ShipmentStatus
SHIPMENT_STATUS_ALLOCATED: ShipmentStatus
SHIPMENT_STATUS_SHIPPED: ShipmentStatus
SHIPMENT_STATUS_CANCELLED: ShipmentStatus

class Address(_message.Message):
    __slots__ = ("name", "line1", "city", "postal_code", "country", "latitude", "longitude")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LINE1_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    latitude: float
    longitude: float
    def __init__(self, name: _Optional[str] = ..., line1: _Optional[str] = ..., city: _Optional[str] = ..., postal_code: _Optional[str] = ..., country: _Optional[str] = ..., latitude: _Optional[float] = ..., longitude: _Optional[float] = ...) -> None: ...

class OrderLine(_message.Message):
    __slots__ = ("sku", "quantity", "unit_price_cents")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_CENTS_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    unit_price_cents: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price_cents: _Optional[int] = ...) -> None: ...

class ShipmentLine(_message.Message):
    __slots__ = ("sku", "quantity", "serial_numbers")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    SERIAL_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    serial_numbers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., serial_numbers: _Optional[_Iterable[str]] = ...) -> None: ...

class Shipment(_message.Message):
    __slots__ = ("id", "location_code", "status", "lines", "tracking_number", "shipped_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SHIPPED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    location_code: str
    status: ShipmentStatus
    lines: _containers.RepeatedCompositeFieldContainer[ShipmentLine]
    tracking_number: str
    shipped_at: str
    def __init__(self, id: _Optional[str] = ..., location_code: _Optional[str] = ..., status: _Optional[_Union[ShipmentStatus, str]] = ..., lines: _Optional[_Iterable[_Union[ShipmentLine, _Mapping]]] = ..., tracking_number: _Optional[str] = ..., shipped_at: _Optional[str] = ...) -> None: ...

class ParcelCost(_message.Message):
    __slots__ = ("location_code", "location_kind", "distance_km", "shipping_cents", "handling_cents", "extra_parcel_cents", "total_cents", "units")
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    LOCATION_KIND_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_CENTS_FIELD_NUMBER: _ClassVar[int]
    HANDLING_CENTS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_PARCEL_CENTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CENTS_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    location_code: str
    location_kind: str
    distance_km: float
    shipping_cents: int
    handling_cents: int
    extra_parcel_cents: int
    total_cents: int
    units: int
    def __init__(self, location_code: _Optional[str] = ..., location_kind: _Optional[str] = ..., distance_km: _Optional[float] = ..., shipping_cents: _Optional[int] = ..., handling_cents: _Optional[int] = ..., extra_parcel_cents: _Optional[int] = ..., total_cents: _Optional[int] = ..., units: _Optional[int] = ...) -> None: ...

class Routing(_message.Message):
    __slots__ = ("parcels", "total_cents", "algorithm", "candidates_considered", "explanation")
    PARCELS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CENTS_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_CONSIDERED_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    parcels: _containers.RepeatedCompositeFieldContainer[ParcelCost]
    total_cents: int
    algorithm: str
    candidates_considered: int
    explanation: str
    def __init__(self, parcels: _Optional[_Iterable[_Union[ParcelCost, _Mapping]]] = ..., total_cents: _Optional[int] = ..., algorithm: _Optional[str] = ..., candidates_considered: _Optional[int] = ..., explanation: _Optional[str] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("id", "number", "status", "channel", "external_id", "email", "ship_to", "lines", "shipments", "routing", "placed_by", "split_policy", "placed_at", "shipped_at", "cancelled_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    SHIP_TO_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    ROUTING_FIELD_NUMBER: _ClassVar[int]
    PLACED_BY_FIELD_NUMBER: _ClassVar[int]
    SPLIT_POLICY_FIELD_NUMBER: _ClassVar[int]
    PLACED_AT_FIELD_NUMBER: _ClassVar[int]
    SHIPPED_AT_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    number: str
    status: OrderStatus
    channel: str
    external_id: str
    email: str
    ship_to: Address
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    shipments: _containers.RepeatedCompositeFieldContainer[Shipment]
    routing: Routing
    placed_by: str
    split_policy: SplitPolicy
    placed_at: str
    shipped_at: str
    cancelled_at: str
    def __init__(self, id: _Optional[str] = ..., number: _Optional[str] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., channel: _Optional[str] = ..., external_id: _Optional[str] = ..., email: _Optional[str] = ..., ship_to: _Optional[_Union[Address, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ..., shipments: _Optional[_Iterable[_Union[Shipment, _Mapping]]] = ..., routing: _Optional[_Union[Routing, _Mapping]] = ..., placed_by: _Optional[str] = ..., split_policy: _Optional[_Union[SplitPolicy, str]] = ..., placed_at: _Optional[str] = ..., shipped_at: _Optional[str] = ..., cancelled_at: _Optional[str] = ...) -> None: ...

class PlaceOrderRequest(_message.Message):
    __slots__ = ("channel", "external_id", "email", "ship_to", "lines", "split_policy", "placed_by")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    SHIP_TO_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SPLIT_POLICY_FIELD_NUMBER: _ClassVar[int]
    PLACED_BY_FIELD_NUMBER: _ClassVar[int]
    channel: str
    external_id: str
    email: str
    ship_to: Address
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    split_policy: SplitPolicy
    placed_by: str
    def __init__(self, channel: _Optional[str] = ..., external_id: _Optional[str] = ..., email: _Optional[str] = ..., ship_to: _Optional[_Union[Address, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ..., split_policy: _Optional[_Union[SplitPolicy, str]] = ..., placed_by: _Optional[str] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetOrdersRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetOrdersResponse(_message.Message):
    __slots__ = ("orders",)
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("first", "after", "status", "placed_by")
    FIRST_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PLACED_BY_FIELD_NUMBER: _ClassVar[int]
    first: int
    after: str
    status: OrderStatus
    placed_by: str
    def __init__(self, first: _Optional[int] = ..., after: _Optional[str] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., placed_by: _Optional[str] = ...) -> None: ...

class OrderEdge(_message.Message):
    __slots__ = ("cursor", "order")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    order: Order
    def __init__(self, cursor: _Optional[str] = ..., order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("edges", "has_next_page", "end_cursor")
    EDGES_FIELD_NUMBER: _ClassVar[int]
    HAS_NEXT_PAGE_FIELD_NUMBER: _ClassVar[int]
    END_CURSOR_FIELD_NUMBER: _ClassVar[int]
    edges: _containers.RepeatedCompositeFieldContainer[OrderEdge]
    has_next_page: bool
    end_cursor: str
    def __init__(self, edges: _Optional[_Iterable[_Union[OrderEdge, _Mapping]]] = ..., has_next_page: _Optional[bool] = ..., end_cursor: _Optional[str] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ShipShipmentRequest(_message.Message):
    __slots__ = ("shipment_id", "tracking_number", "serials")
    SHIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SERIALS_FIELD_NUMBER: _ClassVar[int]
    shipment_id: str
    tracking_number: str
    serials: _containers.RepeatedCompositeFieldContainer[ShipmentLine]
    def __init__(self, shipment_id: _Optional[str] = ..., tracking_number: _Optional[str] = ..., serials: _Optional[_Iterable[_Union[ShipmentLine, _Mapping]]] = ...) -> None: ...

class ShipShipmentResponse(_message.Message):
    __slots__ = ("order", "shipment")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    SHIPMENT_FIELD_NUMBER: _ClassVar[int]
    order: Order
    shipment: Shipment
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ..., shipment: _Optional[_Union[Shipment, _Mapping]] = ...) -> None: ...

class PendingOrdersSummaryRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PendingOrdersSummary(_message.Message):
    __slots__ = ("pending_orders", "oldest_pending_minutes")
    PENDING_ORDERS_FIELD_NUMBER: _ClassVar[int]
    OLDEST_PENDING_MINUTES_FIELD_NUMBER: _ClassVar[int]
    pending_orders: int
    oldest_pending_minutes: int
    def __init__(self, pending_orders: _Optional[int] = ..., oldest_pending_minutes: _Optional[int] = ...) -> None: ...
