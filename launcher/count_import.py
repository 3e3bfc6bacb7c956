"""`oms import counts FILE --location CODE`: sends a location's count (a CSV file with columns
sku and counted) to the gateway's `importStockCount` with the back-office token in $OMS_TOKEN,
and lists the discrepancies it found."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from launcher.gateway_import import send_csv

IMPORT = """
mutation Import($location: String!, $csv: String!, $complete: Boolean!) {
  importStockCount(locationCode: $location, csv: $csv, complete: $complete) {
    reconciliation {
      compared matched closed
      discrepancies { id sku ours theirs difference valueCents holds }
    }
    userErrors { field message code }
  }
}"""


def run(path: Path, location: str, complete: bool, gateway_url: str, env: Mapping[str, str]) -> int:
    variables = {"location": location, "complete": complete}
    payload = send_csv(path, IMPORT, "importStockCount", variables, gateway_url, env)
    if isinstance(payload, int):
        return payload
    done = payload["reconciliation"]
    print(
        f"{done['compared']} SKUs compared, {done['matched']} as we hold them, "
        f"{len(done['discrepancies'])} discrepancies (held back from sale: 'holds')"
    )
    for found in done["discrepancies"]:
        held = "\tholds" if found["holds"] else ""
        print(
            f"{found['id']}\t{found['sku']}\tours {found['ours']}\ttheirs {found['theirs']}"
            f"\t{found['difference']:+d}\t{found['valueCents'] / 100:+.2f}{held}"
        )
    return 0
