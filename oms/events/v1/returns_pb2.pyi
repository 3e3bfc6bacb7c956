from oms.returns.v1 import returns_pb2 as _returns_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReturnUnits(_message.Message):
    __slots__ = ("sku", "quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class InspectedUnits(_message.Message):
    __slots__ = ("sku", "quantity", "grade", "disposition")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    DISPOSITION_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    grade: _returns_pb2.Grade
    disposition: _returns_pb2.Disposition
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., grade: _Optional[_Union[_returns_pb2.Grade, str]] = ..., disposition: _Optional[_Union[_returns_pb2.Disposition, str]] = ...) -> None: ...

class ReturnRequested(_message.Message):
    __slots__ = ("return_id", "order_id", "destination_code", "lines")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_CODE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    order_id: str
    destination_code: str
    lines: _containers.RepeatedCompositeFieldContainer[ReturnUnits]
    def __init__(self, return_id: _Optional[str] = ..., order_id: _Optional[str] = ..., destination_code: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReturnUnits, _Mapping]]] = ...) -> None: ...

class ReturnReceived(_message.Message):
    __slots__ = ("return_id", "location_code", "lines")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    location_code: str
    lines: _containers.RepeatedCompositeFieldContainer[ReturnUnits]
    def __init__(self, return_id: _Optional[str] = ..., location_code: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReturnUnits, _Mapping]]] = ...) -> None: ...

class ReturnInspected(_message.Message):
    __slots__ = ("return_id", "location_code", "lines")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    location_code: str
    lines: _containers.RepeatedCompositeFieldContainer[InspectedUnits]
    def __init__(self, return_id: _Optional[str] = ..., location_code: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[InspectedUnits, _Mapping]]] = ...) -> None: ...

class ReturnRejected(_message.Message):
    __slots__ = ("return_id", "location_code", "lines", "fraud_flags")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    FRAUD_FLAGS_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    location_code: str
    lines: _containers.RepeatedCompositeFieldContainer[ReturnUnits]
    fraud_flags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, return_id: _Optional[str] = ..., location_code: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReturnUnits, _Mapping]]] = ..., fraud_flags: _Optional[_Iterable[str]] = ...) -> None: ...

class RefundIssued(_message.Message):
    __slots__ = ("return_id", "refund_id", "amount_cents", "provider")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    refund_id: str
    amount_cents: int
    provider: str
    def __init__(self, return_id: _Optional[str] = ..., refund_id: _Optional[str] = ..., amount_cents: _Optional[int] = ..., provider: _Optional[str] = ...) -> None: ...
