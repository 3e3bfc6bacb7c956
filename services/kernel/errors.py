"""Domain errors: values with stable codes, raised in the domain and mapped once at each edge."""

from __future__ import annotations

from enum import StrEnum
from typing import cast

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

ERROR_DOMAIN = "oms"


class ErrorCode(StrEnum):
    """Every refusal code a client may see, shared by all services and the gateway."""

    INVALID_INPUT = "INVALID_INPUT"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    NOT_FOUND = "NOT_FOUND"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    INVALID_STATE = "INVALID_STATE"
    WRONG_LOCATION = "WRONG_LOCATION"
    OUTSIDE_WINDOW = "OUTSIDE_WINDOW"
    FORBIDDEN = "FORBIDDEN"
    INVALID_ADDRESS = "INVALID_ADDRESS"
    # A webhook whose signature, freshness or sender does not check out.
    UNAUTHENTICATED = "UNAUTHENTICATED"


class DomainError(Exception):
    """A refused request: a stable code, a human message and the input field at fault."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"DomainError({self.code}, {self.message!r}, field={self.field!r})"


_STATUS_FOR_CODE = {
    ErrorCode.INVALID_INPUT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorCode.INVALID_QUANTITY: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorCode.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorCode.INSUFFICIENT_STOCK: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.INVALID_STATE: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.WRONG_LOCATION: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.OUTSIDE_WINDOW: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.FORBIDDEN: grpc.StatusCode.PERMISSION_DENIED,
    ErrorCode.INVALID_ADDRESS: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorCode.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
}


def to_grpc_status(error: DomainError) -> grpc.Status:
    """The rich gRPC status for a domain error: code plus google.rpc.ErrorInfo."""
    info = error_details_pb2.ErrorInfo(reason=error.code.value, domain=ERROR_DOMAIN)
    if error.field:
        info.metadata["field"] = error.field
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(
        code=_STATUS_FOR_CODE[error.code].value[0], message=error.message, details=[detail]
    )
    return rpc_status.to_status(status)


def from_rpc_error(error: grpc.RpcError) -> DomainError | None:
    """The domain error a service refused with, or None for a transport or internal fault."""
    # Every RpcError grpc raises is also a Call; the type stubs keep the two apart.
    status = rpc_status.from_call(cast(grpc.Call, error))
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            if info.domain == ERROR_DOMAIN and info.reason in ErrorCode.__members__:
                return DomainError(
                    ErrorCode(info.reason), status.message, info.metadata.get("field") or None
                )
    return None
