"""Inventory follows the returns loop from events on JetStream, on SQLite and PostgreSQL:
returned units await inspection, restocked units become sellable, refurbished units sit in
repair until their work order completes — each movement once, and the ledger still adds up."""

from __future__ import annotations

import contextlib
from typing import TypedDict

import nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from launcher.embedded_nats import EmbeddedNats
from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.inventory_pb2 import StockLevelChanged
from oms.events.v1.returns_pb2 import (
    InspectedUnits,
    RefundIssued,
    ReturnInspected,
    ReturnReceived,
    ReturnRejected,
    ReturnUnits,
)
from oms.events.v1.workorders_pb2 import WorkOrderCompleted, WorkOrderOpened
from oms.inventory.v1 import inventory_pb2 as inv
from oms.returns.v1 import returns_pb2 as rpb
from oms.workorders.v1 import workorders_pb2 as wpb
from services.inventory.bootstrap import bootstrap
from services.inventory.store import SqlInventoryStore
from services.kernel.proto_enums import enum_value
from services.kernel.unit_of_work import SqlUnitOfWork
from tests.integration.conftest import (
    InventoryUnderTest,
    consumer_idle,
    event_envelope,
    eventually,
    publish_event,
)

HUB = "HUB-BER"
# (on hand, reserved, pending inspection, in repair)
Level = tuple[int, int, int, int]


class WorkOrderFields(TypedDict):
    """What WorkOrderOpened and WorkOrderCompleted both say of one work order."""

    work_order_id: str
    kind: wpb.WorkOrderKind.ValueType
    sku: str
    quantity: int
    location_code: str
    source_return_id: str


async def seed(inventory: InventoryUnderTest) -> None:
    await inventory.stub.UpsertLocation(
        inv.UpsertLocationRequest(
            code=HUB, name=HUB, kind=inv.LOCATION_KIND_RETURN_HUB, latitude=52.5, longitude=13.4
        )
    )
    for sku, serialized in (("PHONE", True), ("TEE", False)):
        await inventory.stub.UpsertSku(
            inv.UpsertSkuRequest(
                code=sku, title=sku, unit_cost_cents=900, weight_grams=200, serialized=serialized
            )
        )


async def levels(inventory: InventoryUnderTest) -> dict[str, Level]:
    reply = await inventory.stub.GetStockLevels(inv.GetStockLevelsRequest(location_codes=[HUB]))
    return {x.sku: (x.on_hand, x.reserved, x.pending_inspection, x.in_repair) for x in reply.levels}


async def until_levels(inventory: InventoryUnderTest, expected: dict[str, Level]) -> None:
    async def reached() -> bool:
        return await levels(inventory) == expected

    # On timeout, the assertion shows the levels reached.
    with contextlib.suppress(AssertionError):
        await eventually(reached, what=f"levels {expected}")
    assert await levels(inventory) == expected


def returned(*lines: tuple[str, int]) -> list[ReturnUnits]:
    return [ReturnUnits(sku=sku, quantity=units) for sku, units in lines]


def inspected(*lines: tuple[str, int, str]) -> list[InspectedUnits]:
    return [
        InspectedUnits(
            sku=sku, quantity=units, disposition=enum_value(rpb.Disposition, disposition)
        )
        for sku, units, disposition in lines
    ]


async def test_returned_units_move_through_inspection_and_repair_into_stock(
    inventory: InventoryUnderTest, jetstream: JetStreamContext, nats_server: EmbeddedNats
) -> None:
    await seed(inventory)
    changes: list[StockLevelChanged] = []
    watcher = await nats.connect(nats_server.url)

    async def collect(message: Msg) -> None:
        envelope = EventEnvelope.FromString(message.data)
        change = StockLevelChanged()
        envelope.payload.Unpack(change)
        changes.append(change)

    await watcher.subscribe("oms.inventory.stock_level_changed", cb=collect)
    try:
        received = ReturnReceived(
            return_id="R1", location_code=HUB, lines=returned(("PHONE", 3), ("TEE", 2))
        )
        await publish_event(jetstream, event_envelope("returns", received))
        await until_levels(inventory, {"PHONE": (0, 0, 3, 0), "TEE": (0, 0, 2, 0)})

        inspection = ReturnInspected(
            return_id="R1",
            location_code=HUB,
            lines=inspected(
                ("PHONE", 1, "RESTOCK"),
                ("PHONE", 2, "REFURBISH"),
                ("TEE", 1, "RESTOCK"),
                ("TEE", 1, "LIQUIDATE"),
            ),
        )
        await publish_event(jetstream, event_envelope("returns", inspection))
        # Restocked units are sellable at once; the others leave the inspection pile.
        await until_levels(inventory, {"PHONE": (1, 0, 0, 0), "TEE": (1, 0, 0, 0)})

        repair: WorkOrderFields = {
            "work_order_id": "W1",
            "kind": wpb.WORK_ORDER_KIND_REFURBISH,
            "sku": "PHONE",
            "quantity": 2,
            "location_code": HUB,
            "source_return_id": "R1",
        }
        await publish_event(jetstream, event_envelope("workorders", WorkOrderOpened(**repair)))
        await until_levels(inventory, {"PHONE": (1, 0, 0, 2), "TEE": (1, 0, 0, 0)})
        await publish_event(jetstream, event_envelope("workorders", WorkOrderCompleted(**repair)))
        await until_levels(inventory, {"PHONE": (3, 0, 0, 0), "TEE": (1, 0, 0, 0)})

        # A parcel that is not what was sold leaves inspection and is never sellable.
        second = ReturnReceived(return_id="R2", location_code=HUB, lines=returned(("TEE", 1)))
        await publish_event(jetstream, event_envelope("returns", second))
        await until_levels(inventory, {"PHONE": (3, 0, 0, 0), "TEE": (1, 0, 1, 0)})
        rejected = ReturnRejected(
            return_id="R2",
            location_code=HUB,
            lines=returned(("TEE", 1)),
            fraud_flags=["WEIGHT_MISMATCH"],
        )
        await publish_event(jetstream, event_envelope("returns", rejected))
        await until_levels(inventory, {"PHONE": (3, 0, 0, 0), "TEE": (1, 0, 0, 0)})

        movements = await inventory.stub.ListMovements(
            inv.ListMovementsRequest(sku="PHONE", location_code=HUB)
        )
        assert [(m.source_type, m.source_id) for m in reversed(movements.movements)] == [
            ("RETURN", "R1"),
            ("RETURN", "R1"),
            ("RETURN", "R1"),
            ("WORK_ORDER", "W1"),
            ("WORK_ORDER", "W1"),
        ]
        service = bootstrap(SqlUnitOfWork(inventory.running.db, SqlInventoryStore))
        assert await service.ledger_discrepancies() == []

        # Each movement is published as it happens, with its cause.
        async def all_published() -> bool:
            return len(changes) == 10

        await eventually(all_published, what="10 StockLevelChanged events")
        last_phone = [c for c in changes if c.sku == "PHONE"][-1]
        assert (last_phone.on_hand, last_phone.available, last_phone.in_repair) == (3, 3, 0)
        assert (last_phone.source_type, last_phone.reason) == (
            "WORK_ORDER",
            "work order W1 completed",
        )
    finally:
        await watcher.close()


async def test_a_redelivered_event_moves_stock_once_and_bad_data_does_not_block_the_stream(
    inventory: InventoryUnderTest, jetstream: JetStreamContext
) -> None:
    await seed(inventory)
    received = event_envelope(
        "returns",
        ReturnReceived(return_id="R1", location_code=HUB, lines=returned(("PHONE", 2))),
    )
    # The same event twice under different message ids gets past JetStream's de-duplication.
    await publish_event(jetstream, received)
    await publish_event(jetstream, received, message_id="a-redelivery")
    # Unknown SKUs and locations, quantities below 1 and event types inventory does not track
    # are passed over; the known line of the same event still counts.
    bad_data = ReturnReceived(
        return_id="R2",
        location_code=HUB,
        lines=returned(("NO-SUCH-SKU", 1), ("TEE", 0), ("TEE", 1)),
    )
    await publish_event(jetstream, event_envelope("returns", bad_data))
    nowhere = ReturnReceived(return_id="R3", location_code="NOWHERE", lines=returned(("TEE", 5)))
    await publish_event(jetstream, event_envelope("returns", nowhere))
    refund = RefundIssued(return_id="R1", refund_id="F1", amount_cents=100, provider="test")
    await publish_event(jetstream, event_envelope("returns", refund))
    kit = WorkOrderOpened(
        work_order_id="W9",
        kind=wpb.WORK_ORDER_KIND_KIT_ASSEMBLY,
        sku="TEE",
        quantity=1,
        location_code=HUB,
    )
    await publish_event(jetstream, event_envelope("workorders", kit))

    async def idle() -> bool:
        return await consumer_idle(jetstream, "returns", "inventory-returns") and (
            await consumer_idle(jetstream, "workorders", "inventory-workorders")
        )

    await eventually(idle, what="inventory's consumers to acknowledge every event")
    assert await levels(inventory) == {"PHONE": (0, 0, 2, 0), "TEE": (0, 0, 1, 0)}

    # Redelivered once more after everything else: still applied once.
    await publish_event(jetstream, received, message_id="a-late-redelivery")
    await eventually(idle, what="the late redelivery to be acknowledged")
    assert await levels(inventory) == {"PHONE": (0, 0, 2, 0), "TEE": (0, 0, 1, 0)}
    movements = await inventory.stub.ListMovements(
        inv.ListMovementsRequest(sku="PHONE", location_code=HUB)
    )
    assert len(movements.movements) == 1
    service = bootstrap(SqlUnitOfWork(inventory.running.db, SqlInventoryStore))
    assert await service.ledger_discrepancies() == []
