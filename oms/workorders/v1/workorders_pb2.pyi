from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Operation(_message.Message):
    __slots__ = ("name", "status", "labor_minutes")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LABOR_MINUTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    status: str
    labor_minutes: int
    def __init__(self, name: _Optional[str] = ..., status: _Optional[str] = ..., labor_minutes: _Optional[int] = ...) -> None: ...

class WorkOrder(_message.Message):
    __slots__ = ("id", "kind", "status", "sku", "quantity", "location_code", "source_return_id", "operations", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    status: str
    sku: str
    quantity: int
    location_code: str
    source_return_id: str
    operations: _containers.RepeatedCompositeFieldContainer[Operation]
    created_at: str
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., status: _Optional[str] = ..., sku: _Optional[str] = ..., quantity: _Optional[int] = ..., location_code: _Optional[str] = ..., source_return_id: _Optional[str] = ..., operations: _Optional[_Iterable[_Union[Operation, _Mapping]]] = ..., created_at: _Optional[str] = ...) -> None: ...

class ListWorkOrdersRequest(_message.Message):
    __slots__ = ("status", "location_code", "source_return_id")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    status: str
    location_code: str
    source_return_id: str
    def __init__(self, status: _Optional[str] = ..., location_code: _Optional[str] = ..., source_return_id: _Optional[str] = ...) -> None: ...

class ListWorkOrdersResponse(_message.Message):
    __slots__ = ("work_orders",)
    WORK_ORDERS_FIELD_NUMBER: _ClassVar[int]
    work_orders: _containers.RepeatedCompositeFieldContainer[WorkOrder]
    def __init__(self, work_orders: _Optional[_Iterable[_Union[WorkOrder, _Mapping]]] = ...) -> None: ...
