from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LocationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOCATION_KIND_UNSPECIFIED: _ClassVar[LocationKind]
    LOCATION_KIND_DISTRIBUTION_CENTER: _ClassVar[LocationKind]
    LOCATION_KIND_THIRD_PARTY_WAREHOUSE: _ClassVar[LocationKind]
    LOCATION_KIND_STORE: _ClassVar[LocationKind]
    LOCATION_KIND_RETURN_HUB: _ClassVar[LocationKind]

class ReservationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESERVATION_STATUS_UNSPECIFIED: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_HELD: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_RELEASED: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_COMMITTED: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_PARTIALLY_COMMITTED: _ClassVar[ReservationStatus]
LOCATION_KIND_UNSPECIFIED: LocationKind
LOCATION_KIND_DISTRIBUTION_CENTER: LocationKind
LOCATION_KIND_THIRD_PARTY_WAREHOUSE: LocationKind
LOCATION_KIND_STORE: LocationKind
LOCATION_KIND_RETURN_HUB: LocationKind
RESERVATION_STATUS_UNSPECIFIED: ReservationStatus
RESERVATION_STATUS_HELD: ReservationStatus
RESERVATION_STATUS_RELEASED: ReservationStatus
RESERVATION_STATUS_COMMITTED: ReservationStatus
RESERVATION_STATUS_PARTIALLY_COMMITTED: ReservationStatus

class Location(_message.Message):
    __slots__ = ("id", "code", "name", "kind", "latitude", "longitude", "ships_orders", "accepts_returns")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    SHIPS_ORDERS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTS_RETURNS_FIELD_NUMBER: _ClassVar[int]
    id: str
    code: str
    name: str
    kind: LocationKind
    latitude: float
    longitude: float
    ships_orders: bool
    accepts_returns: bool
    def __init__(self, id: _Optional[str] = ..., code: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[LocationKind, str]] = ..., latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., ships_orders: _Optional[bool] = ..., accepts_returns: _Optional[bool] = ...) -> None: ...

class Sku(_message.Message):
    __slots__ = ("code", "title", "unit_cost_cents", "weight_grams", "serialized")
    CODE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    UNIT_COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    SERIALIZED_FIELD_NUMBER: _ClassVar[int]
    code: str
    title: str
    unit_cost_cents: int
    weight_grams: int
    serialized: bool
    def __init__(self, code: _Optional[str] = ..., title: _Optional[str] = ..., unit_cost_cents: _Optional[int] = ..., weight_grams: _Optional[int] = ..., serialized: _Optional[bool] = ...) -> None: ...

class StockLevel(_message.Message):
    __slots__ = ("sku", "location_code", "on_hand", "reserved", "available", "in_transit", "pending_inspection", "in_repair")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    IN_TRANSIT_FIELD_NUMBER: _ClassVar[int]
    PENDING_INSPECTION_FIELD_NUMBER: _ClassVar[int]
    IN_REPAIR_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_code: str
    on_hand: int
    reserved: int
    available: int
    in_transit: int
    pending_inspection: int
    in_repair: int
    def __init__(self, sku: _Optional[str] = ..., location_code: _Optional[str] = ..., on_hand: _Optional[int] = ..., reserved: _Optional[int] = ..., available: _Optional[int] = ..., in_transit: _Optional[int] = ..., pending_inspection: _Optional[int] = ..., in_repair: _Optional[int] = ...) -> None: ...

class UpsertLocationRequest(_message.Message):
    __slots__ = ("code", "name", "kind", "latitude", "longitude", "ships_orders", "accepts_returns")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    SHIPS_ORDERS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTS_RETURNS_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    kind: LocationKind
    latitude: float
    longitude: float
    ships_orders: bool
    accepts_returns: bool
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[LocationKind, str]] = ..., latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., ships_orders: _Optional[bool] = ..., accepts_returns: _Optional[bool] = ...) -> None: ...

class ListLocationsRequest(_message.Message):
    __slots__ = ("codes",)
    CODES_FIELD_NUMBER: _ClassVar[int]
    codes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, codes: _Optional[_Iterable[str]] = ...) -> None: ...

class ListLocationsResponse(_message.Message):
    __slots__ = ("locations",)
    LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    locations: _containers.RepeatedCompositeFieldContainer[Location]
    def __init__(self, locations: _Optional[_Iterable[_Union[Location, _Mapping]]] = ...) -> None: ...

class UpsertSkuRequest(_message.Message):
    __slots__ = ("code", "title", "unit_cost_cents", "weight_grams", "serialized")
    CODE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    UNIT_COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    SERIALIZED_FIELD_NUMBER: _ClassVar[int]
    code: str
    title: str
    unit_cost_cents: int
    weight_grams: int
    serialized: bool
    def __init__(self, code: _Optional[str] = ..., title: _Optional[str] = ..., unit_cost_cents: _Optional[int] = ..., weight_grams: _Optional[int] = ..., serialized: _Optional[bool] = ...) -> None: ...

class ListSkusRequest(_message.Message):
    __slots__ = ("codes",)
    CODES_FIELD_NUMBER: _ClassVar[int]
    codes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, codes: _Optional[_Iterable[str]] = ...) -> None: ...

class ListSkusResponse(_message.Message):
    __slots__ = ("skus",)
    SKUS_FIELD_NUMBER: _ClassVar[int]
    skus: _containers.RepeatedCompositeFieldContainer[Sku]
    def __init__(self, skus: _Optional[_Iterable[_Union[Sku, _Mapping]]] = ...) -> None: ...

class AdjustStockRequest(_message.Message):
    __slots__ = ("sku", "location_code", "delta", "reason")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_code: str
    delta: int
    reason: str
    def __init__(self, sku: _Optional[str] = ..., location_code: _Optional[str] = ..., delta: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class GetStockLevelsRequest(_message.Message):
    __slots__ = ("skus", "location_codes")
    SKUS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODES_FIELD_NUMBER: _ClassVar[int]
    skus: _containers.RepeatedScalarFieldContainer[str]
    location_codes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, skus: _Optional[_Iterable[str]] = ..., location_codes: _Optional[_Iterable[str]] = ...) -> None: ...

class GetStockLevelsResponse(_message.Message):
    __slots__ = ("levels",)
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    levels: _containers.RepeatedCompositeFieldContainer[StockLevel]
    def __init__(self, levels: _Optional[_Iterable[_Union[StockLevel, _Mapping]]] = ...) -> None: ...

class GetAvailabilityRequest(_message.Message):
    __slots__ = ("skus", "channel")
    SKUS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    skus: _containers.RepeatedScalarFieldContainer[str]
    channel: str
    def __init__(self, skus: _Optional[_Iterable[str]] = ..., channel: _Optional[str] = ...) -> None: ...

class SkuAvailability(_message.Message):
    __slots__ = ("sku", "available")
    SKU_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    available: int
    def __init__(self, sku: _Optional[str] = ..., available: _Optional[int] = ...) -> None: ...

class GetAvailabilityResponse(_message.Message):
    __slots__ = ("availability",)
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    availability: _containers.RepeatedCompositeFieldContainer[SkuAvailability]
    def __init__(self, availability: _Optional[_Iterable[_Union[SkuAvailability, _Mapping]]] = ...) -> None: ...

class SafetyStock(_message.Message):
    __slots__ = ("sku", "units")
    SKU_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    sku: str
    units: int
    def __init__(self, sku: _Optional[str] = ..., units: _Optional[int] = ...) -> None: ...

class Channel(_message.Message):
    __slots__ = ("code", "default_safety_stock", "safety_stock")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    code: str
    default_safety_stock: int
    safety_stock: _containers.RepeatedCompositeFieldContainer[SafetyStock]
    def __init__(self, code: _Optional[str] = ..., default_safety_stock: _Optional[int] = ..., safety_stock: _Optional[_Iterable[_Union[SafetyStock, _Mapping]]] = ...) -> None: ...

class UpsertChannelRequest(_message.Message):
    __slots__ = ("code", "default_safety_stock", "safety_stock")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    code: str
    default_safety_stock: int
    safety_stock: _containers.RepeatedCompositeFieldContainer[SafetyStock]
    def __init__(self, code: _Optional[str] = ..., default_safety_stock: _Optional[int] = ..., safety_stock: _Optional[_Iterable[_Union[SafetyStock, _Mapping]]] = ...) -> None: ...

class ReservationLine(_message.Message):
    __slots__ = ("sku", "location_code", "quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_code: str
    quantity: int
    def __init__(self, sku: _Optional[str] = ..., location_code: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class Reservation(_message.Message):
    __slots__ = ("key", "status", "held", "committed", "released")
    KEY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    key: str
    status: ReservationStatus
    held: _containers.RepeatedCompositeFieldContainer[ReservationLine]
    committed: _containers.RepeatedCompositeFieldContainer[ReservationLine]
    released: _containers.RepeatedCompositeFieldContainer[ReservationLine]
    def __init__(self, key: _Optional[str] = ..., status: _Optional[_Union[ReservationStatus, str]] = ..., held: _Optional[_Iterable[_Union[ReservationLine, _Mapping]]] = ..., committed: _Optional[_Iterable[_Union[ReservationLine, _Mapping]]] = ..., released: _Optional[_Iterable[_Union[ReservationLine, _Mapping]]] = ...) -> None: ...

class ReserveRequest(_message.Message):
    __slots__ = ("key", "lines", "holder_type")
    KEY_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    HOLDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    key: str
    lines: _containers.RepeatedCompositeFieldContainer[ReservationLine]
    holder_type: str
    def __init__(self, key: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReservationLine, _Mapping]]] = ..., holder_type: _Optional[str] = ...) -> None: ...

class ReleaseRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class CommitRequest(_message.Message):
    __slots__ = ("key", "location_code")
    KEY_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    key: str
    location_code: str
    def __init__(self, key: _Optional[str] = ..., location_code: _Optional[str] = ...) -> None: ...

class GetReservationRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class GetSourcingOptionsRequest(_message.Message):
    __slots__ = ("skus",)
    SKUS_FIELD_NUMBER: _ClassVar[int]
    skus: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, skus: _Optional[_Iterable[str]] = ...) -> None: ...

class SkuUnits(_message.Message):
    __slots__ = ("sku", "available")
    SKU_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    available: int
    def __init__(self, sku: _Optional[str] = ..., available: _Optional[int] = ...) -> None: ...

class SourcingOption(_message.Message):
    __slots__ = ("location", "available")
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    location: Location
    available: _containers.RepeatedCompositeFieldContainer[SkuUnits]
    def __init__(self, location: _Optional[_Union[Location, _Mapping]] = ..., available: _Optional[_Iterable[_Union[SkuUnits, _Mapping]]] = ...) -> None: ...

class GetSourcingOptionsResponse(_message.Message):
    __slots__ = ("options", "unknown_skus")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_SKUS_FIELD_NUMBER: _ClassVar[int]
    options: _containers.RepeatedCompositeFieldContainer[SourcingOption]
    unknown_skus: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, options: _Optional[_Iterable[_Union[SourcingOption, _Mapping]]] = ..., unknown_skus: _Optional[_Iterable[str]] = ...) -> None: ...

class StockMovement(_message.Message):
    __slots__ = ("id", "sku", "location_code", "on_hand_delta", "reserved_delta", "in_transit_delta", "pending_inspection_delta", "in_repair_delta", "reason", "source_type", "source_id", "occurred_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_DELTA_FIELD_NUMBER: _ClassVar[int]
    RESERVED_DELTA_FIELD_NUMBER: _ClassVar[int]
    IN_TRANSIT_DELTA_FIELD_NUMBER: _ClassVar[int]
    PENDING_INSPECTION_DELTA_FIELD_NUMBER: _ClassVar[int]
    IN_REPAIR_DELTA_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    sku: str
    location_code: str
    on_hand_delta: int
    reserved_delta: int
    in_transit_delta: int
    pending_inspection_delta: int
    in_repair_delta: int
    reason: str
    source_type: str
    source_id: str
    occurred_at: str
    def __init__(self, id: _Optional[int] = ..., sku: _Optional[str] = ..., location_code: _Optional[str] = ..., on_hand_delta: _Optional[int] = ..., reserved_delta: _Optional[int] = ..., in_transit_delta: _Optional[int] = ..., pending_inspection_delta: _Optional[int] = ..., in_repair_delta: _Optional[int] = ..., reason: _Optional[str] = ..., source_type: _Optional[str] = ..., source_id: _Optional[str] = ..., occurred_at: _Optional[str] = ...) -> None: ...

class ListMovementsRequest(_message.Message):
    __slots__ = ("sku", "location_code", "limit")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_code: str
    limit: int
    def __init__(self, sku: _Optional[str] = ..., location_code: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListMovementsResponse(_message.Message):
    __slots__ = ("movements",)
    MOVEMENTS_FIELD_NUMBER: _ClassVar[int]
    movements: _containers.RepeatedCompositeFieldContainer[StockMovement]
    def __init__(self, movements: _Optional[_Iterable[_Union[StockMovement, _Mapping]]] = ...) -> None: ...
