"""Locations, SKUs and stock through the gateway, as the gateway tests set them up and read
them back: the documents and the two shortcuts every one of them needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tests.support.graphql import GraphQLClient
from tests.support.inputs import LocationInput, SkuInput, StockAdjustmentInput

UPSERT_LOCATION = """
mutation UpsertLocation($input: LocationInput!) {
  upsertLocation(input: $input) {
    location { id code name kind latitude longitude shipsOrders acceptsReturns }
    userErrors { field message code }
  }
}"""
UPSERT_SKU = """
mutation UpsertSku($input: SkuInput!) {
  upsertSku(input: $input) {
    sku { code title unitCostCents weightGrams serialized }
    userErrors { field message code }
  }
}"""
ADJUST_STOCK = """
mutation AdjustStock($input: StockAdjustmentInput!) {
  adjustStock(input: $input) {
    stockLevel { sku location { code } onHand available }
    userErrors { field message code }
  }
}"""
STOCK_LEVELS = """
query StockLevels($sku: String!) {
  stockLevels(sku: $sku) {
    sku location { code kind } onHand reserved available inTransit pendingInspection inRepair
  }
}"""

# A location by code: (kind, latitude, longitude).
Places = Mapping[str, tuple[str, float, float]]


async def seed(
    client: GraphQLClient,
    places: Places,
    skus: Iterable[str],
    stock: Mapping[tuple[str, str], int],
) -> None:
    """The locations, the SKUs (800 cents, 200 g each) and units of stock per (SKU, location)."""
    for code, (kind, latitude, longitude) in places.items():
        location: LocationInput = {
            "code": code,
            "name": code,
            "kind": kind,
            "latitude": latitude,
            "longitude": longitude,
        }
        await client.data(UPSERT_LOCATION, {"input": location})
    for code in skus:
        sku: SkuInput = {"code": code, "title": code, "unitCostCents": 800, "weightGrams": 200}
        await client.data(UPSERT_SKU, {"input": sku})
    for (code, at), units in stock.items():
        adjustment: StockAdjustmentInput = {
            "sku": code,
            "locationCode": at,
            "delta": units,
            "reason": "count",
        }
        await client.data(ADJUST_STOCK, {"input": adjustment})


async def levels(client: GraphQLClient, sku: str) -> dict[str, dict[str, Any]]:
    """The SKU's levels by location code."""
    found = (await client.data(STOCK_LEVELS, {"sku": sku}))["stockLevels"]
    return {level["location"]["code"]: level for level in found}
