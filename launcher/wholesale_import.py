"""`oms import orders FILE --channel CODE`: sends a wholesale CSV file to the gateway's
`importWholesaleOrders` with the back-office token in $OMS_TOKEN, and says what it did."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from launcher.gateway_import import send_csv

IMPORT = """
mutation Import($channel: String!, $csv: String!) {
  importWholesaleOrders(channel: $channel, csv: $csv) {
    imported { received alreadyImported orders { externalId status orderId problemCode problem } }
    userErrors { field message code }
  }
}"""


def run(path: Path, channel: str, gateway_url: str, env: Mapping[str, str]) -> int:
    payload = send_csv(
        path, IMPORT, "importWholesaleOrders", {"channel": channel}, gateway_url, env
    )
    if isinstance(payload, int):
        return payload
    imported = payload["imported"]
    print(
        f"{imported['received']} new orders, {imported['alreadyImported']} imported before "
        "(left as they were); new orders are placed in the background"
    )
    for order in imported["orders"]:
        problem = f" {order['problemCode']}: {order['problem']}" if order["problemCode"] else ""
        print(f"{order['externalId']}\t{order['status']}{problem}")
    return 0
