"""The platforms' deliveries, passed on raw to the service that verifies and records them:
`POST /webhooks/shopify` and `/webhooks/shipbob` to the channels service; `/webhooks/loop`,
`/webhooks/happy-returns` and `/webhooks/narvar` to the returns service. The body is read up to
a bound (the platforms' payloads are far smaller) and the answer is only a status: 200 taken (or
seen before), 401 not verified, 400 not a delivery we take, 413 too large, 503 when the service
cannot answer (every platform retries)."""

from __future__ import annotations

from collections.abc import Awaitable

import grpc
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from oms.channels.v1 import channels_pb2 as pb
from oms.channels.v1.channels_pb2_grpc import ChannelsServiceStub
from oms.returns.v1 import returns_pb2 as returns_pb
from oms.returns.v1.returns_pb2_grpc import ReturnsServiceStub

MAX_BODY_BYTES = 512 * 1024
MAX_HEADER_CHARS = 255
CALL_SECONDS = 15.0

_STATUS_FOR_RPC = {
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.NOT_FOUND: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
}


async def shopify_webhook(request: Request) -> PlainTextResponse:
    body = await _bounded_body(request)
    if body is None:
        return PlainTextResponse("payload too large", status_code=413)
    headers = {
        name: request.headers.get(f"x-shopify-{name}", "")[:MAX_HEADER_CHARS]
        for name in ("topic", "shop-domain", "webhook-id", "hmac-sha256", "triggered-at")
    }
    delivery = pb.ShopifyWebhookRequest(
        topic=headers["topic"],
        shop_domain=headers["shop-domain"],
        webhook_id=headers["webhook-id"],
        hmac_sha256=headers["hmac-sha256"],
        triggered_at=headers["triggered-at"],
        body=body,
    )
    channels = request.state.backends.services[ChannelsServiceStub]
    return await _passed_on(channels.ReceiveShopifyWebhook(delivery, timeout=CALL_SECONDS))


async def shipbob_webhook(request: Request) -> PlainTextResponse:
    """ShipBob's Standard Webhooks headers (webhook-id, -timestamp, -signature) and its topic."""
    body = await _bounded_body(request)
    if body is None:
        return PlainTextResponse("payload too large", status_code=413)
    headers = {
        name: request.headers.get(name, "")[:MAX_HEADER_CHARS]
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature", "x-webhook-topic")
    }
    delivery = pb.ShipBobWebhookRequest(
        webhook_id=headers["webhook-id"],
        webhook_timestamp=headers["webhook-timestamp"],
        webhook_signature=headers["webhook-signature"],
        topic=headers["x-webhook-topic"] or request.headers.get("shipbob-topic", "")[:64],
        body=body,
    )
    channels = request.state.backends.services[ChannelsServiceStub]
    return await _passed_on(channels.ReceiveShipBobWebhook(delivery, timeout=CALL_SECONDS))


async def _passed_on(call: Awaitable[object]) -> PlainTextResponse:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        status = _STATUS_FOR_RPC.get(error.code(), 503)
        return PlainTextResponse(error.details() if status < 500 else "unavailable", status)
    return PlainTextResponse("ok")


# Each returns platform: its enum value, its signature header and its topic header (if any).
RETURNS_PLATFORMS = {
    "loop": (returns_pb.RETURNS_PLATFORM_LOOP, "x-loop-signature", ""),
    "happy-returns": (returns_pb.RETURNS_PLATFORM_HAPPY_RETURNS, "x-hr-signature", ""),
    "narvar": (returns_pb.RETURNS_PLATFORM_NARVAR, "x-narvar-hmac-sha256", "x-narvar-topic"),
}


async def returns_platform_webhook(request: Request) -> PlainTextResponse:
    """200 taken (created, seen before, noted, or parked for an operator), 401 not verified
    (nothing changed), 400 not a payload we read, 413 too large, 503 when the returns service
    cannot answer (the platform retries)."""
    known = RETURNS_PLATFORMS.get(request.path_params["platform"])
    if known is None:
        return PlainTextResponse("no such webhook", status_code=404)
    platform, signature_header, topic_header = known
    body = await _bounded_body(request)
    if body is None:
        return PlainTextResponse("payload too large", status_code=413)
    delivery = returns_pb.PlatformWebhookRequest(
        platform=platform,
        signature=request.headers.get(signature_header, "")[:MAX_HEADER_CHARS],
        topic=request.headers.get(topic_header, "")[:MAX_HEADER_CHARS] if topic_header else "",
        body=body,
    )
    returns = request.state.backends.services[ReturnsServiceStub]
    try:
        reply = await returns.ReceivePlatformWebhook(delivery, timeout=CALL_SECONDS)
    except grpc.aio.AioRpcError as error:
        status = _STATUS_FOR_RPC.get(error.code(), 503)
        return PlainTextResponse(error.details() if status < 500 else "unavailable", status)
    return PlainTextResponse(f"{reply.outcome} {reply.return_id or reply.problem}".strip())


async def _bounded_body(request: Request) -> bytes | None:
    """The body, or None past MAX_BODY_BYTES (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)
