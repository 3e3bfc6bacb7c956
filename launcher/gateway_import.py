"""What every `oms import` does before and after its own mutation: read a CSV file within the
bound, send it to the gateway with the back-office token in $OMS_TOKEN, and hand back the
mutation's payload, or say why not (exit status 2, or 1 when the gateway refused the file)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from services.kernel.bounds import MAX_CSV_BYTES

# Recording is quick; the margin is for a large file.
SECONDS = 60.0


def send_csv(
    path: Path,
    mutation: str,
    field: str,
    variables: Mapping[str, object],
    gateway_url: str,
    env: Mapping[str, str],
) -> dict[str, Any] | int:
    """The payload of `mutation` (its root field `field`) sent with the file's text as `csv`
    besides `variables`; an exit status when it could not be sent or was refused."""
    token = env.get("OMS_TOKEN", "")
    if not token:
        return fail("set OMS_TOKEN to a back-office token (oms token --role backoffice)")
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            return fail(f"{path} is larger than 1 MiB: split it")
        csv = path.read_text(encoding="utf-8-sig")  # a spreadsheet's BOM is no column name
    except (OSError, UnicodeDecodeError) as error:
        return fail(f"cannot read {path}: {error}")
    try:
        response = httpx.post(
            f"{gateway_url.rstrip('/')}/graphql",
            json={"query": mutation, "variables": {**variables, "csv": csv}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=SECONDS,
        )
    except httpx.HTTPError as error:
        return fail(f"the gateway at {gateway_url} did not answer: {error}")
    if response.status_code != 200:
        return fail(f"the gateway answered {response.status_code}: {response.text[:500]}")
    body = response.json()
    payload: dict[str, Any] | None = (body.get("data") or {}).get(field)
    if payload is None:
        return fail(f"the gateway refused: {body.get('errors')}")
    if payload["userErrors"]:
        for refusal in payload["userErrors"]:
            print(f"oms import: {refusal['message']} ({refusal['code']})", file=sys.stderr)
        print("oms import: nothing of the file was imported", file=sys.stderr)
        return 1
    return payload


def fail(message: str) -> int:
    print(f"oms import: error: {message}", file=sys.stderr)
    return 2
