from oms.workorders.v1 import workorders_pb2 as _workorders_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WorkOrderOpened(_message.Message):
    __slots__ = ("work_order_id", "kind", "sku", "quantity", "location_code", "source_return_id")
    WORK_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    work_order_id: str
    kind: _workorders_pb2.WorkOrderKind
    sku: str
    quantity: int
    location_code: str
    source_return_id: str
    def __init__(self, work_order_id: _Optional[str] = ..., kind: _Optional[_Union[_workorders_pb2.WorkOrderKind, str]] = ..., sku: _Optional[str] = ..., quantity: _Optional[int] = ..., location_code: _Optional[str] = ..., source_return_id: _Optional[str] = ...) -> None: ...

class WorkOrderCompleted(_message.Message):
    __slots__ = ("work_order_id", "kind", "sku", "quantity", "location_code", "source_return_id")
    WORK_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    work_order_id: str
    kind: _workorders_pb2.WorkOrderKind
    sku: str
    quantity: int
    location_code: str
    source_return_id: str
    def __init__(self, work_order_id: _Optional[str] = ..., kind: _Optional[_Union[_workorders_pb2.WorkOrderKind, str]] = ..., sku: _Optional[str] = ..., quantity: _Optional[int] = ..., location_code: _Optional[str] = ..., source_return_id: _Optional[str] = ...) -> None: ...
