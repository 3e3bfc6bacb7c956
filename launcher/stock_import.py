"""`oms import stock FILE` and `oms import skus FILE`: send a CSV file to the gateway's
`importStock` or `upsertSkus` with the back-office token in $OMS_TOKEN, all of it or nothing,
and say what it did."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from launcher.gateway_import import send_csv

IMPORT_STOCK = """
mutation ImportStock($csv: String!, $key: String) {
  importStock(input: {csv: $csv, idempotencyKey: $key}) {
    stockImport { rows levelsChanged replayed }
    userErrors { field message code }
  }
}"""
UPSERT_SKUS = """
mutation UpsertSkus($csv: String!) {
  upsertSkus(input: {csv: $csv}) {
    skuImport { created updated }
    userErrors { field message code }
  }
}"""


def run_stock(path: Path, key: str | None, gateway_url: str, env: Mapping[str, str]) -> int:
    payload = send_csv(path, IMPORT_STOCK, "importStock", {"key": key}, gateway_url, env)
    if isinstance(payload, int):
        return payload
    done = payload["stockImport"]
    again = " (imported before under this key: nothing changed now)" if done["replayed"] else ""
    print(f"{done['rows']} rows imported, {done['levelsChanged']} stock levels changed{again}")
    return 0


def run_skus(path: Path, gateway_url: str, env: Mapping[str, str]) -> int:
    payload = send_csv(path, UPSERT_SKUS, "upsertSkus", {}, gateway_url, env)
    if isinstance(payload, int):
        return payload
    done = payload["skuImport"]
    print(f"{done['created']} SKUs created, {done['updated']} updated")
    return 0
