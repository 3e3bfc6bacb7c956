"""What an operator watches, under `oms up` as a user runs it: every process answers Prometheus
on the port `oms up` prints, with figures that move as an order is placed and a return is
received and inspected; and with `OTEL_TRACES_EXPORTER=console`, one trace id runs from the
gateway's GraphQL operation through orders and inventory to the consumer of a published event,
in the parts' own logs."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from launcher.ports import free_port
from services.kernel.settings import SERVICE_NAMES
from tests.e2e.test_launcher import RunningOms
from tests.e2e.test_returns_loop import System, seeded
from tests.support.graphql import GraphQLClient

pytestmark = pytest.mark.timeout(600)

METRICS_LINE = re.compile(r"^\s+(\S+)\s+(http://\S+/metrics)$")
PARTS = (*SERVICE_NAMES, "gateway")
# Gauges read from a database are cached for 5 s: a figure is waited for a little longer.
SETTLE_SECONDS = 20.0
PLACE_ORDER = "/oms.orders.v1.OrdersService/PlaceOrder"

# Every service's own figures, and those of the kernel each one runs.
KERNEL = {
    "oms_grpc_server_requests",
    "oms_grpc_server_duration_seconds",
    "oms_outbox_depth",
    "oms_outbox_oldest_age_seconds",
    "oms_relay_published",
    "oms_event_redeliveries",
    "oms_dead_lettered",
    "oms_dead_letters",
    "oms_reservation_conflicts",
}
OWN = {
    "gateway": {"oms_graphql_requests", "oms_graphql_duration_seconds"},
    "orders": {"oms_orders_pending", "oms_orders_pending_oldest_age_seconds"},
    "inventory": {"oms_inventory_value_cents", "oms_consumer_pending"},
    "returns": {"oms_returns_awaiting_inspection", "oms_consumer_pending"},
    "workorders": {"oms_work_orders_open", "oms_consumer_pending"},
    "procurement": {"oms_consumer_pending"},
    "channels": {
        "oms_channel_pending_pushes",
        "oms_channel_last_push_age_seconds",
        "oms_channel_failed_fulfillments",
    },
}


@dataclass(frozen=True)
class Scrape:
    """One scrape of one process: its metric families, and each sample's value."""

    families: set[str]
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples of `name` whose labels include `labels` (0 when none)."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and wanted <= ls)


@dataclass
class Observed:
    system: System
    running: RunningOms
    metrics: dict[str, str]
    logs: Path

    async def scrape(self, part: str) -> Scrape:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(self.metrics[part])
        assert answer.status_code == 200, answer.text
        families, samples = set(), {}
        for family in text_string_to_metric_families(answer.text):
            families.add(family.name)
            for sample in family.samples:
                samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
        return Scrape(families, samples)

    async def wait_for(self, part: str, what: str, holds: Callable[[Scrape], bool]) -> Scrape:
        deadline = time.monotonic() + SETTLE_SECONDS
        while not holds(scrape := await self.scrape(part)):
            assert time.monotonic() < deadline, f"{part}: timed out waiting for {what}"
            await asyncio.sleep(0.5)
        return scrape

    def spans(self, part: str) -> list[dict[str, Any]]:
        """The spans the console exporter wrote into the part's log, one JSON object a line."""
        lines = (self.logs / f"{part}.log").read_text().splitlines()
        found = (json.loads(line) for line in lines if line.startswith('{"name"'))
        return [span for span in found if "context" in span]


@pytest.fixture(scope="module")
async def observed(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Observed]:
    data_dir = tmp_path_factory.mktemp("observability") / "data"
    running = RunningOms(data_dir, free_port(), {"OTEL_TRACES_EXPORTER": "console"})
    try:
        running.wait_ready()
        metrics = {m[1]: m[2] for line in running.lines if (m := METRICS_LINE.match(line))}
        async with GraphQLClient(running.base_url, timeout=30) as graphql:
            system = await seeded(graphql, data_dir)
            yield Observed(system, running, metrics, data_dir / "logs")
        assert running.terminate() == 0, running.output
    finally:
        running.kill_all()


async def test_every_process_is_scraped_and_its_figures_move_with_an_order_and_a_return(
    observed: Observed,
) -> None:
    assert set(observed.metrics) == set(PARTS), observed.running.output
    for part in PARTS:
        scrape = await observed.scrape(part)
        expected = OWN[part] | (KERNEL if part != "gateway" else set())
        assert expected <= scrape.families, (part, expected - scrape.families)
    value_before = (await observed.scrape("inventory")).value("oms_inventory_value_cents")

    order = await observed.system.place("w-1")
    gateway = await observed.scrape("gateway")
    assert gateway.value("oms_graphql_requests_total", operation="PlaceOrder", outcome="ok") == 1
    assert gateway.value("oms_graphql_duration_seconds_count", operation="PlaceOrder") == 1
    orders = await observed.wait_for(
        "orders", "an order pending", lambda s: s.value("oms_orders_pending") == 1
    )
    assert orders.value("oms_grpc_server_requests_total", method=PLACE_ORDER, code="OK") == 1
    assert orders.value("oms_relay_published_total", service="orders") >= 1
    inventory = await observed.scrape("inventory")
    assert inventory.value("oms_grpc_server_requests_total", code="OK") >= 2
    assert inventory.value("oms_inventory_value_cents", state="reserved") == 800
    assert inventory.value("oms_inventory_value_cents") > value_before

    for shipment in order["shipments"]:
        await observed.system.backoffice.ok("ShipShipment", id=shipment["id"], trackingNumber="T")
    await observed.wait_for("orders", "none pending", lambda s: s.value("oms_orders_pending") == 0)
    received = await observed.system.received(order["id"])
    returns = await observed.wait_for(
        "returns",
        "a return awaiting inspection at the hub",
        lambda s: s.value("oms_returns_awaiting_inspection", hub="HUB-BER") == 1,
    )
    assert returns.value("oms_returns_awaiting_inspection_oldest_age_seconds", hub="HUB-BER") > 0

    await observed.system.inspect(received["id"], "GOOD", grams=195)
    await observed.wait_for(
        "returns",
        "the hub's queue empty",
        lambda s: s.value("oms_returns_awaiting_inspection", hub="HUB-BER") == 0,
    )
    await observed.wait_for(
        "workorders",
        "a work order open for the unit to repair",
        lambda s: s.value("oms_work_orders_open", location="HUB-BER") == 1,
    )
    await observed.wait_for(
        "inventory",
        "the unit's value in repair",
        lambda s: s.value("oms_inventory_value_cents", state="in_repair") == 800,
    )
    # Every outbox drained: what the services recorded reached the broker.
    for part in SERVICE_NAMES:
        await observed.wait_for(
            part, "its outbox empty", lambda s: s.value("oms_outbox_depth") == 0
        )


async def test_one_trace_spans_the_gateway_the_services_and_a_consumer(observed: Observed) -> None:
    await observed.system.place("w-traced")
    (root,) = [
        span
        for span in observed.spans("gateway")
        if span["name"] == "graphql mutation PlaceOrder"
        and span["attributes"].get("graphql.operation.name") == "PlaceOrder"
        and span["parent_id"] is None
    ][-1:]
    trace_id = root["context"]["trace_id"]

    def in_trace(part: str) -> list[str]:
        return [s["name"] for s in observed.spans(part) if s["context"]["trace_id"] == trace_id]

    assert PLACE_ORDER.lstrip("/") in [n.lstrip("/") for n in in_trace("orders")], in_trace(
        "orders"
    )
    assert any("InventoryService" in name for name in in_trace("inventory"))

    async def eventually_in_trace(parts: tuple[str, ...], prefix: str, what: str) -> None:
        # The relay publishes after the answer, and spans reach the log in batches.
        deadline = time.monotonic() + SETTLE_SECONDS
        while not any(name.startswith(prefix) for part in parts for name in in_trace(part)):
            assert time.monotonic() < deadline, f"no {what} span in the order's trace"
            await asyncio.sleep(0.5)

    # The order's events cross NATS: published by orders' relay, consumed by other services.
    await eventually_in_trace(("orders",), "publish oms.orders.", "publish")
    await eventually_in_trace(SERVICE_NAMES, "consume ", "consumer")
