"""Procurement's store: the port its use cases call, and its tables and queries over SQL (no
other service's data; demand and the returns pipeline come from the events it consumes)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, UniqueConstraint, delete, func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.kernel.db import UTCDateTime, dialect_insert, insert_ignoring_conflict, utcnow
from services.kernel.unit_of_work import SqlStore, Store
from services.procurement.domain import purchasing
from services.procurement.domain.model import (
    OPEN_STATUSES,
    Discrepancy,
    DiscrepancyKind,
    InvoiceLine,
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

PRODUCER = "procurement"
MONEY = BigInteger().with_variant(Integer(), "sqlite")
# Receipts averaged into a supplier's observed lead time: the most recent ones.
LEAD_TIME_RECEIPTS = 50
SECONDS_A_DAY = 86_400

SkuAt = tuple[str, str]


class ProcurementStore(Store, Protocol):
    """What procurement's use cases ask of their storage, in one unit of work."""

    async def upsert_supplier(self, new: NewSupplier) -> Supplier: ...

    async def suppliers(self, codes: Iterable[str]) -> dict[str, Supplier]:
        """The known suppliers among `codes`, with their observed lead times."""
        ...

    async def suppliers_of(self, skus: Iterable[str]) -> dict[str, list[Supplier]]:
        """The suppliers that list each SKU, by code."""
        ...

    async def add_purchase_order(
        self,
        purchase_order_id: str,
        supplier: Supplier,
        location_code: str,
        lines: Sequence[NewLine],
        status: PurchaseOrderStatus,
    ) -> PurchaseOrder:
        """Stores a purchase order under the next number (PO-000001, ...)."""
        ...

    async def purchase_order(self, purchase_order_id: str) -> PurchaseOrder | None: ...

    async def lock_purchase_order(self, purchase_order_id: str) -> PurchaseOrder | None:
        """The purchase order, locked until the unit of work ends: receipts and cancellations
        of one order take turns, so none is checked against lines another is changing."""
        ...

    async def save_purchase_order(self, order: PurchaseOrder) -> PurchaseOrder:
        """Writes the order's status, times and received units (a database check refuses a line
        received beyond what was ordered, whatever the caller checked)."""
        ...

    async def add_receipt(
        self, receipt_id: str, purchase_order_id: str, key: str, units: int
    ) -> bool:
        """Notes a receipt; False when the order already has one under `key` (a retry)."""
        ...

    async def purchase_orders(
        self,
        statuses: Sequence[PurchaseOrderStatus],
        location_codes: Sequence[str],
        skus: Sequence[str],
    ) -> list[PurchaseOrder]:
        """Orders in any of `statuses` (empty: any), at these locations and holding any of these
        SKUs (empty: any), oldest first."""
        ...

    async def open_supply(self, location_codes: Sequence[str]) -> dict[SkuAt, int]:
        """Units ordered and not yet received on open orders, per (SKU, location)."""
        ...

    async def add_invoice(self, invoice: SupplierInvoice) -> bool:
        """Stores the invoice; False when its supplier already has one with its number."""
        ...

    async def invoice_by_number(
        self, supplier_code: str, number: str
    ) -> SupplierInvoice | None: ...

    async def invoice(self, invoice_id: str) -> SupplierInvoice | None: ...

    async def approve_invoice(self, invoice_id: str, by: str, at: datetime) -> SupplierInvoice: ...

    # What the events tell: demand, returns on their way, and how returns turned out.

    async def record_demand(
        self,
        shipment_id: str,
        order_id: str,
        location_code: str,
        lines: Sequence[NewLine],
        day: date,
        shipped: bool,
    ) -> None:
        """Units a shipment takes (once per shipment and SKU; shipping marks them shipped)."""
        ...

    async def drop_unshipped_demand(self, order_id: str) -> None:
        """A cancelled order's units no longer count as demand, unless they shipped."""
        ...

    async def demand(
        self, location_codes: Sequence[str], since: date
    ) -> dict[SkuAt, dict[date, int]]:
        """Units demanded per (SKU, location) and day since `since`."""
        ...

    async def expect_return(
        self, return_id: str, location_code: str, lines: Sequence[NewLine]
    ) -> None: ...

    async def return_arrived(self, return_id: str) -> None: ...

    async def returns_requested(self, location_codes: Sequence[str]) -> dict[SkuAt, int]:
        """Units requested for return and not yet received, per (SKU, destination)."""
        ...

    async def record_inspection(
        self, return_id: str, sku: str, inspected: int, restocked: int, refurbished: int
    ) -> None: ...

    async def record_repair(
        self, work_order_id: str, sku: str, quantity: int, scrapped: bool
    ) -> None: ...

    async def yields(self, skus: Iterable[str]) -> dict[str, Yields]:
        """The returns history of each SKU that has one."""
        ...


class SupplierRow(SQLModel, table=True):
    __tablename__ = "supplier"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    lead_time_days: int
    pack_size: int | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SupplierSkuRow(SQLModel, table=True):
    __tablename__ = "supplier_sku"

    supplier_code: str = Field(primary_key=True, foreign_key="supplier.code", max_length=64)
    sku: str = Field(primary_key=True, max_length=64, index=True)


class PurchaseOrderRow(SQLModel, table=True):
    __tablename__ = "purchase_order"
    __table_args__ = (Index("ix_purchase_order_status_location", "status", "location_code"),)

    # The sequence doubles as the human number (PO-000042).
    number: int | None = Field(default=None, primary_key=True)
    id: str = Field(max_length=36, unique=True)
    supplier_code: str = Field(foreign_key="supplier.code", max_length=64)
    location_code: str = Field(max_length=64)
    status: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PurchaseOrderLineRow(SQLModel, table=True):
    __tablename__ = "purchase_order_line"
    __table_args__ = (
        # The last word on over-receipt, whatever a use case checked before writing.
        CheckConstraint(
            "quantity_received >= 0 AND quantity_received <= quantity_ordered",
            name="received_within_ordered",
        ),
    )

    purchase_order_id: str = Field(primary_key=True, foreign_key="purchase_order.id", max_length=36)
    sku: str = Field(primary_key=True, max_length=64, index=True)
    position: int
    quantity_ordered: int
    quantity_received: int = 0
    unit_cost_cents: int = Field(sa_type=MONEY)


class ReceiptRow(SQLModel, table=True):
    __tablename__ = "receipt"
    __table_args__ = (
        # A retried receipt finds its first try. NULL (no key) never collides.
        UniqueConstraint("purchase_order_id", "idempotency_key", name="one_receipt_per_key"),
    )

    id: str = Field(primary_key=True, max_length=36)
    purchase_order_id: str = Field(foreign_key="purchase_order.id", max_length=36, index=True)
    idempotency_key: str | None = Field(default=None, max_length=128)
    units: int
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SupplierInvoiceRow(SQLModel, table=True):
    __tablename__ = "supplier_invoice"
    __table_args__ = (
        UniqueConstraint("supplier_code", "invoice_number", name="one_invoice_per_number"),
    )

    id: str = Field(primary_key=True, max_length=36)
    supplier_code: str = Field(max_length=64)
    invoice_number: str = Field(max_length=64)
    purchase_order_id: str = Field(foreign_key="purchase_order.id", max_length=36)
    status: str = Field(max_length=32)
    total_cents: int = Field(sa_type=BigInteger)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    approved_by: str | None = Field(default=None, max_length=200)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SupplierInvoiceLineRow(SQLModel, table=True):
    __tablename__ = "supplier_invoice_line"

    invoice_id: str = Field(primary_key=True, foreign_key="supplier_invoice.id", max_length=36)
    position: int = Field(primary_key=True)
    sku: str = Field(max_length=64)
    quantity: int
    unit_cost_cents: int = Field(sa_type=MONEY)


class InvoiceDiscrepancyRow(SQLModel, table=True):
    __tablename__ = "invoice_discrepancy"

    invoice_id: str = Field(primary_key=True, foreign_key="supplier_invoice.id", max_length=36)
    position: int = Field(primary_key=True)
    sku: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    expected: int = Field(sa_type=BigInteger)
    actual: int = Field(sa_type=BigInteger)


class DemandRow(SQLModel, table=True):
    """Units a placed order's shipment takes from a location: the plan's demand."""

    __tablename__ = "demand"
    __table_args__ = (Index("ix_demand_location_day", "location_code", "day"),)

    shipment_id: str = Field(primary_key=True, max_length=64)
    sku: str = Field(primary_key=True, max_length=64)
    order_id: str = Field(max_length=64, index=True)
    location_code: str = Field(max_length=64)
    quantity: int
    day: date
    shipped: bool = False


@functools.cache
def _record_demand(dialect: str) -> Any:
    """A shipment's demand line inserted, or (the shipment known) only marked shipped: one
    statement per line, built once, where reading each row first cost a query and a flush."""
    statement = dialect_insert(dialect)(DemandRow.__table__)  # type: ignore[attr-defined]
    table, proposed = statement.table, statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[table.c.shipment_id, table.c.sku],
        set_={"shipped": table.c.shipped | proposed.shipped},
    )


class ExpectedReturnRow(SQLModel, table=True):
    """Units requested for return, until the parcel arrives at its destination."""

    __tablename__ = "expected_return"

    return_id: str = Field(primary_key=True, max_length=64)
    sku: str = Field(primary_key=True, max_length=64)
    location_code: str = Field(max_length=64, index=True)
    quantity: int
    arrived: bool = False


class InspectionOutcomeRow(SQLModel, table=True):
    __tablename__ = "inspection_outcome"

    return_id: str = Field(primary_key=True, max_length=64)
    sku: str = Field(primary_key=True, max_length=64, index=True)
    inspected: int
    restocked: int
    refurbished: int


class RepairOutcomeRow(SQLModel, table=True):
    __tablename__ = "repair_outcome"

    work_order_id: str = Field(primary_key=True, max_length=64)
    sku: str = Field(max_length=64, index=True)
    quantity: int
    scrapped: bool


TABLES: tuple[type[SQLModel], ...] = (
    SupplierRow,
    SupplierSkuRow,
    PurchaseOrderRow,
    PurchaseOrderLineRow,
    ReceiptRow,
    SupplierInvoiceRow,
    SupplierInvoiceLineRow,
    InvoiceDiscrepancyRow,
    DemandRow,
    ExpectedReturnRow,
    InspectionOutcomeRow,
    RepairOutcomeRow,
)


class SqlProcurementStore(SqlStore):
    """Procurement's store over its own database."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, PRODUCER)

    # Suppliers

    async def upsert_supplier(self, new: NewSupplier) -> Supplier:
        row = await self.session.get(SupplierRow, new.code) or SupplierRow(
            code=new.code, name=new.name, lead_time_days=new.lead_time_days
        )
        row.name = new.name
        row.lead_time_days = new.lead_time_days
        if new.pack_size is not None:
            row.pack_size = new.pack_size
        row.updated_at = utcnow()
        self.session.add(row)
        await self.session.flush()
        if new.replace_skus:
            await self.session.exec(
                delete(SupplierSkuRow).where(col(SupplierSkuRow.supplier_code) == new.code)
            )
        for sku in new.skus:
            await insert_ignoring_conflict(
                self.session, SupplierSkuRow, {"supplier_code": new.code, "sku": sku}
            )
        return (await self.suppliers([new.code]))[new.code]

    async def suppliers(self, codes: Iterable[str]) -> dict[str, Supplier]:
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        rows = (
            await self.session.exec(select(SupplierRow).where(col(SupplierRow.code).in_(wanted)))
        ).all()
        skus: dict[str, list[str]] = {row.code: [] for row in rows}
        listed = select(SupplierSkuRow).where(col(SupplierSkuRow.supplier_code).in_(wanted))
        for item in (await self.session.exec(listed.order_by(col(SupplierSkuRow.sku)))).all():
            skus[item.supplier_code].append(item.sku)
        observed = await self._observed_lead_times(list(skus))
        return {
            row.code: Supplier(
                code=row.code,
                name=row.name,
                lead_time_days=row.lead_time_days,
                pack_size=row.pack_size or 0,
                skus=tuple(skus[row.code]),
                observed_lead_time_days=observed[row.code][0],
                observed_receipts=observed[row.code][1],
            )
            for row in rows
        }

    async def _observed_lead_times(
        self, codes: Sequence[str]
    ) -> dict[str, tuple[float | None, int]]:
        """Per supplier, days from opening to receipt weighted by the units each of its last
        LEAD_TIME_RECEIPTS receipts brought, and how many receipts that was; one query."""
        statement = (
            select(
                PurchaseOrderRow.supplier_code,
                ReceiptRow.received_at,
                ReceiptRow.units,
                PurchaseOrderRow.opened_at,
            )
            .join(PurchaseOrderRow, col(PurchaseOrderRow.id) == col(ReceiptRow.purchase_order_id))
            .where(col(PurchaseOrderRow.supplier_code).in_(codes))
            .order_by(col(ReceiptRow.received_at).desc())
        )
        samples: dict[str, list[tuple[float, int]]] = {code: [] for code in codes}
        for code, received, units, opened in (await self.session.exec(statement)).all():
            if opened is not None and units > 0 and len(samples[code]) < LEAD_TIME_RECEIPTS:
                samples[code].append(((received - opened).total_seconds(), units))
        observed: dict[str, tuple[float | None, int]] = {}
        for code, found in samples.items():
            units = sum(u for _, u in found)
            seconds = sum(s * u for s, u in found) / units if units else None
            observed[code] = (seconds / SECONDS_A_DAY if seconds is not None else None, len(found))
        return observed

    async def suppliers_of(self, skus: Iterable[str]) -> dict[str, list[Supplier]]:
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        statement = select(SupplierSkuRow).where(col(SupplierSkuRow.sku).in_(wanted))
        pairs = (await self.session.exec(statement)).all()
        found = await self.suppliers({pair.supplier_code for pair in pairs})
        listed: dict[str, list[Supplier]] = {}
        for pair in sorted(pairs, key=lambda p: (p.sku, p.supplier_code)):
            listed.setdefault(pair.sku, []).append(found[pair.supplier_code])
        return listed

    # Purchase orders

    async def add_purchase_order(
        self,
        purchase_order_id: str,
        supplier: Supplier,
        location_code: str,
        lines: Sequence[NewLine],
        status: PurchaseOrderStatus,
    ) -> PurchaseOrder:
        now = utcnow()
        row = PurchaseOrderRow(
            id=purchase_order_id,
            supplier_code=supplier.code,
            location_code=location_code,
            status=status.value,
            created_at=now,
            opened_at=now if status is PurchaseOrderStatus.OPEN else None,
        )
        self.session.add(row)
        await self.session.flush()
        for position, line in enumerate(lines):
            self.session.add(
                PurchaseOrderLineRow(
                    purchase_order_id=purchase_order_id,
                    sku=line.sku,
                    position=position,
                    quantity_ordered=line.quantity,
                    unit_cost_cents=line.unit_cost_cents,
                )
            )
        await self.session.flush()
        return (await self._assemble([row]))[0]

    async def purchase_order(self, purchase_order_id: str) -> PurchaseOrder | None:
        statement = select(PurchaseOrderRow).where(PurchaseOrderRow.id == purchase_order_id)
        row = (await self.session.exec(statement)).first()
        return (await self._assemble([row]))[0] if row else None

    async def lock_purchase_order(self, purchase_order_id: str) -> PurchaseOrder | None:
        statement = (
            select(PurchaseOrderRow)
            .where(PurchaseOrderRow.id == purchase_order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row = (await self.session.exec(statement)).first()
        return (await self._assemble([row]))[0] if row else None

    async def save_purchase_order(self, order: PurchaseOrder) -> PurchaseOrder:
        statement = select(PurchaseOrderRow).where(PurchaseOrderRow.id == order.id)
        row = (await self.session.exec(statement)).one()
        row.status = order.status.value
        row.opened_at = order.opened_at
        row.updated_at = utcnow()
        self.session.add(row)
        for line in order.lines:
            stored = await self.session.get(PurchaseOrderLineRow, (order.id, line.sku))
            if stored is None:
                raise LookupError(f"purchase order {order.id} has no line {line.sku}")
            stored.quantity_received = line.quantity_received
            self.session.add(stored)
        await self.session.flush()
        return (await self._assemble([row]))[0]

    async def add_receipt(
        self, receipt_id: str, purchase_order_id: str, key: str, units: int
    ) -> bool:
        values: dict[str, object] = {
            "id": receipt_id,
            "purchase_order_id": purchase_order_id,
            "idempotency_key": key or None,
            "units": units,
            "received_at": utcnow(),
        }
        return await insert_ignoring_conflict(self.session, ReceiptRow, values)

    async def purchase_orders(
        self,
        statuses: Sequence[PurchaseOrderStatus],
        location_codes: Sequence[str],
        skus: Sequence[str],
    ) -> list[PurchaseOrder]:
        statement = select(PurchaseOrderRow)
        if statuses:
            statement = statement.where(
                col(PurchaseOrderRow.status).in_([s.value for s in statuses])
            )
        if location_codes:
            statement = statement.where(col(PurchaseOrderRow.location_code).in_(location_codes))
        if skus:
            holding = select(PurchaseOrderLineRow.purchase_order_id).where(
                col(PurchaseOrderLineRow.sku).in_(skus)
            )
            statement = statement.where(col(PurchaseOrderRow.id).in_(holding))
        statement = statement.order_by(col(PurchaseOrderRow.number))
        return await self._assemble(list((await self.session.exec(statement)).all()))

    async def open_supply(self, location_codes: Sequence[str]) -> dict[SkuAt, int]:
        open_units = func.sum(
            col(PurchaseOrderLineRow.quantity_ordered) - col(PurchaseOrderLineRow.quantity_received)
        )
        statement = (
            select(PurchaseOrderLineRow.sku, PurchaseOrderRow.location_code, open_units)
            .join(
                PurchaseOrderRow,
                col(PurchaseOrderRow.id) == col(PurchaseOrderLineRow.purchase_order_id),
            )
            .where(col(PurchaseOrderRow.status).in_([s.value for s in OPEN_STATUSES]))
            .group_by(col(PurchaseOrderLineRow.sku), col(PurchaseOrderRow.location_code))
        )
        if location_codes:
            statement = statement.where(col(PurchaseOrderRow.location_code).in_(location_codes))
        rows = (await self.session.exec(statement)).all()
        return {(sku, location): int(units) for sku, location, units in rows if units}

    async def _assemble(self, rows: Sequence[PurchaseOrderRow]) -> list[PurchaseOrder]:
        """Purchase orders with their lines and suppliers in a few more queries, whatever the
        count."""
        if not rows:
            return []
        ids = [row.id for row in rows]
        lines: dict[str, list[PurchaseOrderLine]] = {row.id: [] for row in rows}
        statement = (
            select(PurchaseOrderLineRow)
            .where(col(PurchaseOrderLineRow.purchase_order_id).in_(ids))
            .order_by(
                col(PurchaseOrderLineRow.purchase_order_id), col(PurchaseOrderLineRow.position)
            )
            .execution_options(populate_existing=True)
        )
        for line in (await self.session.exec(statement)).all():
            lines[line.purchase_order_id].append(
                PurchaseOrderLine(
                    line.sku, line.quantity_ordered, line.unit_cost_cents, line.quantity_received
                )
            )
        suppliers = await self.suppliers({row.supplier_code for row in rows})
        return [
            PurchaseOrder(
                id=row.id,
                number=purchasing.po_number(row.number or 0),
                status=PurchaseOrderStatus(row.status),
                supplier=suppliers[row.supplier_code],
                location_code=row.location_code,
                lines=tuple(lines[row.id]),
                created_at=row.created_at,
                opened_at=row.opened_at,
            )
            for row in rows
        ]

    # Supplier invoices

    async def add_invoice(self, invoice: SupplierInvoice) -> bool:
        values: dict[str, object] = {
            "id": invoice.id,
            "supplier_code": invoice.supplier_code,
            "invoice_number": invoice.invoice_number,
            "purchase_order_id": invoice.purchase_order_id,
            "status": invoice.status.value,
            "total_cents": invoice.total_cents,
            "recorded_at": invoice.recorded_at,
        }
        if not await insert_ignoring_conflict(self.session, SupplierInvoiceRow, values):
            return False
        for position, line in enumerate(invoice.lines):
            self.session.add(
                SupplierInvoiceLineRow(
                    invoice_id=invoice.id,
                    position=position,
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_cost_cents=line.unit_cost_cents,
                )
            )
        for position, found in enumerate(invoice.discrepancies):
            self.session.add(
                InvoiceDiscrepancyRow(
                    invoice_id=invoice.id,
                    position=position,
                    sku=found.sku,
                    kind=found.kind.value,
                    expected=found.expected,
                    actual=found.actual,
                )
            )
        await self.session.flush()
        return True

    async def invoice_by_number(self, supplier_code: str, number: str) -> SupplierInvoice | None:
        statement = select(SupplierInvoiceRow).where(
            SupplierInvoiceRow.supplier_code == supplier_code,
            SupplierInvoiceRow.invoice_number == number,
        )
        row = (await self.session.exec(statement)).first()
        return await self._invoice(row) if row else None

    async def invoice(self, invoice_id: str) -> SupplierInvoice | None:
        statement = (
            select(SupplierInvoiceRow)
            .where(SupplierInvoiceRow.id == invoice_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row = (await self.session.exec(statement)).first()
        return await self._invoice(row) if row else None

    async def approve_invoice(self, invoice_id: str, by: str, at: datetime) -> SupplierInvoice:
        row = await self.session.get(SupplierInvoiceRow, invoice_id)
        if row is None:
            raise LookupError(f"no invoice {invoice_id}")
        row.status = InvoiceStatus.APPROVED.value
        row.approved_by = by
        row.approved_at = at
        self.session.add(row)
        await self.session.flush()
        return await self._invoice(row)

    async def _invoice(self, row: SupplierInvoiceRow) -> SupplierInvoice:
        lines = select(SupplierInvoiceLineRow).where(SupplierInvoiceLineRow.invoice_id == row.id)
        found = select(InvoiceDiscrepancyRow).where(InvoiceDiscrepancyRow.invoice_id == row.id)
        return SupplierInvoice(
            id=row.id,
            invoice_number=row.invoice_number,
            supplier_code=row.supplier_code,
            purchase_order_id=row.purchase_order_id,
            status=InvoiceStatus(row.status),
            total_cents=row.total_cents,
            lines=tuple(
                InvoiceLine(x.sku, x.quantity, x.unit_cost_cents)
                for x in (
                    await self.session.exec(lines.order_by(col(SupplierInvoiceLineRow.position)))
                ).all()
            ),
            discrepancies=tuple(
                Discrepancy(x.sku, DiscrepancyKind(x.kind), x.expected, x.actual)
                for x in (
                    await self.session.exec(found.order_by(col(InvoiceDiscrepancyRow.position)))
                ).all()
            ),
            recorded_at=row.recorded_at,
            approved_by=row.approved_by or "",
            approved_at=row.approved_at,
        )

    # Demand and the returns pipeline

    async def record_demand(
        self,
        shipment_id: str,
        order_id: str,
        location_code: str,
        lines: Sequence[NewLine],
        day: date,
        shipped: bool,
    ) -> None:
        rows = [
            {
                "shipment_id": shipment_id,
                "sku": line.sku,
                "order_id": order_id,
                "location_code": location_code,
                "quantity": line.quantity,
                "day": day,
                "shipped": shipped,
            }
            for line in lines
        ]
        if rows:
            connection = await self.session.connection()
            await connection.execute(_record_demand(connection.dialect.name), rows)

    async def drop_unshipped_demand(self, order_id: str) -> None:
        await self.session.exec(
            delete(DemandRow).where(
                col(DemandRow.order_id) == order_id, col(DemandRow.shipped).is_(False)
            )
        )

    async def demand(
        self, location_codes: Sequence[str], since: date
    ) -> dict[SkuAt, dict[date, int]]:
        statement = (
            select(
                col(DemandRow.sku),
                col(DemandRow.location_code),
                col(DemandRow.day),
                func.sum(DemandRow.quantity),
            )
            .where(col(DemandRow.day) >= since)
            .group_by(col(DemandRow.sku), col(DemandRow.location_code), col(DemandRow.day))
        )
        if location_codes:
            statement = statement.where(col(DemandRow.location_code).in_(location_codes))
        found: dict[SkuAt, dict[date, int]] = {}
        for sku, location, day, units in (await self.session.exec(statement)).all():
            found.setdefault((sku, location), {})[day] = int(units)
        return found

    async def expect_return(
        self, return_id: str, location_code: str, lines: Sequence[NewLine]
    ) -> None:
        for line in lines:
            await insert_ignoring_conflict(
                self.session,
                ExpectedReturnRow,
                {
                    "return_id": return_id,
                    "sku": line.sku,
                    "location_code": location_code,
                    "quantity": line.quantity,
                    "arrived": False,
                },
            )

    async def return_arrived(self, return_id: str) -> None:
        statement = select(ExpectedReturnRow).where(ExpectedReturnRow.return_id == return_id)
        for row in (await self.session.exec(statement)).all():
            row.arrived = True
            self.session.add(row)
        await self.session.flush()

    async def returns_requested(self, location_codes: Sequence[str]) -> dict[SkuAt, int]:
        statement = (
            select(
                ExpectedReturnRow.sku,
                ExpectedReturnRow.location_code,
                func.sum(ExpectedReturnRow.quantity),
            )
            .where(col(ExpectedReturnRow.arrived).is_(False))
            .group_by(col(ExpectedReturnRow.sku), col(ExpectedReturnRow.location_code))
        )
        if location_codes:
            statement = statement.where(col(ExpectedReturnRow.location_code).in_(location_codes))
        return {
            (sku, location): int(units)
            for sku, location, units in (await self.session.exec(statement)).all()
        }

    async def record_inspection(
        self, return_id: str, sku: str, inspected: int, restocked: int, refurbished: int
    ) -> None:
        await insert_ignoring_conflict(
            self.session,
            InspectionOutcomeRow,
            {
                "return_id": return_id,
                "sku": sku,
                "inspected": inspected,
                "restocked": restocked,
                "refurbished": refurbished,
            },
        )

    async def record_repair(
        self, work_order_id: str, sku: str, quantity: int, scrapped: bool
    ) -> None:
        await insert_ignoring_conflict(
            self.session,
            RepairOutcomeRow,
            {
                "work_order_id": work_order_id,
                "sku": sku,
                "quantity": quantity,
                "scrapped": scrapped,
            },
        )

    async def yields(self, skus: Iterable[str]) -> dict[str, Yields]:
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        inspections = (
            select(
                InspectionOutcomeRow.sku,
                func.sum(InspectionOutcomeRow.inspected),
                func.sum(InspectionOutcomeRow.restocked),
                func.sum(InspectionOutcomeRow.refurbished),
            )
            .where(col(InspectionOutcomeRow.sku).in_(wanted))
            .group_by(col(InspectionOutcomeRow.sku))
        )
        found = {
            sku: Yields(int(inspected), int(restocked), int(refurbished))
            for sku, inspected, restocked, refurbished in (
                await self.session.exec(inspections)
            ).all()
        }
        repairs = (
            select(
                RepairOutcomeRow.sku, RepairOutcomeRow.scrapped, func.sum(RepairOutcomeRow.quantity)
            )
            .where(col(RepairOutcomeRow.sku).in_(wanted))
            .group_by(col(RepairOutcomeRow.sku), col(RepairOutcomeRow.scrapped))
        )
        for sku, scrapped, units in (await self.session.exec(repairs)).all():
            before = found.get(sku, Yields())
            found[sku] = Yields(
                before.inspected,
                before.restocked,
                before.refurbished,
                before.repaired + int(units),
                before.repaired_sellable + (0 if scrapped else int(units)),
            )
        return found
