from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WorkOrderKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORK_ORDER_KIND_UNSPECIFIED: _ClassVar[WorkOrderKind]
    WORK_ORDER_KIND_KIT_ASSEMBLY: _ClassVar[WorkOrderKind]
    WORK_ORDER_KIND_VALUE_ADD: _ClassVar[WorkOrderKind]
    WORK_ORDER_KIND_REFURBISH: _ClassVar[WorkOrderKind]

class WorkOrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORK_ORDER_STATUS_UNSPECIFIED: _ClassVar[WorkOrderStatus]
    WORK_ORDER_STATUS_OPEN: _ClassVar[WorkOrderStatus]
    WORK_ORDER_STATUS_IN_PROGRESS: _ClassVar[WorkOrderStatus]
    WORK_ORDER_STATUS_COMPLETED: _ClassVar[WorkOrderStatus]
    WORK_ORDER_STATUS_CANCELLED: _ClassVar[WorkOrderStatus]

class OperationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPERATION_STATUS_UNSPECIFIED: _ClassVar[OperationStatus]
    OPERATION_STATUS_PENDING: _ClassVar[OperationStatus]
    OPERATION_STATUS_DONE: _ClassVar[OperationStatus]
WORK_ORDER_KIND_UNSPECIFIED: WorkOrderKind
WORK_ORDER_KIND_KIT_ASSEMBLY: WorkOrderKind
WORK_ORDER_KIND_VALUE_ADD: WorkOrderKind
WORK_ORDER_KIND_REFURBISH: WorkOrderKind
WORK_ORDER_STATUS_UNSPECIFIED: WorkOrderStatus
WORK_ORDER_STATUS_OPEN: WorkOrderStatus
WORK_ORDER_STATUS_IN_PROGRESS: WorkOrderStatus
WORK_ORDER_STATUS_COMPLETED: WorkOrderStatus
WORK_ORDER_STATUS_CANCELLED: WorkOrderStatus
OPERATION_STATUS_UNSPECIFIED: OperationStatus
OPERATION_STATUS_PENDING: OperationStatus
OPERATION_STATUS_DONE: OperationStatus

class Operation(_message.Message):
    __slots__ = ("name", "labor_minutes", "status")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABOR_MINUTES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    name: str
    labor_minutes: int
    status: OperationStatus
    def __init__(self, name: _Optional[str] = ..., labor_minutes: _Optional[int] = ..., status: _Optional[_Union[OperationStatus, str]] = ...) -> None: ...

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
    kind: WorkOrderKind
    status: WorkOrderStatus
    sku: str
    quantity: int
    location_code: str
    source_return_id: str
    operations: _containers.RepeatedCompositeFieldContainer[Operation]
    created_at: str
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[_Union[WorkOrderKind, str]] = ..., status: _Optional[_Union[WorkOrderStatus, str]] = ..., sku: _Optional[str] = ..., quantity: _Optional[int] = ..., location_code: _Optional[str] = ..., source_return_id: _Optional[str] = ..., operations: _Optional[_Iterable[_Union[Operation, _Mapping]]] = ..., created_at: _Optional[str] = ...) -> None: ...

class ListWorkOrdersRequest(_message.Message):
    __slots__ = ("status", "location_code", "source_return_id")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    status: WorkOrderStatus
    location_code: str
    source_return_id: str
    def __init__(self, status: _Optional[_Union[WorkOrderStatus, str]] = ..., location_code: _Optional[str] = ..., source_return_id: _Optional[str] = ...) -> None: ...

class ListWorkOrdersResponse(_message.Message):
    __slots__ = ("work_orders",)
    WORK_ORDERS_FIELD_NUMBER: _ClassVar[int]
    work_orders: _containers.RepeatedCompositeFieldContainer[WorkOrder]
    def __init__(self, work_orders: _Optional[_Iterable[_Union[WorkOrder, _Mapping]]] = ...) -> None: ...
