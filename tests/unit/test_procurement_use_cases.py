"""Procurement's use cases over the in-memory store, built by the service's own bootstrap, with
the inventory service in memory applying the events procurement records (as its consumer
does): purchase orders in transit and received, invoices matched, the plan and its drafts."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from google.protobuf.message import Message

from oms.events.v1.envelope_pb2 import EventEnvelope
from oms.events.v1.orders_pb2 import OrderLineFact, OrderPlaced, ShipmentFact
from oms.events.v1.procurement_pb2 import PurchaseOrderOpened, PurchaseOrderReceived
from oms.events.v1.returns_pb2 import ReturnReceived, ReturnRequested, ReturnUnits
from oms.events.v1.workorders_pb2 import WorkOrderOpened
from oms.workorders.v1.workorders_pb2 import WORK_ORDER_KIND_REFURBISH
from services.inventory.domain.model import LocationChange, LocationKind
from services.inventory.events import subscriptions as inventory_subscriptions
from services.kernel.caller import Caller, Role
from services.kernel.db import utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.events import apply_event
from services.procurement.bootstrap import bootstrap
from services.procurement.domain.model import (
    ChosenLine,
    DiscrepancyKind,
    InvoiceLine,
    InvoiceStatus,
    NewInvoice,
    NewLine,
    NewPurchaseOrder,
    NewSupplier,
    PurchaseOrderStatus,
    Receipt,
    ReceivedLine,
)
from services.procurement.events import subscriptions
from services.procurement.service import ProcurementService
from tests.fakes.procurement import InventoryOverService, MemoryProcurementStore, memory_uow

SCANNER_AT_DC = Caller("scanner-1", Role.SCANNER, "DC-EAST")
SCANNER_ELSEWHERE = Caller("scanner-2", Role.SCANNER, "HUB-BER")


def envelope(payload: Message) -> EventEnvelope:
    wrapped = EventEnvelope(event_id=str(uuid.uuid4()), event_type=payload.DESCRIPTOR.name)
    wrapped.payload.Pack(payload)
    return wrapped


class System:
    """Procurement over its fake store, inventory in memory, and the events between them."""

    def __init__(self) -> None:
        self.uow = memory_uow()
        self.inventory = InventoryOverService()
        self.service: ProcurementService = bootstrap(self.uow, self.inventory)
        self._relayed = 0

    async def setup(self, *skus: str) -> None:
        for code in ("DC-EAST", "DC-WEST", "HUB-BER"):
            kind = (
                LocationKind.RETURN_HUB
                if code.startswith("HUB")
                else LocationKind.DISTRIBUTION_CENTER
            )
            await self.inventory.service.upsert_location(
                LocationChange(code, code, kind, 52.5, 13.4)
            )
        for sku in skus:
            await self.inventory.service.upsert_sku(sku, sku, 500, 100, False)
        await self.service.upsert_supplier(NewSupplier("ACME", "Acme", 7, skus=skus))

    async def to_inventory(self) -> None:
        """Applies what procurement recorded since last time, as inventory's consumer does."""
        [procurement] = [
            s
            for s in inventory_subscriptions(self.inventory.service)
            if s.durable == "inventory-procurement"
        ]
        for event in self.uow.data.outbox[self._relayed :]:
            await apply_event(self.inventory.uow, procurement, envelope(event))
        self._relayed = len(self.uow.data.outbox)

    async def tell(self, *events: Message) -> None:
        """Applies other services' events to procurement (and to inventory, which also
        consumes returns and work orders)."""
        for event in events:
            wrapped = envelope(event)
            for ours in subscriptions():
                await apply_event(self.uow, ours, wrapped)
            for theirs in inventory_subscriptions(self.inventory.service):
                await apply_event(self.inventory.uow, theirs, wrapped)

    async def level(self, sku: str, location: str = "DC-EAST") -> tuple[int, int]:
        levels = await self.inventory.service.stock_levels([sku], [location])
        return (levels[0].on_hand, levels[0].in_transit) if levels else (0, 0)

    async def order_tees(self, units: int = 100, location: str = "DC-EAST") -> str:
        new = NewPurchaseOrder("ACME", location, (NewLine("TEE", units, 500),))
        order = await self.service.create_purchase_order(new)
        await self.to_inventory()
        return order.id


def receipt(order_id: str, units: int, key: str = "") -> Receipt:
    return Receipt(order_id, (ReceivedLine("TEE", units),), key)


async def test_a_purchase_order_is_in_transit_until_received_in_parts() -> None:
    system = System()
    await system.setup("TEE")
    order_id = await system.order_tees(100)
    [opened] = system.uow.published(PurchaseOrderOpened)
    assert opened.number == "PO-000001"
    assert await system.level("TEE") == (0, 100)

    partly = await system.service.receive(receipt(order_id, 60), SCANNER_AT_DC)
    await system.to_inventory()
    assert partly.status is PurchaseOrderStatus.PARTIALLY_RECEIVED
    assert await system.level("TEE") == (60, 40)

    done = await system.service.receive(receipt(order_id, 40))
    await system.to_inventory()
    assert done.status is PurchaseOrderStatus.RECEIVED
    assert await system.level("TEE") == (100, 0)
    [newest, *_] = await system.inventory.service.movements("TEE", "DC-EAST")
    assert newest.movement.reason.startswith("purchase order PO-000001 received")

    with pytest.raises(DomainError) as refused:
        await system.service.receive(receipt(order_id, 1))
    assert (refused.value.code, refused.value.field) == (
        ErrorCode.INVALID_QUANTITY,
        "lines.0.quantity",
    )


async def test_receiving_more_than_is_open_is_refused_and_moves_nothing() -> None:
    system = System()
    await system.setup("TEE")
    order_id = await system.order_tees(100)
    with pytest.raises(DomainError) as refused:
        await system.service.receive(receipt(order_id, 101))
    assert (refused.value.code, refused.value.field) == (
        ErrorCode.INVALID_QUANTITY,
        "lines.0.quantity",
    )
    assert system.uow.published(PurchaseOrderReceived) == []


async def test_a_retried_receipt_moves_nothing_twice() -> None:
    system = System()
    await system.setup("TEE")
    order_id = await system.order_tees(100)
    first = await system.service.receive(receipt(order_id, 60, key="scan-1"))
    again = await system.service.receive(receipt(order_id, 60, key="scan-1"))
    await system.to_inventory()
    assert again == first
    assert len(system.uow.published(PurchaseOrderReceived)) == 1
    assert await system.level("TEE") == (60, 40)


async def test_a_scanner_receives_at_its_own_location_only() -> None:
    system = System()
    await system.setup("TEE")
    order_id = await system.order_tees(10)
    with pytest.raises(DomainError) as refused:
        await system.service.receive(receipt(order_id, 1), SCANNER_ELSEWHERE)
    assert refused.value.code is ErrorCode.FORBIDDEN
    assert await system.service.purchase_orders(None, caller=SCANNER_ELSEWHERE) == []


async def test_cancelling_takes_what_was_not_received_off_in_transit() -> None:
    system = System()
    await system.setup("TEE")
    order_id = await system.order_tees(100)
    await system.service.receive(receipt(order_id, 30))
    cancelled = await system.service.cancel(order_id)
    await system.to_inventory()
    assert cancelled.status is PurchaseOrderStatus.CANCELLED
    assert await system.level("TEE") == (30, 0)
    assert await system.service.cancel(order_id) == cancelled


@pytest.mark.parametrize(
    ("new", "field"),
    [
        (NewPurchaseOrder("NOBODY", "DC-EAST", (NewLine("TEE", 1, 5),)), "supplier_code"),
        (NewPurchaseOrder("ACME", "NOWHERE", (NewLine("TEE", 1, 5),)), "location_code"),
        (
            NewPurchaseOrder("ACME", "DC-EAST", (NewLine("TEE", 1, 5), NewLine("CAP", 1, 5))),
            "lines.1.sku",
        ),
    ],
)
async def test_unknown_suppliers_locations_and_skus_are_not_found(
    new: NewPurchaseOrder, field: str
) -> None:
    system = System()
    await system.setup("TEE")
    with pytest.raises(DomainError) as refused:
        await system.service.create_purchase_order(new)
    assert (refused.value.code, refused.value.field) == (ErrorCode.NOT_FOUND, field)
    assert system.uow.data.orders == []


async def test_invoices_match_three_ways_once_per_number_and_holds_are_approved_by_someone() -> (
    None
):
    system = System()
    await system.setup("TEE")
    order_id = await system.order_tees(100)
    await system.service.receive(receipt(order_id, 100))

    def invoice(number: str, units: int, cents: int) -> NewInvoice:
        return NewInvoice(order_id, number, (InvoiceLine("TEE", units, cents),))

    matched = await system.service.record_invoice(invoice("INV-1", 100, 500))
    assert (matched.status, matched.total_cents, matched.discrepancies) == (
        InvoiceStatus.MATCHED,
        50_000,
        (),
    )
    priced = await system.service.record_invoice(invoice("INV-2", 100, 520))
    assert [(d.kind, d.expected, d.actual) for d in priced.discrepancies] == [
        (DiscrepancyKind.PRICE, 500, 520)
    ]
    counted = await system.service.record_invoice(invoice("INV-3", 120, 500))
    assert counted.status is InvoiceStatus.ON_HOLD
    assert [(d.kind, d.expected, d.actual) for d in counted.discrepancies] == [
        (DiscrepancyKind.QUANTITY, 100, 120)
    ]
    assert await system.service.record_invoice(invoice("INV-1", 1, 1)) == matched

    approver = Caller("ada@example.com", Role.BACKOFFICE)
    approved = await system.service.approve_invoice(counted.id, approver)
    assert (approved.status, approved.approved_by) == (InvoiceStatus.APPROVED, "ada@example.com")
    with pytest.raises(DomainError) as refused:
        await system.service.approve_invoice(matched.id, approver)
    assert refused.value.code is ErrorCode.INVALID_STATE


async def sell_ten_a_day(system: System, location: str) -> None:
    store = MemoryProcurementStore(system.uow.data)
    today = utcnow().date()
    for day in range(28):
        line = NewLine("TEE", 10, 0)
        await store.record_demand(
            f"{location}-{day}", f"o-{day}", location, [line], today - timedelta(days=day), True
        )


async def test_the_seed_scenario_returns_in_the_pipeline_lower_the_suggestion_by_their_sellable_share() -> (
    None
):
    """A SKU selling 10 a day at two centres; at one, 30 units are in the returns pipeline:
    10 requested, 10 pending inspection, 10 in repair."""
    system = System()
    await system.setup("TEE")
    for location in ("DC-EAST", "DC-WEST"):
        await sell_ten_a_day(system, location)
    await system.tell(
        ReturnRequested(
            return_id="R1",
            order_id="o",
            destination_code="DC-EAST",
            lines=[ReturnUnits(sku="TEE", quantity=10)],
        ),
        ReturnRequested(
            return_id="R2",
            order_id="o",
            destination_code="DC-EAST",
            lines=[ReturnUnits(sku="TEE", quantity=10)],
        ),
        ReturnReceived(
            return_id="R2", location_code="DC-EAST", lines=[ReturnUnits(sku="TEE", quantity=10)]
        ),
        WorkOrderOpened(
            work_order_id="W1",
            kind=WORK_ORDER_KIND_REFURBISH,
            sku="TEE",
            quantity=10,
            location_code="DC-EAST",
        ),
    )
    lines = {x.location_code: x for x in await system.service.replenishment_plan()}
    east, west = lines["DC-EAST"], lines["DC-WEST"]
    assert (
        east.explanation.returns_requested,
        east.explanation.returns_pending_inspection,
        east.explanation.returns_in_repair,
    ) == (10, 10, 10)
    # 0.85 x 10 requested + 0.85 x 10 pending inspection + 0.80 x 10 in repair.
    assert east.expected_returns == 25
    assert west.expected_returns == 0
    assert west.explanation.daily_demand == east.explanation.daily_demand == 10
    assert west.suggested_quantity == 70  # 10 a day x the supplier's 7 days
    assert west.suggested_quantity - east.suggested_quantity == 25
    assert east.explanation.lead_time_source == "DECLARED"


async def test_placed_orders_are_demand_at_the_shipping_location_once() -> None:
    system = System()
    await system.setup("TEE")
    placed = OrderPlaced(
        order_id="o1",
        shipments=[
            ShipmentFact(
                shipment_id="s1",
                location_code="DC-WEST",
                lines=[OrderLineFact(sku="TEE", quantity=28)],
            )
        ],
    )
    await system.tell(placed, placed)
    [line] = await system.service.replenishment_plan("DC-WEST")
    assert line.explanation.daily_demand == 1.0


async def test_chosen_plan_lines_become_draft_purchase_orders_per_supplier() -> None:
    system = System()
    await system.setup("TEE", "MUG")
    await system.service.upsert_supplier(
        NewSupplier("MUGCO", "Mug Co", 3, pack_size=6, skus=("MUG",), replace_skus=True)
    )
    await sell_ten_a_day(system, "DC-EAST")
    await system.inventory.service.adjust_stock("MUG", "DC-EAST", 1, "count")
    drafts = await system.service.draft_purchase_orders(
        [ChosenLine("TEE", "DC-EAST"), ChosenLine("MUG", "DC-EAST", 5)]
    )
    assert sorted(
        (
            d.supplier.code,
            d.status,
            [(x.sku, x.quantity_ordered, x.unit_cost_cents) for x in d.lines],
        )
        for d in drafts
    ) == [
        ("ACME", PurchaseOrderStatus.DRAFT, [("TEE", 70, 500)]),
        ("MUGCO", PurchaseOrderStatus.DRAFT, [("MUG", 5, 500)]),
    ]
    await system.to_inventory()
    assert await system.level("TEE") == (0, 0)  # a draft is not in transit
    opened = await system.service.open_purchase_order(drafts[0].id)
    await system.to_inventory()
    assert opened.status is PurchaseOrderStatus.OPEN
    assert (await system.level(opened.lines[0].sku))[1] == opened.lines[0].quantity_ordered
    with pytest.raises(DomainError) as refused:
        await system.service.draft_purchase_orders([ChosenLine("TEE", "HUB-BER")])
    assert (refused.value.code, refused.value.field) == (ErrorCode.NOT_FOUND, "lines.0")
    with pytest.raises(DomainError) as nothing_to_buy:
        await system.service.draft_purchase_orders(
            [ChosenLine("TEE", "DC-EAST", 3), ChosenLine("MUG", "DC-EAST")]
        )
    assert (nothing_to_buy.value.code, nothing_to_buy.value.field) == (
        ErrorCode.INVALID_QUANTITY,
        "lines.1.quantity",
    )


async def test_open_supply_is_queryable_by_sku_and_location_network() -> None:
    system = System()
    await system.setup("TEE")
    east = await system.order_tees(10, "DC-EAST")
    await system.order_tees(5, "DC-WEST")
    found = await system.service.purchase_orders(
        None, ["DC-EAST", "HUB-BER"], ["TEE"], open_only=True
    )
    assert [x.id for x in found] == [east]


async def test_inventory_applies_a_redelivered_receipt_once() -> None:
    system = System()
    await system.setup("TEE")
    order_id = await system.order_tees(10)
    await system.service.receive(receipt(order_id, 4))
    [received] = system.uow.published(PurchaseOrderReceived)
    [consumer] = [
        s
        for s in inventory_subscriptions(system.inventory.service)
        if s.durable == "inventory-procurement"
    ]
    redelivered = envelope(received)
    assert await apply_event(system.inventory.uow, consumer, redelivered)
    assert not await apply_event(system.inventory.uow, consumer, redelivered)
    assert await system.level("TEE") == (4, 6)
