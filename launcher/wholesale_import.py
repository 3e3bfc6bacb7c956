"""`oms import orders FILE --channel CODE`: sends a wholesale CSV file to the gateway's
`importWholesaleOrders` with the back-office token in $OMS_TOKEN, and says what it did."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import httpx

from services.kernel.bounds import MAX_CSV_BYTES

IMPORT = """
mutation Import($channel: String!, $csv: String!) {
  importWholesaleOrders(channel: $channel, csv: $csv) {
    imported { received alreadyImported orders { externalId status orderId problemCode problem } }
    userErrors { field message code }
  }
}"""
# Recording is quick (placing happens after the answer); the margin is for a large file.
SECONDS = 60.0


def run(path: Path, channel: str, gateway_url: str, env: Mapping[str, str]) -> int:
    token = env.get("OMS_TOKEN", "")
    if not token:
        return _fail("set OMS_TOKEN to a back-office token (oms token --role backoffice)")
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            return _fail(f"{path} is larger than 1 MiB: split it")
        csv = path.read_text(encoding="utf-8-sig")  # a spreadsheet's BOM is no column name
    except (OSError, UnicodeDecodeError) as error:
        return _fail(f"cannot read {path}: {error}")
    try:
        response = httpx.post(
            f"{gateway_url.rstrip('/')}/graphql",
            json={"query": IMPORT, "variables": {"channel": channel, "csv": csv}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=SECONDS,
        )
    except httpx.HTTPError as error:
        return _fail(f"the gateway at {gateway_url} did not answer: {error}")
    if response.status_code != 200:
        return _fail(f"the gateway answered {response.status_code}: {response.text[:500]}")
    body = response.json()
    payload = (body.get("data") or {}).get("importWholesaleOrders")
    if payload is None:
        return _fail(f"the gateway refused: {body.get('errors')}")
    if payload["userErrors"]:
        for refusal in payload["userErrors"]:
            print(f"oms import: {refusal['message']} ({refusal['code']})", file=sys.stderr)
        print("oms import: nothing of the file was imported", file=sys.stderr)
        return 1
    imported = payload["imported"]
    print(
        f"{imported['received']} new orders, {imported['alreadyImported']} imported before "
        "(left as they were); new orders are placed in the background"
    )
    for order in imported["orders"]:
        problem = f" {order['problemCode']}: {order['problem']}" if order["problemCode"] else ""
        print(f"{order['externalId']}\t{order['status']}{problem}")
    return 0


def _fail(message: str) -> int:
    print(f"oms import: error: {message}", file=sys.stderr)
    return 2
