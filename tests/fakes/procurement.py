"""Procurement's store in memory, and the inventory port over the inventory service itself (its
own use cases over its in-memory store), so procurement tests read stock by inventory's rules."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from services.inventory.bootstrap import bootstrap as inventory_bootstrap
from services.inventory.service import InventoryService
from services.kernel.db import utcnow
from services.procurement.domain import purchasing
from services.procurement.domain.model import (
    OPEN_STATUSES,
    InvoiceStatus,
    NewLine,
    NewSupplier,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
    SupplierInvoice,
    Yields,
)
from services.procurement.ports import Stock
from services.procurement.store import SECONDS_A_DAY, ProcurementStore, SkuAt
from tests.fakes import inventory as inventory_fakes
from tests.fakes.kernel import MemoryData, MemoryStore, MemoryUnitOfWork


@dataclass(frozen=True)
class DemandLine:
    shipment_id: str
    sku: str
    order_id: str
    location_code: str
    quantity: int
    day: date
    shipped: bool


@dataclass
class ProcurementData(MemoryData):
    suppliers: dict[str, Supplier] = field(default_factory=dict)
    orders: list[PurchaseOrder] = field(default_factory=list)
    # (purchase order id, key or receipt id) -> (received at, units)
    receipts: dict[tuple[str, str], tuple[datetime, int]] = field(default_factory=dict)
    invoices: list[SupplierInvoice] = field(default_factory=list)
    demand: dict[tuple[str, str], DemandLine] = field(default_factory=dict)
    # (return id, SKU) -> (location, units, arrived)
    expected: dict[tuple[str, str], tuple[str, int, bool]] = field(default_factory=dict)
    inspections: dict[tuple[str, str], tuple[int, int, int]] = field(default_factory=dict)
    repairs: dict[str, tuple[str, int, bool]] = field(default_factory=dict)


class MemoryProcurementStore(MemoryStore[ProcurementData]):
    async def upsert_supplier(self, new: NewSupplier) -> Supplier:
        before = self.data.suppliers.get(new.code)
        skus = () if new.replace_skus or before is None else before.skus
        self.data.suppliers[new.code] = Supplier(
            code=new.code,
            name=new.name,
            lead_time_days=new.lead_time_days,
            pack_size=new.pack_size
            if new.pack_size is not None
            else (before.pack_size if before else 0),
            skus=tuple(sorted({*skus, *new.skus})),
        )
        return (await self.suppliers([new.code]))[new.code]

    async def suppliers(self, codes: Iterable[str]) -> dict[str, Supplier]:
        found = {}
        for code in set(codes):
            if code in self.data.suppliers:
                found[code] = self._with_history(self.data.suppliers[code])
        return found

    def _with_history(self, supplier: Supplier) -> Supplier:
        opened = {o.id: o.opened_at for o in self.data.orders if o.supplier.code == supplier.code}
        samples = []
        for (po, _), (at, units) in self.data.receipts.items():
            since = opened.get(po)
            if since is not None:
                samples.append(((at - since).total_seconds(), units))
        units = sum(u for _, u in samples)
        if not units:
            return supplier
        days = sum(s * u for s, u in samples) / units / SECONDS_A_DAY
        return dataclasses.replace(
            supplier, observed_lead_time_days=days, observed_receipts=len(samples)
        )

    async def suppliers_of(self, skus: Iterable[str]) -> dict[str, list[Supplier]]:
        listed: dict[str, list[Supplier]] = {}
        for sku in sorted(set(skus)):
            for supplier in sorted(self.data.suppliers.values(), key=lambda s: s.code):
                if sku in supplier.skus:
                    listed.setdefault(sku, []).append(self._with_history(supplier))
        return listed

    async def add_purchase_order(
        self,
        purchase_order_id: str,
        supplier: Supplier,
        location_code: str,
        lines: Sequence[NewLine],
        status: PurchaseOrderStatus,
    ) -> PurchaseOrder:
        now = utcnow()
        order = PurchaseOrder(
            id=purchase_order_id,
            number=purchasing.po_number(len(self.data.orders) + 1),
            status=status,
            supplier=supplier,
            location_code=location_code,
            lines=tuple(PurchaseOrderLine(x.sku, x.quantity, x.unit_cost_cents) for x in lines),
            created_at=now,
            opened_at=now if status is PurchaseOrderStatus.OPEN else None,
        )
        self.data.orders.append(order)
        return order

    async def purchase_order(self, purchase_order_id: str) -> PurchaseOrder | None:
        return next((o for o in self.data.orders if o.id == purchase_order_id), None)

    async def lock_purchase_order(self, purchase_order_id: str) -> PurchaseOrder | None:
        return await self.purchase_order(purchase_order_id)

    async def save_purchase_order(self, order: PurchaseOrder) -> PurchaseOrder:
        if any(not 0 <= x.quantity_received <= x.quantity_ordered for x in order.lines):
            raise AssertionError("received beyond ordered (a CHECK constraint in SQL)")
        index = next(i for i, o in enumerate(self.data.orders) if o.id == order.id)
        self.data.orders[index] = order
        return order

    async def add_receipt(
        self, receipt_id: str, purchase_order_id: str, key: str, units: int
    ) -> bool:
        if (purchase_order_id, key or receipt_id) in self.data.receipts:
            return False
        self.data.receipts[(purchase_order_id, key or receipt_id)] = (utcnow(), units)
        return True

    async def purchase_orders(
        self,
        statuses: Sequence[PurchaseOrderStatus],
        location_codes: Sequence[str],
        skus: Sequence[str],
    ) -> list[PurchaseOrder]:
        return [
            o
            for o in self.data.orders
            if (not statuses or o.status in statuses)
            and (not location_codes or o.location_code in location_codes)
            and (not skus or any(x.sku in skus for x in o.lines))
        ]

    async def open_supply(self, location_codes: Sequence[str]) -> dict[SkuAt, int]:
        supply: dict[SkuAt, int] = {}
        for order in await self.purchase_orders(OPEN_STATUSES, location_codes, ()):
            for line in order.lines:
                key = (line.sku, order.location_code)
                supply[key] = supply.get(key, 0) + line.open_quantity
        return {key: units for key, units in supply.items() if units}

    async def add_invoice(self, invoice: SupplierInvoice) -> bool:
        if await self.invoice_by_number(invoice.supplier_code, invoice.invoice_number):
            return False
        self.data.invoices.append(invoice)
        return True

    async def invoice_by_number(self, supplier_code: str, number: str) -> SupplierInvoice | None:
        return next(
            (
                x
                for x in self.data.invoices
                if (x.supplier_code, x.invoice_number) == (supplier_code, number)
            ),
            None,
        )

    async def invoice(self, invoice_id: str) -> SupplierInvoice | None:
        return next((x for x in self.data.invoices if x.id == invoice_id), None)

    async def approve_invoice(self, invoice_id: str, by: str, at: datetime) -> SupplierInvoice:
        index = next(i for i, x in enumerate(self.data.invoices) if x.id == invoice_id)
        approved = dataclasses.replace(
            self.data.invoices[index], status=InvoiceStatus.APPROVED, approved_by=by, approved_at=at
        )
        self.data.invoices[index] = approved
        return approved

    async def record_demand(
        self,
        shipment_id: str,
        order_id: str,
        location_code: str,
        lines: Sequence[NewLine],
        day: date,
        shipped: bool,
    ) -> None:
        for line in lines:
            before = self.data.demand.get((shipment_id, line.sku))
            self.data.demand[(shipment_id, line.sku)] = DemandLine(
                shipment_id,
                line.sku,
                order_id,
                location_code,
                line.quantity,
                before.day if before else day,
                shipped or bool(before and before.shipped),
            )

    async def drop_unshipped_demand(self, order_id: str) -> None:
        self.data.demand = {
            key: x for key, x in self.data.demand.items() if x.order_id != order_id or x.shipped
        }

    async def demand(
        self, location_codes: Sequence[str], since: date
    ) -> dict[SkuAt, dict[date, int]]:
        found: dict[SkuAt, dict[date, int]] = {}
        for x in self.data.demand.values():
            if x.day >= since and (not location_codes or x.location_code in location_codes):
                days = found.setdefault((x.sku, x.location_code), {})
                days[x.day] = days.get(x.day, 0) + x.quantity
        return found

    async def expect_return(
        self, return_id: str, location_code: str, lines: Sequence[NewLine]
    ) -> None:
        for line in lines:
            self.data.expected.setdefault(
                (return_id, line.sku), (location_code, line.quantity, False)
            )

    async def return_arrived(self, return_id: str) -> None:
        for (rid, sku), (location, units, _) in list(self.data.expected.items()):
            if rid == return_id:
                self.data.expected[(rid, sku)] = (location, units, True)

    async def returns_requested(self, location_codes: Sequence[str]) -> dict[SkuAt, int]:
        found: dict[SkuAt, int] = {}
        for (_, sku), (location, units, arrived) in self.data.expected.items():
            if not arrived and (not location_codes or location in location_codes):
                found[(sku, location)] = found.get((sku, location), 0) + units
        return found

    async def record_inspection(
        self, return_id: str, sku: str, inspected: int, restocked: int, refurbished: int
    ) -> None:
        self.data.inspections.setdefault((return_id, sku), (inspected, restocked, refurbished))

    async def record_repair(
        self, work_order_id: str, sku: str, quantity: int, scrapped: bool
    ) -> None:
        self.data.repairs.setdefault(work_order_id, (sku, quantity, scrapped))

    async def yields(self, skus: Iterable[str]) -> dict[str, Yields]:
        found: dict[str, Yields] = {}
        wanted = set(skus)
        for (_, sku), (inspected, restocked, refurbished) in self.data.inspections.items():
            if sku in wanted:
                y = found.get(sku, Yields())
                found[sku] = dataclasses.replace(
                    y,
                    inspected=y.inspected + inspected,
                    restocked=y.restocked + restocked,
                    refurbished=y.refurbished + refurbished,
                )
        for sku, units, scrapped in self.data.repairs.values():
            if sku in wanted:
                y = found.get(sku, Yields())
                found[sku] = dataclasses.replace(
                    y,
                    repaired=y.repaired + units,
                    repaired_sellable=y.repaired_sellable + (0 if scrapped else units),
                )
        return found


def memory_uow() -> MemoryUnitOfWork[ProcurementStore, ProcurementData]:
    return MemoryUnitOfWork(ProcurementData(), MemoryProcurementStore)


class InventoryOverService:
    """Procurement's inventory port over `InventoryService` in memory."""

    def __init__(self) -> None:
        self.uow = inventory_fakes.memory_uow()
        self.service: InventoryService = inventory_bootstrap(self.uow)

    async def unit_costs(self, codes: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        return {x.code: x.unit_cost_cents for x in await self.service.skus(wanted)}

    async def location_exists(self, code: str) -> bool:
        return bool(await self.service.locations([code]))

    async def stock(self, location_codes: Sequence[str]) -> dict[tuple[str, str], Stock]:
        levels = await self.service.stock_levels([], list(location_codes))
        return {
            (x.sku, x.location_code): Stock(
                x.on_hand, x.reserved, x.pending_inspection, x.in_repair
            )
            for x in levels
        }
