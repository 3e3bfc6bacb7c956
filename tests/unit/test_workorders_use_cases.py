"""The work orders' use cases over the in-memory store, built by the service's own bootstrap:
what an inspection opens, once however often it arrives, and how work orders are listed."""

from __future__ import annotations

import uuid

import pytest

from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.returns_pb2 import InspectedUnits, ReturnInspected
from oms.events.v1.workorders_pb2 import WorkOrderOpened
from oms.returns.v1 import returns_pb2 as rpb
from oms.workorders.v1 import workorders_pb2 as pb
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.events import apply_event
from services.workorders.bootstrap import bootstrap
from services.workorders.domain.model import WorkOrderKind, WorkOrderStatus
from services.workorders.events import subscriptions
from services.workorders.settings import WorkOrdersSettings
from tests.fakes.workorders import InventoryOverService, memory_uow


def inspected(return_id: str, *lines: tuple[str, int, rpb.Disposition.ValueType]) -> EventEnvelope:
    event = ReturnInspected(
        return_id=return_id,
        location_code="HUB-BER",
        lines=[
            InspectedUnits(sku=sku, quantity=units, grade=rpb.GRADE_GOOD, disposition=disposition)
            for sku, units, disposition in lines
        ],
    )
    envelope = EventEnvelope(event_id=str(uuid.uuid4()), event_type="ReturnInspected")
    envelope.payload.Pack(event)
    return envelope


async def test_an_inspection_opens_one_refurbishment_per_sku_once() -> None:
    uow = memory_uow()
    service = bootstrap(uow, InventoryOverService())
    subscription, _orders = subscriptions(service)
    envelope = inspected(
        "R1",
        ("PHONE", 1, rpb.DISPOSITION_REFURBISH),
        ("TEE", 2, rpb.DISPOSITION_RESTOCK),
        ("PHONE", 1, rpb.DISPOSITION_REFURBISH),
    )
    assert await apply_event(uow, subscription, envelope)
    # Redelivered, and the same inspection again under a new event id: nothing more.
    assert not await apply_event(uow, subscription, envelope)
    again = EventEnvelope()
    again.CopyFrom(envelope)
    again.event_id = str(uuid.uuid4())
    assert await apply_event(uow, subscription, again)

    [phone] = await service.work_orders(None)
    assert (phone.sku, phone.quantity, phone.kind, phone.status) == (
        "PHONE",
        2,
        WorkOrderKind.REFURBISH,
        WorkOrderStatus.OPEN,
    )
    assert [op.name for op in phone.operations] == ["GRADE", "WIPE", "REPAIR"]
    [opened] = uow.published(WorkOrderOpened)
    assert opened == WorkOrderOpened(
        work_order_id=phone.id,
        kind=pb.WORK_ORDER_KIND_REFURBISH,
        sku="PHONE",
        quantity=2,
        location_code="HUB-BER",
        source_return_id="R1",
    )


async def test_work_orders_are_listed_by_status_location_and_return() -> None:
    uow = memory_uow()
    service = bootstrap(
        uow, InventoryOverService(), WorkOrdersSettings(refurbish_operations=("TEST", "FIX"))
    )
    subscription, _orders = subscriptions(service)
    await apply_event(uow, subscription, inspected("R1", ("PHONE", 1, rpb.DISPOSITION_REFURBISH)))
    await apply_event(uow, subscription, inspected("R2", ("CASE", 3, rpb.DISPOSITION_REFURBISH)))
    assert [w.sku for w in await service.work_orders(WorkOrderStatus.OPEN)] == ["PHONE", "CASE"]
    assert [w.sku for w in await service.work_orders(None, source_return_id="R2")] == ["CASE"]
    assert len(await service.work_orders(None, location_code="HUB-BER")) == 2
    assert await service.work_orders(None, location_code="DC-LIS") == []
    assert await service.work_orders(WorkOrderStatus.COMPLETED) == []
    assert [op.name for op in (await service.work_orders(None))[0].operations] == ["TEST", "FIX"]


def test_the_bench_operations_come_from_the_environment() -> None:
    assert WorkOrdersSettings.from_env({}).refurbish_operations == ("GRADE", "WIPE", "REPAIR")
    configured = WorkOrdersSettings.from_env({"OMS_REFURBISH_OPERATIONS": "TEST, WIPE ,FIX"})
    assert configured.refurbish_operations == ("TEST", "WIPE", "FIX")
    with pytest.raises(DomainError) as refused:
        bootstrap(
            memory_uow(),
            InventoryOverService(),
            WorkOrdersSettings(refurbish_operations=("WIPE", "WIPE")),
        )
    assert refused.value.code is ErrorCode.INVALID_INPUT
