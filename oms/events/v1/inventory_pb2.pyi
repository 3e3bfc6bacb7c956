from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class StockLevelChanged(_message.Message):
    __slots__ = ("sku", "location_code", "on_hand", "reserved", "available", "in_transit", "pending_inspection", "in_repair", "reason", "source_type", "source_id", "movement_id")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_CODE_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    IN_TRANSIT_FIELD_NUMBER: _ClassVar[int]
    PENDING_INSPECTION_FIELD_NUMBER: _ClassVar[int]
    IN_REPAIR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    MOVEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_code: str
    on_hand: int
    reserved: int
    available: int
    in_transit: int
    pending_inspection: int
    in_repair: int
    reason: str
    source_type: str
    source_id: str
    movement_id: int
    def __init__(self, sku: _Optional[str] = ..., location_code: _Optional[str] = ..., on_hand: _Optional[int] = ..., reserved: _Optional[int] = ..., available: _Optional[int] = ..., in_transit: _Optional[int] = ..., pending_inspection: _Optional[int] = ..., in_repair: _Optional[int] = ..., reason: _Optional[str] = ..., source_type: _Optional[str] = ..., source_id: _Optional[str] = ..., movement_id: _Optional[int] = ...) -> None: ...
