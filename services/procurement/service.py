"""Procurement's use cases: suppliers, purchase orders (open, receive, cancel), supplier
invoices (record with the three-way match, approve), the replenishment plan and the draft
purchase orders made from it.

Each change is one unit of work that commits with its events (inventory consumes them: units in
transit on opening, on hand on receipt, off in transit on cancelling); inventory is asked about
SKUs, locations and stock before a unit of work opens, never inside one. The queries live in
`store.py`, the rules in `domain/`.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import timedelta

from oms.events.v1.procurement_pb2 import (
    PurchasedUnits,
    PurchaseOrderCancelled,
    PurchaseOrderOpened,
    PurchaseOrderReceived,
)
from services.kernel import bounds
from services.kernel.caller import INTERNAL, Caller
from services.kernel.db import utcnow
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.unit_of_work import UnitOfWork
from services.procurement.domain import matching, purchasing, replenishment
from services.procurement.domain.model import (
    OPEN_STATUSES,
    ChosenLine,
    InvoiceStatus,
    NewInvoice,
    NewLine,
    NewPurchaseOrder,
    NewSupplier,
    PlanLine,
    Position,
    PurchaseOrder,
    PurchaseOrderStatus,
    Receipt,
    Supplier,
    SupplierInvoice,
    Yields,
)
from services.procurement.ports import Inventory
from services.procurement.settings import ProcurementSettings
from services.procurement.store import ProcurementStore


class ProcurementService:
    """Procurement's use cases."""

    def __init__(
        self, uow: UnitOfWork[ProcurementStore], inventory: Inventory, settings: ProcurementSettings
    ) -> None:
        self.uow = uow
        self._inventory = inventory
        self._settings = settings

    # Suppliers

    async def upsert_supplier(self, new: NewSupplier) -> Supplier:
        """Creates or updates a supplier by code; the SKUs it lists must be in the catalogue
        (NOT_FOUND on the first unknown one)."""
        new = purchasing.require_supplier(new)
        known = await self._inventory.unit_costs(new.skus)
        _require_known(new.skus, known, "skus.{}")
        async with self.uow.write() as store:
            return await store.upsert_supplier(new)

    # Purchase orders

    async def create_purchase_order(self, new: NewPurchaseOrder) -> PurchaseOrder:
        """Opens a purchase order (OPEN, numbered PO-...) and publishes PurchaseOrderOpened, on
        which inventory counts its units in transit at the location. NOT_FOUND for an unknown
        supplier, location or SKU."""
        new = purchasing.require_purchase_order(new)
        await self._require_catalogued(
            new.location_code, [x.sku for x in new.lines], "lines.{}.sku"
        )
        async with self.uow.write() as store:
            supplier = await _supplier(store, new.supplier_code, "supplier_code")
            order = await store.add_purchase_order(
                str(uuid.uuid4()), supplier, new.location_code, new.lines, PurchaseOrderStatus.OPEN
            )
            store.record(_opened(order))
        return order

    async def open_purchase_order(self, purchase_order_id: str) -> PurchaseOrder:
        """Sends a DRAFT: it becomes OPEN and its units in transit. Opening an open one returns
        it unchanged; a received or cancelled one is INVALID_STATE."""
        async with self.uow.write() as store:
            order = await _locked(store, purchase_order_id)
            if order.status is PurchaseOrderStatus.DRAFT:
                order = dataclasses.replace(
                    order, status=PurchaseOrderStatus.OPEN, opened_at=utcnow()
                )
                order = await store.save_purchase_order(order)
                store.record(_opened(order))
            elif order.status is not PurchaseOrderStatus.OPEN:
                raise _not_now(order)
        return order

    async def receive(self, receipt: Receipt, caller: Caller = INTERNAL) -> PurchaseOrder:
        """Receives units of an open purchase order: they leave in transit and are on hand
        (sellable) at its location once inventory applies PurchaseOrderReceived. The order is
        PARTIALLY_RECEIVED, then RECEIVED; more units than are still open is INVALID_QUANTITY.

        The order's row is locked for the whole check-and-write, so two scanners receiving at
        once take turns and the second is checked against what the first received. A receipt
        retried under the same idempotency key returns the order and moves nothing. A scanner
        receives at its own location only (FORBIDDEN).
        """
        receipt = purchasing.require_receipt(receipt)
        async with self.uow.write() as store:
            order = await _locked(store, receipt.purchase_order_id)
            if not caller.works_at(order.location_code):
                raise DomainError(
                    ErrorCode.FORBIDDEN,
                    "a scanner receives at its own location only",
                    "purchase_order_id",
                )
            receipt_id = str(uuid.uuid4())
            units = sum(line.quantity for line in receipt.lines)
            if not await store.add_receipt(receipt_id, order.id, receipt.idempotency_key, units):
                return order
            order = await store.save_purchase_order(purchasing.receive(order, receipt))
            store.record(
                PurchaseOrderReceived(
                    purchase_order_id=order.id,
                    number=order.number,
                    receipt_id=receipt_id,
                    location_code=order.location_code,
                    lines=[PurchasedUnits(sku=x.sku, quantity=x.quantity) for x in receipt.lines],
                )
            )
        return order

    async def cancel(self, purchase_order_id: str) -> PurchaseOrder:
        """Cancels a draft or an open purchase order; what was not received leaves in transit
        (PurchaseOrderCancelled). Cancelling a cancelled one returns it; a received one is
        INVALID_STATE."""
        async with self.uow.write() as store:
            order = await _locked(store, purchase_order_id)
            if order.status is PurchaseOrderStatus.CANCELLED:
                return order
            purchasing.require_cancellable(order)
            was_open = order.is_open
            order = await store.save_purchase_order(
                dataclasses.replace(order, status=PurchaseOrderStatus.CANCELLED)
            )
            if was_open:
                store.record(
                    PurchaseOrderCancelled(
                        purchase_order_id=order.id,
                        number=order.number,
                        location_code=order.location_code,
                        lines=[
                            PurchasedUnits(sku=x.sku, quantity=x.open_quantity)
                            for x in order.lines
                            if x.open_quantity
                        ],
                    )
                )
        return order

    async def purchase_order(
        self, purchase_order_id: str, caller: Caller = INTERNAL
    ) -> PurchaseOrder:
        async with self.uow.read() as store:
            order = await store.purchase_order(purchase_order_id)
        if order is None or not caller.works_at(order.location_code):
            raise DomainError(
                ErrorCode.NOT_FOUND, f"no purchase order {purchase_order_id}", "purchase_order_id"
            )
        return order

    async def purchase_orders(
        self,
        status: PurchaseOrderStatus | None,
        location_codes: Sequence[str] = (),
        skus: Sequence[str] = (),
        open_only: bool = False,
        caller: Caller = INTERNAL,
    ) -> list[PurchaseOrder]:
        """Purchase orders by status, locations (a network of them) and SKUs, oldest first;
        `open_only` keeps the supply still to come. A scanner sees its own location's only."""
        bounds.require_count(location_codes, "location_codes", bounds.MAX_CODES, "locations")
        bounds.require_count(skus, "skus", bounds.MAX_CODES, "SKUs")
        if caller.bound_location:
            if location_codes and caller.bound_location not in location_codes:
                return []
            location_codes = [caller.bound_location]
        statuses = list(OPEN_STATUSES) if open_only else ([status] if status else [])
        async with self.uow.read() as store:
            return await store.purchase_orders(statuses, location_codes, skus)

    # Supplier invoices

    async def record_invoice(self, new: NewInvoice) -> SupplierInvoice:
        """Records a supplier invoice against a purchase order, matched three ways
        (`matching.match`): MATCHED, or ON_HOLD with its discrepancies. The same invoice number
        from the same supplier is recorded once: again, it returns the first invoice (the
        unique constraint settles two recorded at once)."""
        new = matching.require_invoice(new)
        async with self.uow.write() as store:
            order = await store.purchase_order(new.purchase_order_id)
            if order is None:
                raise DomainError(
                    ErrorCode.NOT_FOUND,
                    f"no purchase order {new.purchase_order_id}",
                    "purchase_order_id",
                )
            first = await store.invoice_by_number(order.supplier.code, new.invoice_number)
            if first is not None:
                return first
            status, discrepancies = matching.match(order, new.lines, self._settings.tolerance)
            invoice = SupplierInvoice(
                id=str(uuid.uuid4()),
                invoice_number=new.invoice_number,
                supplier_code=order.supplier.code,
                purchase_order_id=order.id,
                status=status,
                total_cents=matching.total_cents(new.lines),
                lines=new.lines,
                discrepancies=discrepancies,
                recorded_at=utcnow(),
            )
            if await store.add_invoice(invoice):
                return invoice
            found = await store.invoice_by_number(order.supplier.code, new.invoice_number)
            if found is None:  # the number's first invoice is not visible yet: a fault
                raise LookupError(f"invoice {new.invoice_number} neither recorded nor found")
            return found

    async def approve_invoice(self, invoice_id: str, caller: Caller = INTERNAL) -> SupplierInvoice:
        """Releases an ON_HOLD invoice for payment, recording who approved it and when.
        Approving an approved one returns it; a MATCHED one needs no approval (INVALID_STATE)."""
        async with self.uow.write() as store:
            invoice = await store.invoice(invoice_id)
            if invoice is None:
                raise DomainError(ErrorCode.NOT_FOUND, f"no invoice {invoice_id}", "invoice_id")
            if invoice.status is InvoiceStatus.APPROVED:
                return invoice
            if invoice.status is not InvoiceStatus.ON_HOLD:
                raise DomainError(
                    ErrorCode.INVALID_STATE,
                    f"invoice {invoice.invoice_number} is {invoice.status.value}",
                    "invoice_id",
                )
            return await store.approve_invoice(invoice_id, caller.subject, utcnow())

    # Replenishment

    async def replenishment_plan(self, location_code: str = "") -> list[PlanLine]:
        """What to buy per SKU and location (at one location, or all): see
        `replenishment.plan_line` for the formula. A line per SKU and location with stock,
        demand, supply or returns on the way, by location then SKU."""
        locations = (
            [bounds.require_code(location_code, "location_code", "location code")]
            if location_code
            else []
        )
        stock = await self._inventory.stock(locations)
        policy = self._settings.policy
        today = utcnow().date()
        async with self.uow.read() as store:
            supply = await store.open_supply(locations)
            demand = await store.demand(locations, today - timedelta(days=policy.demand_days - 1))
            requested = await store.returns_requested(locations)
            keys = sorted({*stock, *supply, *demand, *requested}, key=lambda key: (key[1], key[0]))
            skus = {sku for sku, _ in keys}
            suppliers = await store.suppliers_of(skus)
            yields = await store.yields(skus)
        lines = []
        for sku, location in keys:
            level = stock.get((sku, location))
            position = Position(
                on_hand=level.on_hand if level else 0,
                reserved=level.reserved if level else 0,
                in_transit=supply.get((sku, location), 0),
                returns_requested=requested.get((sku, location), 0),
                pending_inspection=level.pending_inspection if level else 0,
                in_repair=level.in_repair if level else 0,
            )
            supplier = self._quickest(suppliers.get(sku, []))
            lines.append(
                replenishment.plan_line(
                    sku,
                    location,
                    replenishment.daily_demand(
                        demand.get((sku, location), {}), today, policy.demand_days
                    ),
                    position,
                    self._lead_time(supplier),
                    supplier.pack_size if supplier else 0,
                    yields.get(sku, Yields()),
                    policy,
                    supplier.code if supplier else "",
                )
            )
        return lines

    async def draft_purchase_orders(self, chosen: Sequence[ChosenLine]) -> list[PurchaseOrder]:
        """Turns chosen plan lines into DRAFT purchase orders, one per supplier and location, at
        the catalogue's unit cost; a line's quantity is the plan's suggestion unless given.
        Refused when a line is not in the plan (NOT_FOUND), no supplier lists its SKU
        (INVALID_STATE) or its quantity is below 1 (INVALID_QUANTITY)."""
        bounds.require_count(chosen, "lines", bounds.MAX_LINES, "lines")
        if not chosen:
            raise DomainError(ErrorCode.INVALID_INPUT, "choose a plan line", "lines")
        plan = {(x.sku, x.location_code): x for x in await self.replenishment_plan()}
        costs = await self._inventory.unit_costs(x.sku for x in chosen)
        grouped: dict[tuple[str, str], list[NewLine]] = {}
        for index, line in enumerate(chosen):
            planned = plan.get((line.sku, line.location_code))
            if planned is None:
                raise DomainError(
                    ErrorCode.NOT_FOUND, f"no plan line for {line.sku} there", f"lines.{index}"
                )
            if not planned.supplier_code:
                raise DomainError(
                    ErrorCode.INVALID_STATE, f"no supplier lists {line.sku}", f"lines.{index}.sku"
                )
            if any(
                x.sku == line.sku and x.location_code == line.location_code for x in chosen[:index]
            ):
                raise DomainError(
                    ErrorCode.INVALID_INPUT, "a plan line is chosen twice", f"lines.{index}"
                )
            quantity = planned.suggested_quantity if line.quantity is None else line.quantity
            if not 1 <= quantity <= bounds.MAX_UNITS:
                raise DomainError(
                    ErrorCode.INVALID_QUANTITY,
                    f"quantity must be within 1..{bounds.MAX_UNITS} (the plan suggests "
                    f"{planned.suggested_quantity})",
                    f"lines.{index}.quantity",
                )
            key = (planned.supplier_code, planned.location_code)
            grouped.setdefault(key, []).append(NewLine(line.sku, quantity, costs.get(line.sku, 0)))
        async with self.uow.write() as store:
            drafts = []
            for (supplier_code, location_code), lines in grouped.items():
                supplier = await _supplier(store, supplier_code, "lines")
                drafts.append(
                    await store.add_purchase_order(
                        str(uuid.uuid4()),
                        supplier,
                        location_code,
                        lines,
                        PurchaseOrderStatus.DRAFT,
                    )
                )
        return drafts

    def _quickest(self, suppliers: Sequence[Supplier]) -> Supplier | None:
        """Of the suppliers listing a SKU, the one with the shortest lead time the plan uses."""
        return min(suppliers, key=lambda s: (self._lead_time(s).days, s.code), default=None)

    def _lead_time(self, supplier: Supplier | None) -> replenishment.LeadTime:
        return replenishment.lead_time(
            supplier.lead_time_days if supplier else None,
            supplier.observed_lead_time_days if supplier else None,
            supplier.observed_receipts if supplier else 0,
            self._settings.min_lead_time_receipts,
            self._settings.policy.default_lead_time_days,
        )

    async def _require_catalogued(
        self, location_code: str, skus: Sequence[str], field: str
    ) -> None:
        _require_known(skus, await self._inventory.unit_costs(skus), field)
        if not await self._inventory.location_exists(location_code):
            raise DomainError(
                ErrorCode.NOT_FOUND, f"unknown location {location_code!r}", "location_code"
            )


def _require_known(skus: Sequence[str], known: dict[str, int], field: str) -> None:
    for index, sku in enumerate(skus):
        if sku not in known:
            raise DomainError(ErrorCode.NOT_FOUND, f"unknown SKU {sku!r}", field.format(index))


async def _supplier(store: ProcurementStore, code: str, field: str) -> Supplier:
    found = (await store.suppliers([code])).get(code)
    if found is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"unknown supplier {code!r}", field)
    return found


async def _locked(store: ProcurementStore, purchase_order_id: str) -> PurchaseOrder:
    order = await store.lock_purchase_order(purchase_order_id)
    if order is None:
        raise DomainError(
            ErrorCode.NOT_FOUND, f"no purchase order {purchase_order_id}", "purchase_order_id"
        )
    return order


def _not_now(order: PurchaseOrder) -> DomainError:
    return DomainError(
        ErrorCode.INVALID_STATE,
        f"purchase order {order.number} is {order.status.value}",
        "purchase_order_id",
    )


def _opened(order: PurchaseOrder) -> PurchaseOrderOpened:
    return PurchaseOrderOpened(
        purchase_order_id=order.id,
        number=order.number,
        supplier_code=order.supplier.code,
        location_code=order.location_code,
        lines=[PurchasedUnits(sku=x.sku, quantity=x.quantity_ordered) for x in order.lines],
    )
