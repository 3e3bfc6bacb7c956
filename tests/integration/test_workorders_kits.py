"""Kits through the real work orders and inventory services over gRPC and NATS, on SQLite and
PostgreSQL: created (components held), refused when one is short (nothing held), completed
(components consumed, kits on hand), cancelled (released) — the ledger explaining each move —
parts taken once, and a race of 30 kit work orders over the last components that never holds
more than exists."""

from __future__ import annotations

import asyncio

import grpc

from oms.inventory.v1 import inventory_pb2 as inv
from oms.workorders.v1 import workorders_pb2 as pb
from services.kernel.errors import ErrorCode, from_rpc_error
from tests.integration.conftest import InventoryUnderTest, WorkOrdersUnderTest, eventually
from tests.support.refusals import refusal

HUB = "HUB-BER"
COMPONENTS = {"BOX": 1, "MUG": 2, "TEA": 3}


async def seed(inventory: InventoryUnderTest, **stock: int) -> None:
    await inventory.stub.UpsertLocation(
        inv.UpsertLocationRequest(
            code=HUB, name=HUB, kind=inv.LOCATION_KIND_RETURN_HUB, latitude=52.5, longitude=13.4
        )
    )
    for sku in ("KIT", "BOX", "MUG", "TEA", "SCREW"):
        await inventory.stub.UpsertSku(
            inv.UpsertSkuRequest(code=sku, title=sku, unit_cost_cents=100, weight_grams=10)
        )
    for sku, units in stock.items():
        await inventory.stub.AdjustStock(
            inv.AdjustStockRequest(sku=sku, location_code=HUB, delta=units, reason="counted")
        )


def kit(quantity: int = 1) -> pb.CreateWorkOrderRequest:
    return pb.CreateWorkOrderRequest(
        kind=pb.WORK_ORDER_KIND_KIT_ASSEMBLY,
        sku="KIT",
        quantity=quantity,
        location_code=HUB,
        components=[pb.Component(sku=s, quantity=q) for s, q in COMPONENTS.items()],
    )


async def levels(inventory: InventoryUnderTest) -> dict[str, tuple[int, int]]:
    """(on hand, reserved) per SKU at the hub."""
    reply = await inventory.stub.GetStockLevels(inv.GetStockLevelsRequest(location_codes=[HUB]))
    return {x.sku: (x.on_hand, x.reserved) for x in reply.levels}


async def ledger(inventory: InventoryUnderTest, sku: str) -> list[tuple[int, int, str]]:
    """(on hand, reserved) deltas and reasons of the SKU's moves at the hub, oldest first."""
    reply = await inventory.stub.ListMovements(inv.ListMovementsRequest(sku=sku, location_code=HUB))
    return [(m.on_hand_delta, m.reserved_delta, m.reason) for m in reversed(reply.movements)]


async def test_a_kit_is_held_completed_into_kits_and_the_ledger_says_why(
    inventory: InventoryUnderTest, workorders: WorkOrdersUnderTest
) -> None:
    await seed(inventory, BOX=2, MUG=4, TEA=6, SCREW=1)
    created = await workorders.stub.CreateWorkOrder(kit(2))
    assert created.status == pb.WORK_ORDER_STATUS_OPEN
    assert await levels(inventory) == {
        "BOX": (2, 2),
        "MUG": (4, 4),
        "TEA": (6, 6),
        "SCREW": (1, 0),
    }
    assert await refusal(
        workorders.stub.CompleteOperation(
            pb.CompleteOperationRequest(
                work_order_id=created.id,
                operation="ASSEMBLE",
                labor_minutes=20,
                parts_used=[pb.Component(sku="SCREW", quantity=2)],
            )
        )
    ) == (ErrorCode.INSUFFICIENT_STOCK, "parts_used.0.quantity")
    done = pb.CompleteOperationRequest(
        work_order_id=created.id,
        operation="ASSEMBLE",
        labor_minutes=20,
        parts_used=[pb.Component(sku="SCREW", quantity=1)],
    )
    completed = await workorders.stub.CompleteOperation(done)
    assert completed.status == pb.WORK_ORDER_STATUS_COMPLETED
    # Components 2 x 600, a screw, 20 minutes at $30 an hour.
    assert completed.cost_cents == 2 * 600 + 100 + 1000
    assert await refusal(workorders.stub.CompleteOperation(done)) == (
        ErrorCode.INVALID_STATE,
        "work_order_id",
    )

    async def kits_on_hand() -> bool:
        return (await levels(inventory)).get("KIT") == (2, 0)

    await eventually(kits_on_hand, what="the kits on hand")
    assert await levels(inventory) == {
        "BOX": (0, 0),
        "MUG": (0, 0),
        "TEA": (0, 0),
        "SCREW": (0, 0),
        "KIT": (2, 0),
    }
    assert await ledger(inventory, "MUG") == [
        (4, 0, "counted"),
        (0, 4, f"reserved for {created.id}"),
        (-4, -4, f"consumed by work order {created.id}"),
    ]
    assert await ledger(inventory, "KIT") == [(2, 0, f"produced by work order {created.id}")]
    assert await ledger(inventory, "SCREW") == [
        (1, 0, "counted"),
        (-1, 0, f"parts used by work order {created.id} (ASSEMBLE)"),
    ]


async def test_a_short_kit_holds_nothing_and_a_cancelled_one_gives_back(
    inventory: InventoryUnderTest, workorders: WorkOrdersUnderTest
) -> None:
    await seed(inventory, BOX=1, MUG=2, TEA=2)
    assert await refusal(workorders.stub.CreateWorkOrder(kit())) == (
        ErrorCode.INSUFFICIENT_STOCK,
        "components.2.quantity",
    )
    assert await levels(inventory) == {"BOX": (1, 0), "MUG": (2, 0), "TEA": (2, 0)}
    assert not (await workorders.stub.ListWorkOrders(pb.ListWorkOrdersRequest())).work_orders

    await inventory.stub.AdjustStock(
        inv.AdjustStockRequest(sku="TEA", location_code=HUB, delta=1, reason="found one")
    )
    created = await workorders.stub.CreateWorkOrder(kit())
    assert (await levels(inventory))["TEA"] == (3, 3)
    cancelled = await workorders.stub.CancelWorkOrder(
        pb.CancelWorkOrderRequest(work_order_id=created.id, reason="not needed")
    )
    assert cancelled.status == pb.WORK_ORDER_STATUS_CANCELLED and not cancelled.scrapped

    async def released() -> bool:
        return all(reserved == 0 for _, reserved in (await levels(inventory)).values())

    await eventually(released, what="the components released")
    assert (await ledger(inventory, "TEA"))[-1] == (
        0,
        -3,
        f"released by cancelled work order {created.id}",
    )


async def test_thirty_kits_racing_for_the_last_components_never_hold_more_than_exist(
    inventory: InventoryUnderTest, workorders: WorkOrdersUnderTest
) -> None:
    # Enough for exactly seven kits: TEA runs out first.
    await seed(inventory, BOX=10, MUG=20, TEA=21)

    async def create() -> str:
        try:
            await workorders.stub.CreateWorkOrder(kit(), timeout=60)
        except grpc.aio.AioRpcError as error:
            refused = from_rpc_error(error)
            return refused.code.value if refused else f"transport:{error.code().name}"
        return "OPEN"

    outcomes = await asyncio.gather(*(create() for _ in range(30)))
    assert sorted(set(outcomes)) == ["INSUFFICIENT_STOCK", "OPEN"]
    assert outcomes.count("OPEN") == 7
    assert await levels(inventory) == {"BOX": (10, 7), "MUG": (20, 14), "TEA": (21, 21)}
    listed = await workorders.stub.ListWorkOrders(pb.ListWorkOrdersRequest())
    assert len(listed.work_orders) == 7
