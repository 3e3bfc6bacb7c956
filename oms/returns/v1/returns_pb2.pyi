from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReturnStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETURN_STATUS_UNSPECIFIED: _ClassVar[ReturnStatus]
    RETURN_STATUS_REQUESTED: _ClassVar[ReturnStatus]
    RETURN_STATUS_RECEIVED: _ClassVar[ReturnStatus]
    RETURN_STATUS_INSPECTED: _ClassVar[ReturnStatus]
    RETURN_STATUS_REJECTED: _ClassVar[ReturnStatus]
    RETURN_STATUS_CLOSED: _ClassVar[ReturnStatus]

class ReturnReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETURN_REASON_UNSPECIFIED: _ClassVar[ReturnReason]
    RETURN_REASON_COLOR: _ClassVar[ReturnReason]
    RETURN_REASON_DEFECTIVE: _ClassVar[ReturnReason]
    RETURN_REASON_NOT_AS_DESCRIBED: _ClassVar[ReturnReason]
    RETURN_REASON_OTHER: _ClassVar[ReturnReason]
    RETURN_REASON_SIZE_TOO_LARGE: _ClassVar[ReturnReason]
    RETURN_REASON_SIZE_TOO_SMALL: _ClassVar[ReturnReason]
    RETURN_REASON_STYLE: _ClassVar[ReturnReason]
    RETURN_REASON_UNWANTED: _ClassVar[ReturnReason]
    RETURN_REASON_WRONG_ITEM: _ClassVar[ReturnReason]

class Grade(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRADE_UNSPECIFIED: _ClassVar[Grade]
    GRADE_NEW: _ClassVar[Grade]
    GRADE_LIKE_NEW: _ClassVar[Grade]
    GRADE_GOOD: _ClassVar[Grade]
    GRADE_DAMAGED: _ClassVar[Grade]
    GRADE_UNSALEABLE: _ClassVar[Grade]

class Disposition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPOSITION_UNSPECIFIED: _ClassVar[Disposition]
    DISPOSITION_RESTOCK: _ClassVar[Disposition]
    DISPOSITION_REFURBISH: _ClassVar[Disposition]
    DISPOSITION_LIQUIDATE: _ClassVar[Disposition]
    DISPOSITION_RECYCLE: _ClassVar[Disposition]

class RefundStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFUND_STATUS_UNSPECIFIED: _ClassVar[RefundStatus]
    REFUND_STATUS_PENDING: _ClassVar[RefundStatus]
    REFUND_STATUS_ISSUED: _ClassVar[RefundStatus]
    REFUND_STATUS_WITHHELD: _ClassVar[RefundStatus]
RETURN_STATUS_UNSPECIFIED: ReturnStatus
RETURN_STATUS_REQUESTED: ReturnStatus
RETURN_STATUS_RECEIVED: ReturnStatus
RETURN_STATUS_INSPECTED: ReturnStatus
RETURN_STATUS_REJECTED: ReturnStatus
RETURN_STATUS_CLOSED: ReturnStatus
RETURN_REASON_UNSPECIFIED: ReturnReason
RETURN_REASON_COLOR: ReturnReason
RETURN_REASON_DEFECTIVE: ReturnReason
RETURN_REASON_NOT_AS_DESCRIBED: ReturnReason
RETURN_REASON_OTHER: ReturnReason
RETURN_REASON_SIZE_TOO_LARGE: ReturnReason
RETURN_REASON_SIZE_TOO_SMALL: ReturnReason
RETURN_REASON_STYLE: ReturnReason
RETURN_REASON_UNWANTED: ReturnReason
RETURN_REASON_WRONG_ITEM: ReturnReason
GRADE_UNSPECIFIED: Grade
GRADE_NEW: Grade
GRADE_LIKE_NEW: Grade
GRADE_GOOD: Grade
GRADE_DAMAGED: Grade
GRADE_UNSALEABLE: Grade
DISPOSITION_UNSPECIFIED: Disposition
DISPOSITION_RESTOCK: Disposition
DISPOSITION_REFURBISH: Disposition
DISPOSITION_LIQUIDATE: Disposition
DISPOSITION_RECYCLE: Disposition
REFUND_STATUS_UNSPECIFIED: RefundStatus
REFUND_STATUS_PENDING: RefundStatus
REFUND_STATUS_ISSUED: RefundStatus
REFUND_STATUS_WITHHELD: RefundStatus

class Coordinates(_message.Message):
    __slots__ = ("latitude", "longitude")
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    latitude: float
    longitude: float
    def __init__(self, latitude: _Optional[float] = ..., longitude: _Optional[float] = ...) -> None: ...

class ReturnLine(_message.Message):
    __slots__ = ("sku", "quantity", "reason", "grade", "disposition", "settled_quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    DISPOSITION_FIELD_NUMBER: _ClassVar[int]
    SETTLED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    reason: ReturnReason
    grade: Grade
    disposition: Disposition
    settled_quantity: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., reason: _Optional[_Union[ReturnReason, str]] = ..., grade: _Optional[_Union[Grade, str]] = ..., disposition: _Optional[_Union[Disposition, str]] = ..., settled_quantity: _Optional[int] = ...) -> None: ...

class Refund(_message.Message):
    __slots__ = ("id", "status", "amount_cents", "provider", "issued_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: RefundStatus
    amount_cents: int
    provider: str
    issued_at: str
    def __init__(self, id: _Optional[str] = ..., status: _Optional[_Union[RefundStatus, str]] = ..., amount_cents: _Optional[int] = ..., provider: _Optional[str] = ..., issued_at: _Optional[str] = ...) -> None: ...

class Return(_message.Message):
    __slots__ = ("id", "order_id", "status", "destination_code", "destination_kind", "estimated_cost_cents", "centralized_cost_cents", "lines", "fraud_flags", "refund", "requested_at", "received_at", "inspected_at", "closed_at", "notes", "measured_weight_grams", "placed_by")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_CODE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_KIND_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    CENTRALIZED_COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    FRAUD_FLAGS_FIELD_NUMBER: _ClassVar[int]
    REFUND_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    INSPECTED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    MEASURED_WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    PLACED_BY_FIELD_NUMBER: _ClassVar[int]
    id: str
    order_id: str
    status: ReturnStatus
    destination_code: str
    destination_kind: str
    estimated_cost_cents: int
    centralized_cost_cents: int
    lines: _containers.RepeatedCompositeFieldContainer[ReturnLine]
    fraud_flags: _containers.RepeatedScalarFieldContainer[str]
    refund: Refund
    requested_at: str
    received_at: str
    inspected_at: str
    closed_at: str
    notes: str
    measured_weight_grams: int
    placed_by: str
    def __init__(self, id: _Optional[str] = ..., order_id: _Optional[str] = ..., status: _Optional[_Union[ReturnStatus, str]] = ..., destination_code: _Optional[str] = ..., destination_kind: _Optional[str] = ..., estimated_cost_cents: _Optional[int] = ..., centralized_cost_cents: _Optional[int] = ..., lines: _Optional[_Iterable[_Union[ReturnLine, _Mapping]]] = ..., fraud_flags: _Optional[_Iterable[str]] = ..., refund: _Optional[_Union[Refund, _Mapping]] = ..., requested_at: _Optional[str] = ..., received_at: _Optional[str] = ..., inspected_at: _Optional[str] = ..., closed_at: _Optional[str] = ..., notes: _Optional[str] = ..., measured_weight_grams: _Optional[int] = ..., placed_by: _Optional[str] = ...) -> None: ...

class RequestedLine(_message.Message):
    __slots__ = ("sku", "quantity", "reason")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    reason: ReturnReason
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., reason: _Optional[_Union[ReturnReason, str]] = ...) -> None: ...

class RequestReturnRequest(_message.Message):
    __slots__ = ("order_id", "lines", "customer", "requested_by")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    lines: _containers.RepeatedCompositeFieldContainer[RequestedLine]
    customer: Coordinates
    requested_by: str
    def __init__(self, order_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[RequestedLine, _Mapping]]] = ..., customer: _Optional[_Union[Coordinates, _Mapping]] = ..., requested_by: _Optional[str] = ...) -> None: ...

class ReceiveReturnRequest(_message.Message):
    __slots__ = ("return_id", "location_code")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    location_code: str
    def __init__(self, return_id: _Optional[str] = ..., location_code: _Optional[str] = ...) -> None: ...

class InspectedLine(_message.Message):
    __slots__ = ("sku", "serial_number", "grade")
    SKU_FIELD_NUMBER: _ClassVar[int]
    SERIAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    serial_number: str
    grade: Grade
    def __init__(self, sku: _Optional[str] = ..., serial_number: _Optional[str] = ..., grade: _Optional[_Union[Grade, str]] = ...) -> None: ...

class InspectReturnRequest(_message.Message):
    __slots__ = ("return_id", "lines", "measured_weight_grams", "notes", "acting_location_code")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    MEASURED_WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    ACTING_LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    lines: _containers.RepeatedCompositeFieldContainer[InspectedLine]
    measured_weight_grams: int
    notes: str
    acting_location_code: str
    def __init__(self, return_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[InspectedLine, _Mapping]]] = ..., measured_weight_grams: _Optional[int] = ..., notes: _Optional[str] = ..., acting_location_code: _Optional[str] = ...) -> None: ...

class GetReturnRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetReturnsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetReturnsResponse(_message.Message):
    __slots__ = ("returns",)
    RETURNS_FIELD_NUMBER: _ClassVar[int]
    returns: _containers.RepeatedCompositeFieldContainer[Return]
    def __init__(self, returns: _Optional[_Iterable[_Union[Return, _Mapping]]] = ...) -> None: ...

class HubQueueRequest(_message.Message):
    __slots__ = ("location_code",)
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    location_code: str
    def __init__(self, location_code: _Optional[str] = ...) -> None: ...

class HubQueueResponse(_message.Message):
    __slots__ = ("returns",)
    RETURNS_FIELD_NUMBER: _ClassVar[int]
    returns: _containers.RepeatedCompositeFieldContainer[Return]
    def __init__(self, returns: _Optional[_Iterable[_Union[Return, _Mapping]]] = ...) -> None: ...

class ReturnsReportRequest(_message.Message):
    __slots__ = ("to",)
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    to: str
    def __init__(self, to: _Optional[str] = ..., **kwargs) -> None: ...

class DestinationKindFigures(_message.Message):
    __slots__ = ("kind", "returns", "handling_cost_cents", "centralized_cost_cents")
    KIND_FIELD_NUMBER: _ClassVar[int]
    RETURNS_FIELD_NUMBER: _ClassVar[int]
    HANDLING_COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    CENTRALIZED_COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    returns: int
    handling_cost_cents: int
    centralized_cost_cents: int
    def __init__(self, kind: _Optional[str] = ..., returns: _Optional[int] = ..., handling_cost_cents: _Optional[int] = ..., centralized_cost_cents: _Optional[int] = ...) -> None: ...

class HubBacklog(_message.Message):
    __slots__ = ("location_code", "awaiting_inspection", "oldest_minutes")
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    AWAITING_INSPECTION_FIELD_NUMBER: _ClassVar[int]
    OLDEST_MINUTES_FIELD_NUMBER: _ClassVar[int]
    location_code: str
    awaiting_inspection: int
    oldest_minutes: int
    def __init__(self, location_code: _Optional[str] = ..., awaiting_inspection: _Optional[int] = ..., oldest_minutes: _Optional[int] = ...) -> None: ...

class ReturnsReport(_message.Message):
    __slots__ = ("returns", "by_destination_kind", "handling_cost_cents", "centralized_cost_cents", "saving_cents", "request_to_refund_hours_p50", "request_to_refund_hours_p90", "receipt_to_restock_hours_p50", "receipt_to_restock_hours_p90", "backlog", "awaiting_inspection")
    RETURNS_FIELD_NUMBER: _ClassVar[int]
    BY_DESTINATION_KIND_FIELD_NUMBER: _ClassVar[int]
    HANDLING_COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    CENTRALIZED_COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    SAVING_CENTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_TO_REFUND_HOURS_P50_FIELD_NUMBER: _ClassVar[int]
    REQUEST_TO_REFUND_HOURS_P90_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_TO_RESTOCK_HOURS_P50_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_TO_RESTOCK_HOURS_P90_FIELD_NUMBER: _ClassVar[int]
    BACKLOG_FIELD_NUMBER: _ClassVar[int]
    AWAITING_INSPECTION_FIELD_NUMBER: _ClassVar[int]
    returns: int
    by_destination_kind: _containers.RepeatedCompositeFieldContainer[DestinationKindFigures]
    handling_cost_cents: int
    centralized_cost_cents: int
    saving_cents: int
    request_to_refund_hours_p50: float
    request_to_refund_hours_p90: float
    receipt_to_restock_hours_p50: float
    receipt_to_restock_hours_p90: float
    backlog: _containers.RepeatedCompositeFieldContainer[HubBacklog]
    awaiting_inspection: int
    def __init__(self, returns: _Optional[int] = ..., by_destination_kind: _Optional[_Iterable[_Union[DestinationKindFigures, _Mapping]]] = ..., handling_cost_cents: _Optional[int] = ..., centralized_cost_cents: _Optional[int] = ..., saving_cents: _Optional[int] = ..., request_to_refund_hours_p50: _Optional[float] = ..., request_to_refund_hours_p90: _Optional[float] = ..., receipt_to_restock_hours_p50: _Optional[float] = ..., receipt_to_restock_hours_p90: _Optional[float] = ..., backlog: _Optional[_Iterable[_Union[HubBacklog, _Mapping]]] = ..., awaiting_inspection: _Optional[int] = ...) -> None: ...
