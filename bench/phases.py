"""The measured phases: seed the network, place orders, ask availability, time inventory events."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.load import run_load
from bench.network import CHANNEL, Network, order_input
from bench.report import PhaseResult
from launcher.nats_access import passwords_path
from services.kernel import events
from services.kernel.events import stream_name
from services.kernel.settings import SERVICE_NAMES
from tests.support.contract import operation
from tests.support.graphql import Answer, GraphQLClient

SEED_CONCURRENCY = 16
EVENT_TIMEOUT_SECONDS = 5.0
SETTLE_LIMIT_SECONDS = 120.0
PROTOCOL = Subprotocol("graphql-transport-ws")


@dataclass
class Bench:
    """What every phase uses: the client, tokens for two roles and the seeded network."""

    client: GraphQLClient
    admin: str
    storefront: str
    network: Network
    run_id: str
    rng: random.Random


async def seed(bench: Bench) -> list[PhaseResult]:
    """Locations, then SKUs, then stock, each with concurrent requests."""
    network, client, token = bench.network, bench.client, bench.admin
    upsert_location, upsert_sku = operation("UpsertLocation"), operation("UpsertSku")
    adjust = operation("AdjustStock")

    async def stock(i: int) -> Answer:
        sku, location, units = network.stock[i]
        change = {"sku": sku, "locationCode": location, "delta": units, "reason": "bench seed"}
        return await client.call(token, adjust, input=change)

    return [
        await run_load(
            "seed: upsertLocation",
            lambda i: client.call(token, upsert_location, input=network.locations[i]),
            len(network.locations),
            SEED_CONCURRENCY,
        ),
        await run_load(
            "seed: upsertSku",
            lambda i: client.call(token, upsert_sku, input=network.skus[i]),
            len(network.skus),
            SEED_CONCURRENCY,
        ),
        await run_load("seed: adjustStock", stock, len(network.stock), SEED_CONCURRENCY),
    ]


async def settle(nats_url: str, data_dir: Path) -> float:
    """Waits until no stream grows for a second (the outboxes have relayed); returns seconds.

    The broker of `oms up` lets each part see its own stream only, so each is asked as its
    owner, with the passwords in the data dir."""
    started = time.perf_counter()
    passwords = json.loads(passwords_path(data_dir).read_text())
    host = nats_url.removeprefix("nats://")
    connections = {
        name: await events.connect(f"nats://{name}:{passwords[name]}@{host}", f"oms-{name}")
        for name in SERVICE_NAMES
    }
    try:
        previous, quiet_since = -1, time.perf_counter()
        while time.perf_counter() - started < SETTLE_LIMIT_SECONDS:
            total = 0
            for name, connection in connections.items():
                info = await connection.jetstream().stream_info(stream_name(name))
                total += info.state.messages
            if total != previous:
                previous, quiet_since = total, time.perf_counter()
            elif time.perf_counter() - quiet_since >= 1.0:
                break
            await asyncio.sleep(0.2)
    finally:
        for connection in connections.values():
            await connection.close()
    return time.perf_counter() - started


async def place_orders(bench: Bench, count: int, concurrency: int, label: str) -> PhaseResult:
    document = operation("PlaceOrder")
    name = f"placeOrder c={concurrency}" if not label else f"placeOrder {label}"
    orders = [
        order_input(bench.rng, bench.network, f"bench-{bench.run_id}-{name}-{i}".replace(" ", ""))
        for i in range(count)
    ]
    return await run_load(
        name,
        lambda i: bench.client.call(bench.storefront, document, input=orders[i]),
        count,
        concurrency,
    )


async def availability(bench: Bench, count: int, concurrency: int, label: str = "") -> PhaseResult:
    document = operation("Availability")
    codes = [sku["code"] for sku in bench.network.skus]
    asks = [bench.rng.sample(codes, min(5, len(codes))) for _ in range(count)]
    return await run_load(
        f"availability c={concurrency}{label}",
        lambda i: bench.client.call(bench.storefront, document, skus=asks[i], channel=CHANNEL),
        count,
        concurrency,
    )


async def event_delay(bench: Bench, ws_url: str, changes: int) -> list[PhaseResult]:
    """adjustStock on a SKU of its own, one change at a time, each awaited on the subscription.

    Each change raises `available` by one, so a message is matched to its change by that value.
    """
    sku = f"BENCH-EVENTS-{bench.run_id}"
    location = bench.network.locations[0]["code"]
    await bench.client.call(
        bench.admin,
        operation("UpsertSku"),
        input={"code": sku, "title": "Event probe", "unitCostCents": 100, "weightGrams": 100},
    )
    adjust = operation("AdjustStock")
    change = {"sku": sku, "locationCode": location, "delta": 1, "reason": "bench event probe"}
    arrivals: dict[int, asyncio.Future[float]] = {}
    sent, answered = (
        PhaseResult("event: mutation sent → event"),
        PhaseResult("event: response → event"),
    )
    async with connect(ws_url, subprotocols=[PROTOCOL]) as ws:
        await _subscribe(ws, bench.storefront, operation("InventoryChanged"), sku)
        reader = asyncio.create_task(_read_events(ws, arrivals))
        try:
            available, warm = 0, False
            # Warm-up: until the subscription delivers, changes may precede it; not counted.
            for number in range(-20, changes):
                available += 1
                arrival = arrivals[available] = asyncio.get_running_loop().create_future()
                started = time.perf_counter()
                answer = await bench.client.call(bench.admin, adjust, input=change)
                responded = time.perf_counter()
                try:
                    received = await asyncio.wait_for(arrival, EVENT_TIMEOUT_SECONDS)
                except TimeoutError:
                    if warm or number >= 0:
                        sent.errors += 1
                    continue
                if not answer.ok:
                    sent.user_errors += 1
                if not warm:
                    warm = True
                    continue
                sent.latencies.append(received - started)
                answered.latencies.append(received - responded)
                sent.count = answered.count = len(sent.latencies)
                if sent.count >= changes:
                    break
        finally:
            reader.cancel()
    sent.note = "sequential; adjustStock then wait for the message"
    answered.note = "negative when the event beats the HTTP response"
    return [sent, answered]


async def _subscribe(ws: ClientConnection, token: str, document: str, sku: str) -> None:
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await ws.send(json.dumps(init))
    ack = json.loads(await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT_SECONDS))
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"subscription refused: {ack}")
    payload = {"query": document, "variables": {"skus": [sku]}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))


async def _read_events(ws: ClientConnection, arrivals: dict[int, asyncio.Future[float]]) -> None:
    async for raw in ws:
        received = time.perf_counter()
        message = json.loads(raw)
        if message.get("type") == "ping":
            await ws.send(json.dumps({"type": "pong"}))
        elif message.get("type") == "next":
            change = ((message.get("payload") or {}).get("data") or {}).get("inventoryChanged")
            arrival = arrivals.get(change["available"]) if change else None
            if arrival is not None and not arrival.done():
                arrival.set_result(received)
        elif message.get("type") in ("error", "complete"):
            raise RuntimeError(f"subscription ended: {message}")
