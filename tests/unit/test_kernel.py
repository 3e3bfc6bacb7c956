"""Kernel pieces that need no I/O: settings, subjects, error mapping."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from services.kernel.errors import DomainError, ErrorCode, to_grpc_status
from services.kernel.events import redelivery_delay
from services.kernel.outbox import subject_for
from services.kernel.settings import ServiceSettings, normalize_database_url


def test_subjects_name_the_domain_and_the_fact() -> None:
    assert subject_for("inventory", "StockLevelChanged") == "oms.inventory.stock_level_changed"
    assert subject_for("returns", "RefundIssued") == "oms.returns.refund_issued"


def test_plain_database_urls_get_the_async_drivers_we_ship() -> None:
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("sqlite:///x.sqlite") == "sqlite+aiosqlite:///x.sqlite"
    assert normalize_database_url("postgresql+asyncpg://u@h/db") == "postgresql+asyncpg://u@h/db"


def test_service_settings_default_to_one_sqlite_file_per_service(tmp_path: Path) -> None:
    env = {"OMS_DATA_DIR": str(tmp_path), "OMS_ORDERS_DATABASE_URL": "postgresql://pg/orders"}
    inventory = ServiceSettings.from_env("inventory", env)
    orders = ServiceSettings.from_env("orders", env)
    assert inventory.database_url == f"sqlite+aiosqlite:///{tmp_path / 'inventory.sqlite'}"
    assert orders.database_url == "postgresql+psycopg://pg/orders"
    assert (inventory.grpc_listen, orders.grpc_listen) == ("127.0.0.1:50051", "127.0.0.1:50052")
    with pytest.raises(ValueError):
        ServiceSettings.from_env("billing", env)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (ErrorCode.NOT_FOUND, grpc.StatusCode.NOT_FOUND),
        (ErrorCode.INVALID_QUANTITY, grpc.StatusCode.INVALID_ARGUMENT),
        (ErrorCode.INSUFFICIENT_STOCK, grpc.StatusCode.FAILED_PRECONDITION),
        (ErrorCode.FORBIDDEN, grpc.StatusCode.PERMISSION_DENIED),
    ],
)
def test_every_error_code_has_a_grpc_status(code: ErrorCode, status: grpc.StatusCode) -> None:
    assert to_grpc_status(DomainError(code, "m", "f")).code == status


def test_all_error_codes_are_mapped() -> None:
    for code in ErrorCode:
        to_grpc_status(DomainError(code, "m"))


def test_failed_events_come_back_ever_later_up_to_a_minute() -> None:
    delays = [redelivery_delay(n) for n in range(1, 10)]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert delays == sorted(delays) and max(delays) == 60.0


def test_every_proto_enum_round_trips_through_its_unprefixed_names() -> None:
    from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

    from oms.inventory.v1 import inventory_pb2
    from oms.orders.v1 import orders_pb2
    from oms.returns.v1 import returns_pb2
    from services.kernel.proto_enums import enum_name, enum_value

    enums = [
        value
        for module in (inventory_pb2, orders_pb2, returns_pb2)
        for value in vars(module).values()
        if isinstance(value, EnumTypeWrapper)
    ]
    assert len(enums) >= 7
    for enum in enums:
        for number in enum.values():
            name = enum_name(enum, number)
            assert name == name.upper() and not name.startswith(enum.DESCRIPTOR.name.upper())
            assert enum_value(enum, name) == number
    assert (
        enum_name(inventory_pb2.LocationKind, inventory_pb2.LOCATION_KIND_RETURN_HUB)
        == "RETURN_HUB"
    )
