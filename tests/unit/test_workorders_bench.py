"""Kits, value-add work and the repair bench over the in-memory store, built by the service's
own bootstrap, with inventory's own use cases behind the inventory port: components held all
or none, operations in order and once, parts off on hand, the wipe rule, cancel and scrap, the
cost and the repair report — and what inventory does with the events."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from google.protobuf.message import Message

from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.workorders_pb2 import WorkOrderCancelled, WorkOrderCompleted, WorkOrderOpened
from services.inventory.domain.model import LocationChange, LocationKind, ReservationStatus
from services.inventory.events import subscriptions as inventory_subscriptions
from services.kernel.caller import Caller, Role
from services.kernel.db import utcnow
from services.kernel.errors import ErrorCode
from services.kernel.events import apply_event
from services.workorders.bootstrap import bootstrap
from services.workorders.domain import report
from services.workorders.domain.model import (
    Component,
    InspectedLine,
    NewWorkOrder,
    OperationDone,
    OperationStatus,
    WorkOrder,
    WorkOrderKind,
    WorkOrderStatus,
)
from services.workorders.service import WorkOrdersService
from services.workorders.settings import WorkOrdersSettings
from services.workorders.store import WorkOrdersStore
from tests.fakes.kernel import MemoryUnitOfWork
from tests.fakes.workorders import InventoryOverService, WorkOrdersData, memory_uow
from tests.support.refusals import refused

HUB = "HUB-BER"
KIT = NewWorkOrder(
    kind=WorkOrderKind.KIT_ASSEMBLY,
    sku="GIFT-KIT",
    quantity=2,
    location_code=HUB,
    operations=(),
    components=(Component("MUG", 1), Component("TEA", 2), Component("CARD", 1)),
)
SCANNER = Caller("scanner-1", Role.SCANNER, HUB)
ELSEWHERE = Caller("scanner-2", Role.SCANNER, "DC-LIS")


class Bench:
    def __init__(self, settings: WorkOrdersSettings | None = None) -> None:
        self.uow: MemoryUnitOfWork[WorkOrdersStore, WorkOrdersData] = memory_uow()
        self.inventory = InventoryOverService()
        self.service: WorkOrdersService = bootstrap(self.uow, self.inventory, settings)
        self.delivered = 0

    async def stock(self, **units: int) -> None:
        inventory = self.inventory.service
        for code in (HUB, "DC-LIS"):
            await inventory.upsert_location(
                LocationChange(code, code, LocationKind.RETURN_HUB, 52.5, 13.4)
            )
        costs = {"MUG": 300, "TEA": 100, "CARD": 50, "GIFT-KIT": 0, "PHONE": 20000, "SCREW": 10}
        for sku, cost in costs.items():
            await inventory.upsert_sku(sku, sku, cost, 100, sku == "PHONE")
        for sku, count in units.items():
            await inventory.adjust_stock(sku, HUB, count, "counted")

    async def deliver(self) -> None:
        """Hands inventory the work orders' events published since the last call."""
        [_, workorders, _] = inventory_subscriptions(self.inventory.service)
        for event in self.uow.data.outbox[self.delivered :]:
            envelope = _envelope(event)
            await apply_event(self.inventory.uow, workorders, envelope)
        self.delivered = len(self.uow.data.outbox)

    async def level(self, sku: str) -> tuple[int, int]:
        """(on hand, reserved) at the hub."""
        levels = await self.inventory.service.stock_levels([sku], [HUB])
        return (levels[0].on_hand, levels[0].reserved) if levels else (0, 0)

    async def do(
        self,
        work_order: WorkOrder,
        operation: str,
        minutes: int = 0,
        parts_used: tuple[Component, ...] = (),
        serial_number: str = "",
        result: str = "",
    ) -> WorkOrder:
        done = OperationDone(work_order.id, operation, minutes, parts_used, serial_number, result)
        return await self.service.complete_operation(done)


def _envelope(event: Message) -> EventEnvelope:
    envelope = EventEnvelope(event_id=str(uuid.uuid4()), event_type=event.DESCRIPTOR.name)
    envelope.payload.Pack(event)
    return envelope


async def test_a_kit_holds_its_components_and_completing_it_makes_kits_of_them() -> None:
    bench = Bench()
    await bench.stock(MUG=2, TEA=4, CARD=5)
    kit = await bench.service.create(KIT)
    assert (kit.status, [op.name for op in kit.operations]) == (WorkOrderStatus.OPEN, ["ASSEMBLE"])
    assert [(c.sku, c.quantity, c.unit_cost_cents) for c in kit.components] == [
        ("CARD", 1, 50),
        ("MUG", 1, 300),
        ("TEA", 2, 100),
    ]
    assert [await bench.level(s) for s in ("MUG", "TEA", "CARD")] == [(2, 2), (4, 4), (5, 2)]
    assert [e.work_order_id for e in bench.uow.published(WorkOrderOpened)] == [kit.id]

    done = await bench.do(kit, "ASSEMBLE", minutes=30)
    assert done.status is WorkOrderStatus.COMPLETED
    # Components 2 x 550 + 30 minutes at $30 an hour.
    assert done.cost_cents == 2 * 550 + 1500
    await bench.deliver()
    assert [await bench.level(s) for s in ("MUG", "TEA", "CARD", "GIFT-KIT")] == [
        (0, 0),
        (0, 0),
        (3, 0),
        (2, 0),
    ]
    # Redelivered under the same event id: nothing moves twice.
    [completed] = bench.uow.published(WorkOrderCompleted)
    envelope = _envelope(completed)
    [_, workorders, _] = inventory_subscriptions(bench.inventory.service)
    assert await apply_event(bench.inventory.uow, workorders, envelope)
    assert not await apply_event(bench.inventory.uow, workorders, envelope)
    assert await bench.level("GIFT-KIT") == (2, 0)


async def test_a_kit_short_of_components_is_refused_naming_them_and_holds_nothing() -> None:
    bench = Bench()
    await bench.stock(MUG=2, TEA=3, CARD=1)
    with pytest.raises(Exception) as raised:
        await bench.service.create(KIT)
    error = raised.value
    assert (error.code, error.field) == (ErrorCode.INSUFFICIENT_STOCK, "components.1.quantity")  # type: ignore[attr-defined]
    assert "TEA" in str(error) and "CARD" in str(error) and "MUG" not in str(error)
    assert [await bench.level(s) for s in ("MUG", "TEA", "CARD")] == [(2, 0), (3, 0), (1, 0)]
    assert await bench.service.work_orders(None) == []
    assert bench.uow.data.work_orders == []


async def test_cancelling_a_kit_releases_its_components() -> None:
    bench = Bench()
    await bench.stock(MUG=2, TEA=4, CARD=2)
    kit = await bench.service.create(KIT)
    cancelled = await bench.service.cancel(kit.id, "customer changed mind")
    assert cancelled.status is WorkOrderStatus.CANCELLED and not cancelled.scrapped
    assert await bench.service.cancel(kit.id, "") == cancelled
    await bench.deliver()
    assert [e.work_order_id for e in bench.uow.published(WorkOrderCancelled)] == [kit.id]
    assert [await bench.level(s) for s in ("MUG", "TEA", "CARD")] == [(2, 0), (4, 0), (2, 0)]
    assert await bench.inventory.status_of(kit.id) is ReservationStatus.RELEASED
    assert await refused(bench.do(cancelled, "ASSEMBLE")) == (
        ErrorCode.INVALID_STATE,
        "work_order_id",
    )


async def test_a_kit_is_checked_before_anything_is_held() -> None:
    bench = Bench()
    await bench.stock(MUG=9)
    cases = [
        (NewWorkOrder(WorkOrderKind.KIT_ASSEMBLY, "GIFT-KIT", 1, HUB, ()), "components"),
        (NewWorkOrder(WorkOrderKind.REFURBISH, "PHONE", 1, HUB, ()), "kind"),
        (KIT.__class__(**{**KIT.__dict__, "quantity": 0}), "quantity"),
        (KIT.__class__(**{**KIT.__dict__, "sku": "NOPE"}), "sku"),
        (KIT.__class__(**{**KIT.__dict__, "location_code": "NOWHERE"}), "location_code"),
        (KIT.__class__(**{**KIT.__dict__, "order_id": "O-1"}), "order_id"),
        (
            KIT.__class__(**{**KIT.__dict__, "components": (Component("MUG", 1),) * 2}),
            "components.1.sku",
        ),
        (
            KIT.__class__(**{**KIT.__dict__, "components": (Component("GIFT-KIT", 1),)}),
            "components",
        ),
    ]
    for new, field in cases:
        _code, where = await refused(bench.service.create(new))
        assert where == field, new
    assert bench.uow.data.work_orders == []
    assert await bench.level("MUG") == (9, 0)


async def test_a_value_add_without_components_works_on_blanks_of_its_own_sku() -> None:
    bench = Bench()
    await bench.stock(MUG=3)
    new = NewWorkOrder(WorkOrderKind.VALUE_ADD, "MUG", 2, HUB, ())
    engraving = await bench.service.create(new)
    assert [op.name for op in engraving.operations] == ["EMBROIDER", "QC"]
    assert await bench.level("MUG") == (3, 2)
    assert await refused(bench.do(engraving, "QC")) == (ErrorCode.INVALID_STATE, "operation")
    engraving = await bench.do(engraving, "EMBROIDER", minutes=10)
    assert engraving.status is WorkOrderStatus.IN_PROGRESS
    assert await refused(bench.do(engraving, "EMBROIDER")) == (ErrorCode.INVALID_STATE, "operation")
    assert await refused(bench.do(engraving, "WRAP")) == (ErrorCode.NOT_FOUND, "operation")
    engraving = await bench.do(engraving, "QC", minutes=2)
    await bench.deliver()
    assert engraving.status is WorkOrderStatus.COMPLETED
    assert await bench.level("MUG") == (3, 0)


async def test_parts_come_off_on_hand_once_and_short_parts_refuse_the_operation() -> None:
    bench = Bench()
    await bench.stock(MUG=1, SCREW=3)
    work = await bench.service.create(
        NewWorkOrder(WorkOrderKind.VALUE_ADD, "MUG", 1, HUB, ("FIX",))
    )
    parts = (Component("MUG", 1), Component("SCREW", 4))
    assert await refused(bench.do(work, "FIX", parts_used=parts)) == (
        ErrorCode.INSUFFICIENT_STOCK,
        "parts_used.0.quantity",  # the MUG is held by the work order itself
    )
    assert await refused(bench.do(work, "FIX", parts_used=(Component("SCREW", 4),))) == (
        ErrorCode.INSUFFICIENT_STOCK,
        "parts_used.0.quantity",
    )
    assert await refused(bench.do(work, "FIX", parts_used=(Component("BOLT", 1),))) == (
        ErrorCode.NOT_FOUND,
        "parts_used.0.sku",
    )
    assert await bench.level("SCREW") == (3, 0)
    fixed = await bench.do(work, "FIX", minutes=6, parts_used=(Component("SCREW", 2),))
    assert await bench.level("SCREW") == (1, 0)
    assert fixed.operations[0].parts_used == (Component("SCREW", 2, 10),)
    assert fixed.cost_cents == 300 + 2 * 10 + 300  # the blank, two screws, 6 minutes


async def refurbishment(bench: Bench, quantity: int = 1) -> WorkOrder:
    async with bench.uow.write() as store:
        [opened] = await bench.service.open_refurbishments(
            store, "R1", HUB, [InspectedLine("PHONE", quantity, "REFURBISH")]
        )
    return opened


async def test_a_serialized_refurbishment_needs_a_wipe_certificate_for_each_unit() -> None:
    bench = Bench()
    await bench.stock()
    phone = await refurbishment(bench, quantity=2)
    assert await refused(bench.do(phone, "WIPE")) == (ErrorCode.INVALID_STATE, "operation")
    assert await refused(bench.do(phone, "GRADE")) == (ErrorCode.INVALID_INPUT, "result")
    phone = await bench.do(phone, "GRADE", minutes=5, result="GOOD")
    assert await refused(bench.do(phone, "WIPE", result="cert-1")) == (
        ErrorCode.INVALID_INPUT,
        "serial_number",
    )
    assert await refused(bench.do(phone, "WIPE", serial_number="SN1")) == (
        ErrorCode.INVALID_INPUT,
        "result",
    )
    phone = await bench.do(phone, "WIPE", serial_number="SN1", result="NIST-800-88 purge #1")
    assert phone.operations[1].status is OperationStatus.PENDING  # one of two units wiped
    assert await refused(bench.do(phone, "WIPE", serial_number="SN1", result="again")) == (
        ErrorCode.INVALID_STATE,
        "serial_number",
    )
    assert await refused(bench.do(phone, "REPAIR")) == (ErrorCode.INVALID_STATE, "operation")
    phone = await bench.do(phone, "WIPE", serial_number="SN2", result="NIST-800-88 purge #2")
    assert [r.serial_number for r in phone.operations[1].records] == ["SN1", "SN2"]
    phone = await bench.do(phone, "REPAIR", minutes=40)
    assert phone.status is WorkOrderStatus.COMPLETED
    [completed] = bench.uow.published(WorkOrderCompleted)
    assert (completed.source_return_id, completed.quantity, completed.scrapped) == ("R1", 2, False)


async def test_without_a_wipe_step_a_serialized_refurbishment_cannot_complete() -> None:
    bench = Bench(WorkOrdersSettings(refurbish_operations=("REPAIR",)))
    await bench.stock()
    phone = await refurbishment(bench)
    assert await refused(bench.do(phone, "REPAIR")) == (ErrorCode.INVALID_STATE, "operation")
    assert bench.uow.published(WorkOrderCompleted) == []


async def test_scrapping_a_refurbishment_writes_its_value_off() -> None:
    bench = Bench()
    await bench.stock()
    phone = await refurbishment(bench)
    scrapped = await bench.service.cancel(phone.id, "board dead")
    assert (scrapped.status, scrapped.scrapped, scrapped.written_off_cents) == (
        WorkOrderStatus.CANCELLED,
        True,
        20000,
    )
    [completed] = bench.uow.published(WorkOrderCompleted)
    assert completed.scrapped
    report = await bench.service.repair_report("", 0)
    [hub] = report.locations
    assert (hub.scrapped_units, hub.written_off_cents, hub.units_in_repair) == (1, 20000, 0)
    assert await refused(bench.service.cancel(phone.id, "x" * 201)) == (
        ErrorCode.INVALID_INPUT,
        "reason",
    )


async def test_a_scanner_works_on_its_own_location_only() -> None:
    bench = Bench()
    await bench.stock()
    phone = await refurbishment(bench)
    assert [w.id for w in await bench.service.work_orders(None, caller=SCANNER)] == [phone.id]
    assert await bench.service.work_orders(None, caller=ELSEWHERE) == []
    assert await bench.service.work_orders(None, "DC-LIS", caller=SCANNER) == []
    done = OperationDone(phone.id, "GRADE", 1, result="GOOD")
    assert await refused(bench.service.complete_operation(done, ELSEWHERE)) == (
        ErrorCode.FORBIDDEN,
        "work_order_id",
    )
    graded = await bench.service.complete_operation(done, SCANNER)
    assert graded.operations[0].status is OperationStatus.DONE


async def test_the_bench_input_is_bounded() -> None:
    bench = Bench()
    await bench.stock()
    phone = await refurbishment(bench)
    cases = [
        (OperationDone(phone.id, "GRADE", -1, result="A"), "labor_minutes"),
        (OperationDone(phone.id, "GRADE", 7 * 24 * 60 + 1, result="A"), "labor_minutes"),
        (OperationDone(phone.id, "GRADE", 1, result="A" * 2001), "result"),
        (OperationDone(phone.id, "GRADE", 1, serial_number="S" * 129, result="A"), "serial_number"),
        (
            OperationDone(phone.id, "GRADE", 1, (Component("SCREW", 0),), result="A"),
            "parts_used.0.quantity",
        ),
        (OperationDone("nope", "GRADE", 1, result="A"), "work_order_id"),
    ]
    for done, field in cases:
        _code, where = await refused(bench.service.complete_operation(done))
        assert where == field, done


async def test_the_repair_report_counts_open_work_value_age_and_velocity() -> None:
    bench = Bench()
    await bench.stock(MUG=5, TEA=10, CARD=5)
    phone = await refurbishment(bench)
    await bench.service.create(KIT)
    report = await bench.service.repair_report(HUB, 24)
    [hub] = report.locations
    assert [(o.kind, o.count) for o in hub.open] == [
        (WorkOrderKind.KIT_ASSEMBLY, 1),
        (WorkOrderKind.REFURBISH, 1),
    ]
    assert (hub.units_in_repair, hub.value_in_repair_cents) == (1, 20000)
    assert (report.open_work_orders, report.value_in_repair_cents) == (2, 20000)
    assert hub.oldest_open_hours >= 0 and hub.completed == 0
    # Complete the phone as if opened three hours ago: p50/p90 are its hours.
    bench.uow.data.work_orders = [
        w.__class__(**{**w.__dict__, "created_at": w.created_at - timedelta(hours=3)})
        if w.id == phone.id
        else w
        for w in bench.uow.data.work_orders
    ]
    phone = await bench.do(phone, "GRADE", result="GOOD")
    phone = await bench.do(phone, "WIPE", serial_number="SN1", result="cert")
    await bench.do(phone, "REPAIR")
    [hub] = (await bench.service.repair_report(HUB, 24)).locations
    assert (
        hub.completed == 1 and 2.99 < hub.p50_hours_to_complete == hub.p90_hours_to_complete < 3.1
    )
    assert hub.units_in_repair == 0
    assert await refused(bench.service.repair_report("", -1)) == (
        ErrorCode.INVALID_INPUT,
        "period_hours",
    )


def test_the_labour_rate_comes_from_the_environment() -> None:
    assert WorkOrdersSettings.from_env({}).labor_rate("HUB-BER") == 3000
    configured = WorkOrdersSettings.from_env(
        {"OMS_LABOR_RATE_CENTS_PER_HOUR": "2400", "OMS_LABOR_RATES": "HUB-BER=2800, DC-LIS=3500"}
    )
    assert [configured.labor_rate(code) for code in ("HUB-BER", "DC-LIS", "STORE")] == [
        2800,
        3500,
        2400,
    ]
    for broken in ({"OMS_LABOR_RATE_CENTS_PER_HOUR": "-1"}, {"OMS_LABOR_RATES": "HUB-BER"}):
        with pytest.raises(ValueError):
            WorkOrdersSettings.from_env(broken)


async def test_an_opening_a_crash_interrupted_is_opened_or_forgotten() -> None:
    bench = Bench()
    await bench.stock(MUG=2, TEA=4, CARD=2)
    # Written OPENING, then held — the crash came before it was recorded OPEN.
    held = KIT.__class__(
        **{
            **KIT.__dict__,
            "components": tuple(Component(c.sku, c.quantity, 0) for c in KIT.components),
        }
    )
    async with bench.uow.write() as store:
        await store.add_work_order("W-HELD", held, WorkOrderStatus.OPENING)
        await store.add_work_order("W-LOST", held, WorkOrderStatus.OPENING)
    assert await bench.inventory.reserve("W-HELD", HUB, [Component("MUG", 1)])
    assert await bench.service.work_orders(None) == []
    assert await bench.service.recover_stale(timedelta(seconds=-1)) == 2
    [opened] = await bench.service.work_orders(None)
    assert (opened.id, opened.status) == ("W-HELD", WorkOrderStatus.OPEN)
    assert [e.work_order_id for e in bench.uow.published(WorkOrderOpened)] == ["W-HELD"]
    # The lost one's key is released, so a hold arriving late is refused.
    assert await bench.inventory.status_of("W-LOST") is ReservationStatus.RELEASED
    assert [w.id for w in bench.uow.data.work_orders] == ["W-HELD"]


def test_velocity_is_the_nearest_rank_p50_and_p90_of_hours_to_complete() -> None:
    now = utcnow()

    def finished(hours: float, scrapped: bool = False) -> WorkOrder:
        return WorkOrder(
            id=str(uuid.uuid4()),
            kind=WorkOrderKind.REFURBISH,
            status=WorkOrderStatus.CANCELLED if scrapped else WorkOrderStatus.COMPLETED,
            sku="PHONE",
            quantity=1,
            location_code=HUB,
            operations=(),
            created_at=now - timedelta(hours=hours + 1),
            completed_at=now - timedelta(hours=1),
            scrapped=scrapped,
            written_off_cents=500 if scrapped else 0,
        )

    old = finished(1)
    old = WorkOrder(**{**old.__dict__, "completed_at": now - timedelta(days=30)})
    work_orders = [finished(h) for h in (4, 1, 10, 3, 2)] + [finished(7, scrapped=True), old]
    [hub] = report.repair_report(work_orders, {}, now, timedelta(days=7)).locations
    assert (hub.completed, hub.p50_hours_to_complete, hub.p90_hours_to_complete) == (5, 3, 10)
    assert (hub.scrapped_units, hub.written_off_cents, hub.open) == (1, 500, ())
