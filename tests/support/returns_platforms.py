"""Loop, Happy Returns and Narvar for tests: one small real HTTP server per platform that takes
the API calls its documentation publishes (or, where it publishes none, the convention in the
fixtures' READMEs), checks the API credential, refunds each return at most once, and can be
down (500) for a while. Also signs webhook bodies as each platform does."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FIXTURES = Path(__file__).parent.parent / "fixtures"
SECRET = "platform-webhook-secret"
TOKEN = "platform-api-token"


def fixture(platform: str, name: str) -> bytes:
    """A published payload kept under tests/fixtures/<platform>/, re-serialised compactly (Loop
    signs the body with newlines removed)."""
    return json.dumps(json.loads((FIXTURES / platform / name).read_text())).encode()


def _digest(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


# platform: (webhook path, signature header, signed as, topic header, auth header value)
PLATFORMS: dict[str, dict[str, Any]] = {
    "LOOP": {
        "path": "/webhooks/loop",
        "header": "X-Loop-Signature",
        "sign": lambda s, b: base64.b64encode(_digest(s, b)).decode(),
        "auth": ("x-authorization", TOKEN),
        "refund": re.compile(r"^/warehouse/return/([^/]+)/process$"),
    },
    "HAPPY_RETURNS": {
        "path": "/webhooks/happy-returns",
        "header": "X-Hr-Signature",
        "sign": lambda s, b: _digest(s, b).hex(),
        "auth": ("authorization", f"Bearer {TOKEN}"),
        "refund": re.compile(r"^/returns/([^/]+)/refund$"),
    },
    "NARVAR": {
        "path": "/webhooks/narvar",
        "header": "X-Narvar-Hmac-Sha256",
        "sign": lambda s, b: base64.b64encode(_digest(s, b)).decode(),
        "auth": ("authorization", "Basic " + base64.b64encode(TOKEN.encode()).decode()),
        "refund": re.compile(r"^/rma/refund_approval$"),
    },
}


def signed_headers(platform: str, body: bytes, secret: str = SECRET) -> dict[str, str]:
    spec = PLATFORMS[platform]
    headers = {"Content-Type": "application/json", spec["header"]: spec["sign"](secret, body)}
    if platform == "NARVAR":
        headers["X-Narvar-Topic"] = "initiated"
    return headers


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any]
    status: int


@dataclass
class FakeReturnsPlatform:
    platform: str
    port: int
    # Answers 500 to every call until this monotonic time (an outage).
    down_until: float = 0.0
    calls: list[Call] = field(default_factory=list)
    # Platform return ids in the order they were refunded (once each).
    refunded: list[str] = field(default_factory=list)
    server: uvicorn.Server | None = None
    serving: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def down_for(self, seconds: float) -> None:
        self.down_until = time.monotonic() + seconds

    def down(self) -> None:
        """Answers 500 to everything until `up()`: an outage the test ends, not the clock."""
        self.down_for(float("inf"))

    def up(self) -> None:
        self.down_until = 0.0

    def taken(self, path_part: str = "") -> list[Call]:
        """The calls answered 2xx whose path holds `path_part`."""
        return [c for c in self.calls if 200 <= c.status < 300 and path_part in c.path]

    async def api(self, request: Request) -> Response:
        raw = await request.body()
        body = json.loads(raw) if raw else {}
        path = "/" + request.path_params["path"]
        call = Call(request.method, path, body, self._decide(request, path, body))
        self.calls.append(call)
        return JSONResponse({"ok": call.status < 300}, status_code=call.status)

    def _decide(self, request: Request, path: str, body: dict[str, Any]) -> int:
        spec = PLATFORMS[self.platform]
        name, value = spec["auth"]
        if not hmac.compare_digest(request.headers.get(name, ""), value):
            return 401
        if time.monotonic() < self.down_until:
            return 500
        refund = spec["refund"].match(path)
        if refund:
            return_id = refund.group(1) if refund.groups() and refund.group(1) else ""
            return_id = return_id or str(body.get("rma_number", ""))
            if return_id not in self.refunded:  # processing a processed return changes nothing
                self.refunded.append(return_id)
        return 200

    async def start(self) -> None:
        app = Starlette(routes=[Route("/{path:path}", self.api, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.serving = asyncio.create_task(self.server.serve())
        while not self.server.started:
            assert not self.serving.done(), "the fake platform did not start"
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        assert self.server is not None and self.serving is not None
        self.server.should_exit = True
        await self.serving
