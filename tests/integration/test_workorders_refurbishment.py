"""The work orders service opens a REFURBISH work order for returned units sent to
refurbishment, on SQLite and PostgreSQL: once per return and SKU however often the inspection
arrives, announced as WorkOrderOpened, and counted by inventory as units in repair."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc
import nats
import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from launcher.embedded_nats import EmbeddedNats
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.returns_pb2 import InspectedUnits, ReturnInspected, ReturnReceived, ReturnUnits
from oms.events.v1.workorders_pb2 import WorkOrderOpened
from oms.inventory.v1 import inventory_pb2 as inv
from oms.returns.v1 import returns_pb2 as rpb
from oms.workorders.v1 import workorders_pb2 as pb
from services.kernel.errors import ErrorCode, from_rpc_error
from services.kernel.proto_enums import enum_name, enum_value
from tests.integration.conftest import (
    InventoryUnderTest,
    WorkOrdersUnderTest,
    consumer_idle,
    event_envelope,
    eventually,
    outbox_drained,
    publish_event,
)

HUB = "HUB-BER"


def inspection(return_id: str, *lines: tuple[str, int, str]) -> ReturnInspected:
    return ReturnInspected(
        return_id=return_id,
        location_code=HUB,
        lines=[
            InspectedUnits(
                sku=sku,
                quantity=units,
                grade=rpb.GRADE_GOOD,
                disposition=enum_value(rpb.Disposition, disposition),
            )
            for sku, units, disposition in lines
        ],
    )


def kind(value: int) -> str:
    return enum_name(pb.WorkOrderKind, value)


def status(value: int) -> str:
    return enum_name(pb.WorkOrderStatus, value)


def inspected_again(envelope: EventEnvelope) -> ReturnInspected:
    event = ReturnInspected()
    envelope.payload.Unpack(event)
    return event


async def work_orders(
    system: WorkOrdersUnderTest,
    status: str | pb.WorkOrderStatus.ValueType = pb.WORK_ORDER_STATUS_UNSPECIFIED,
    **filters: str,
) -> list[pb.WorkOrder]:
    """Work orders by filter; `status` by name, or by number for one the enum lacks."""
    number = enum_value(pb.WorkOrderStatus, status) if isinstance(status, str) else status
    request = pb.ListWorkOrdersRequest(status=number, **filters)
    reply = await system.stub.ListWorkOrders(request)
    return list(reply.work_orders)


@contextlib.asynccontextmanager
async def opened_events(nats_url: str) -> AsyncIterator[list[WorkOrderOpened]]:
    """WorkOrderOpened events as they are published (a core subscription: from now on)."""
    seen: list[WorkOrderOpened] = []
    client = await nats.connect(nats_url)

    async def collect(message: Msg) -> None:
        event = WorkOrderOpened()
        EventEnvelope.FromString(message.data).payload.Unpack(event)
        seen.append(event)

    await client.subscribe("oms.workorders.work_order_opened", cb=collect)
    try:
        yield seen
    finally:
        await client.close()


async def test_an_inspection_opens_one_refurbishment_per_returned_sku_once(
    workorders: WorkOrdersUnderTest, jetstream: JetStreamContext, nats_server: EmbeddedNats
) -> None:
    async with opened_events(nats_server.url) as opened:
        inspected = event_envelope(
            "returns",
            inspection(
                "R1",
                ("PHONE", 1, "REFURBISH"),
                ("TEE", 1, "RESTOCK"),
                ("CASE", 1, "REFURBISH"),
                ("PHONE", 1, "REFURBISH"),
                ("MUG", 2, "LIQUIDATE"),
            ),
        )
        await publish_event(jetstream, inspected)

        async def both_published() -> bool:
            return len(opened) == 2

        await eventually(both_published, what="two WorkOrderOpened events")
        listed = await work_orders(workorders, source_return_id="R1")
        assert sorted((w.sku, w.quantity, kind(w.kind), status(w.status)) for w in listed) == [
            ("CASE", 1, "REFURBISH", "OPEN"),
            ("PHONE", 2, "REFURBISH", "OPEN"),
        ]
        for work_order in listed:
            assert work_order.location_code == HUB and work_order.source_return_id == "R1"
            operations = work_order.operations
            assert [
                (x.name, enum_name(pb.OperationStatus, x.status), x.labor_minutes)
                for x in operations
            ] == [
                ("GRADE", "PENDING", 0),
                ("WIPE", "PENDING", 0),
                ("REPAIR", "PENDING", 0),
            ]
            assert work_order.created_at
        assert sorted((e.work_order_id, e.sku, e.quantity) for e in opened) == sorted(
            (w.id, w.sku, w.quantity) for w in listed
        )
        assert {(kind(e.kind), e.location_code, e.source_return_id) for e in opened} == {
            ("REFURBISH", HUB, "R1")
        }

        # The same event redelivered, and the same inspection under a new event id: nothing more.
        await publish_event(jetstream, inspected, message_id="a-redelivery")
        await publish_event(jetstream, event_envelope("returns", inspected_again(inspected)))

        async def settled() -> bool:
            return await consumer_idle(
                jetstream, "returns", "workorders-returns"
            ) and await outbox_drained(workorders.running)

        await eventually(settled, what="the copies to be consumed and anything opened relayed")
        assert len(await work_orders(workorders, source_return_id="R1")) == 2
        assert len(opened) == 2


async def test_work_orders_are_listed_by_status_location_and_return(
    workorders: WorkOrdersUnderTest, jetstream: JetStreamContext
) -> None:
    await publish_event(
        jetstream, event_envelope("returns", inspection("R1", ("PHONE", 1, "REFURBISH")))
    )
    await publish_event(
        jetstream, event_envelope("returns", inspection("R2", ("CASE", 3, "REFURBISH")))
    )

    async def both_open() -> bool:
        return len(await work_orders(workorders)) == 2

    await eventually(both_open, what="two work orders")
    assert [w.sku for w in await work_orders(workorders, status="OPEN")] == ["PHONE", "CASE"]
    assert [w.sku for w in await work_orders(workorders, source_return_id="R2")] == ["CASE"]
    assert len(await work_orders(workorders, location_code=HUB)) == 2
    assert await work_orders(workorders, location_code="DC-LIS") == []
    assert await work_orders(workorders, status="COMPLETED") == []

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await work_orders(workorders, status=pb.WorkOrderStatus.ValueType(99))
    refusal = from_rpc_error(raised.value)
    assert refusal is not None and (refusal.code, refusal.field) == (
        ErrorCode.INVALID_INPUT,
        "status",
    )


async def test_inventory_counts_refurbished_units_in_repair(
    inventory: InventoryUnderTest, workorders: WorkOrdersUnderTest, jetstream: JetStreamContext
) -> None:
    await inventory.stub.UpsertLocation(
        inv.UpsertLocationRequest(
            code=HUB, name=HUB, kind=inv.LOCATION_KIND_RETURN_HUB, latitude=52.5, longitude=13.4
        )
    )
    for sku in ("PHONE", "TEE"):
        await inventory.stub.UpsertSku(
            inv.UpsertSkuRequest(code=sku, title=sku, unit_cost_cents=900, weight_grams=200)
        )
    received = ReturnReceived(
        return_id="R1",
        location_code=HUB,
        lines=[ReturnUnits(sku="PHONE", quantity=2), ReturnUnits(sku="TEE", quantity=1)],
    )
    await publish_event(jetstream, event_envelope("returns", received))
    inspected = inspection("R1", ("PHONE", 2, "REFURBISH"), ("TEE", 1, "RESTOCK"))
    await publish_event(jetstream, event_envelope("returns", inspected))

    async def levels() -> dict[str, tuple[int, int, int]]:
        reply = await inventory.stub.GetStockLevels(inv.GetStockLevelsRequest(location_codes=[HUB]))
        return {x.sku: (x.on_hand, x.pending_inspection, x.in_repair) for x in reply.levels}

    expected = {"PHONE": (0, 0, 2), "TEE": (1, 0, 0)}

    async def in_repair() -> bool:
        return await levels() == expected

    with contextlib.suppress(AssertionError):
        await eventually(in_repair, what="the refurbished units in repair")
    assert await levels() == expected
    [work_order] = await work_orders(workorders, source_return_id="R1")
    movements = await inventory.stub.ListMovements(
        inv.ListMovementsRequest(sku="PHONE", location_code=HUB)
    )
    # The two streams are consumed independently: the repair may be counted before inspection.
    assert ("WORK_ORDER", work_order.id, 2) in [
        (m.source_type, m.source_id, m.in_repair_delta) for m in movements.movements
    ]
