"""Bulk loads for the back office: many SKUs or many stock changes in one request, each all or
nothing, from a list of rows or from a CSV file's text (`oms import skus|stock FILE`)."""

from __future__ import annotations

import strawberry

from gateway.context import Context
from gateway.convert import request
from gateway.inventory.resolvers import STOCK_WRITERS, inventory_stub
from gateway.mutations import Payload, answer
from gateway.permissions import allow
from oms.inventory.v1 import inventory_pb2 as pb

Info = strawberry.Info[Context, None]


@strawberry.input
class StockImportRowInput:
    sku: str
    location_code: str
    delta: int | None = strawberry.field(default=None, description="Signed change to on hand.")
    on_hand: int | None = strawberry.field(default=None, description="On hand to set.")
    reason: str = "import"


@strawberry.input
class ImportStockInput:
    rows: list[StockImportRowInput] | None = None
    csv: str | None = strawberry.field(
        default=None,
        description="Instead of rows: a CSV file's text, columns sku, location_code, delta or "
        "on_hand, and optionally reason (the README has the format).",
    )
    idempotency_key: str | None = None

    def to_proto(self) -> pb.ImportStockRequest:
        return request(pb.ImportStockRequest, self)


@strawberry.type
class StockImport:
    rows: int
    levels_changed: int
    replayed: bool


@strawberry.type
class ImportStockPayload(Payload):
    stock_import: StockImport | None = None


@strawberry.input
class SkuRowInput:
    code: str
    title: str
    unit_cost_cents: int = 0
    weight_grams: int = 0
    serialized: bool = False


@strawberry.input
class UpsertSkusInput:
    skus: list[SkuRowInput] | None = None
    csv: str | None = strawberry.field(
        default=None,
        description="Instead of skus: a CSV file's text, columns code, title, "
        "unit_cost_cents, weight_grams and optionally serialized.",
    )

    def to_proto(self) -> pb.UpsertSkusRequest:
        return request(pb.UpsertSkusRequest, self)


@strawberry.type
class SkuImport:
    created: int
    updated: int


@strawberry.type
class UpsertSkusPayload(Payload):
    sku_import: SkuImport | None = None


@strawberry.type
class BulkImportMutation:
    @strawberry.mutation(
        extensions=allow(*STOCK_WRITERS),
        description="Not in the client contract. Many on-hand changes at once, all or none: "
        "each row a delta or the on hand to set, never below what is reserved; a refusal "
        "names its row (input.rows.N) or file line (input.csv.LINE). The same idempotencyKey "
        "again changes nothing. At most 1,000 rows in the list; more in a CSV file (up to "
        "50,000 rows, within the request's size limit).",
    )
    async def import_stock(self, info: Info, input: ImportStockInput) -> ImportStockPayload:
        call = inventory_stub(info).ImportStock(input.to_proto())
        return await answer(
            ImportStockPayload,
            call,
            stock_import=lambda r: StockImport(
                rows=r.rows, levels_changed=r.levels_changed, replayed=r.replayed
            ),
        )

    @strawberry.mutation(
        extensions=allow(*STOCK_WRITERS),
        description="Not in the client contract. Creates or updates many SKUs by code, all "
        "or none (made-to-order declarations stay as they were). At most 1,000 in the list; "
        "more in a CSV file (up to 50,000 rows, within the request's size limit).",
    )
    async def upsert_skus(self, info: Info, input: UpsertSkusInput) -> UpsertSkusPayload:
        call = inventory_stub(info).UpsertSkus(input.to_proto())
        return await answer(
            UpsertSkusPayload,
            call,
            sku_import=lambda r: SkuImport(created=r.created, updated=r.updated),
        )
