"""`python -m bench.spike`: a holiday season's returns spike through the real system, three ways.

Starts `oms up` on a fresh data dir (as `python -m bench` does), seeds a generated network — a
distribution centre about 250 km out, several return hubs and stores in one region — and
replays a season of returns on a simulated clock: the day is a counter this process advances.
Each day it requests that day's returns through the gateway (`requestReturn`, which routes
them), scans the parcels that arrive that day at their destination (`receiveReturn`), and lets
each location inspect up to what it really can in a day (`inspectReturn`, which refunds).
Three policies, each on its own locations in the same system:

1. central: everything goes to the DC, where one clerk inspects;
2. nearest hub: hubs accept returns but declare no capacity (today's routing);
3. capacity-aware: the same hubs declare their daily inspection capacity.

It prints and writes a Markdown table and a PNG chart (matplotlib) of each policy's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.spike_model import (
    DC_TRANSIT_DAYS,
    HUB_TRANSIT_DAYS,
    DayFigures,
    Network,
    Parcel,
    PolicyFigures,
    Site,
    customer_spot,
    daily_volumes,
    due_for_inspection,
    figures,
    generate_network,
    markdown_table,
)
from bench.system import running_oms
from services.kernel.caller import Role
from tests.support.graphql import Answer, GraphQLClient

SKU = "SPIKE-TEE"
GRAMS = 300
# Sent at once within one day's step; requests go a few at a time so that capacity-aware
# routing sees an up-to-date backlog (two at once may both see a hub one under its capacity).
REQUEST_CONCURRENCY = 3
SCAN_CONCURRENCY = 8
# After the season, days with no new returns until every parcel is inspected, at most this many.
MAX_TAIL_DAYS = 120
POLICIES = ("central", "nearest hub", "capacity-aware")

UPSERT_LOCATION = """
mutation($input: LocationInput!) {
  upsertLocation(input: $input) { userErrors { code message } }
}"""
UPSERT_SKU = """
mutation($input: SkuInput!) { upsertSku(input: $input) { userErrors { code message } } }"""
ADJUST = """
mutation($input: StockAdjustmentInput!) { adjustStock(input: $input) { userErrors { code } } }"""
PLACE = """
mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { id shipments { id } } userErrors { code message } }
}"""
SHIP = """
mutation($id: ID!) { shipShipment(id: $id) { userErrors { code message } } }"""
REQUEST = """
mutation($input: RequestReturnInput!) {
  requestReturn(input: $input) {
    return { id estimatedCostCents destination { code } }
    userErrors { code field message }
  }
}"""
RECEIVE = """
mutation($id: ID!, $at: String!) {
  receiveReturn(id: $id, locationCode: $at) { userErrors { code field message } }
}"""
INSPECT = """
mutation($input: InspectReturnInput!) {
  inspectReturn(input: $input) { return { refund { status } } userErrors { code message } }
}"""


@dataclass(frozen=True)
class Plan:
    """The season as the simulation replays it for every policy alike."""

    volumes: list[int]
    # Per day, per return: where the customer is, and whether the unit comes back sellable.
    returns: list[list[tuple[tuple[float, float], bool]]]


def make_plan(rng: random.Random, network: Network, args: argparse.Namespace) -> Plan:
    volumes = daily_volumes(args.baseline, args.days, args.peak_start)
    returns = [
        [
            (customer_spot(rng, network, args.downtown_share), rng.random() < args.restock_share)
            for _ in range(volume)
        ]
        for volume in volumes
    ]
    return Plan(volumes, returns)


class Simulation:
    """One policy's run through the gateway: its own location codes, its own order."""

    def __init__(self, client: GraphQLClient, policy: int, network: Network, plan: Plan) -> None:
        self.client = client
        self.prefix = f"P{policy + 1}-"
        self.name = POLICIES[policy]
        self.policy = policy
        self.network = network
        self.plan = plan
        self.admin = client.token(Role.ADMIN, subject="spike-admin")
        self.parcels: list[Parcel] = []
        self.days: list[DayFigures] = []
        self.order_id = ""

    def code(self, site: Site) -> str:
        return self.prefix + site.code

    async def _ok(self, document: str, token: str | None = None, **variables: Any) -> Answer:
        answer = await self.client.call(token or self.admin, document, **variables)
        if not answer.ok:
            raise RuntimeError(f"{self.name}: {answer.errors or answer.user_errors}")
        return answer

    def _location(self, site: Site, active: bool) -> dict[str, Any]:
        """The site as this policy declares it; only the running policy's sites take returns,
        so that no policy's returns reach another's locations."""
        accepts = site.kind == "DISTRIBUTION_CENTER" or (
            site.kind == "RETURN_HUB" and self.policy > 0
        )
        location: dict[str, Any] = {
            "code": self.code(site),
            "name": self.code(site),
            "kind": site.kind,
            "latitude": site.latitude,
            "longitude": site.longitude,
            "acceptsReturns": active and accepts,
        }
        if self.policy == 2 and site.inspections_per_day:
            location["dailyInspectionCapacity"] = site.inspections_per_day
        return location

    async def activate(self, active: bool) -> None:
        for site in self.network.sites:
            await self._ok(UPSERT_LOCATION, input=self._location(site, active))

    async def seed(self) -> None:
        """Its locations (the capacity-aware policy declares capacities; none takes returns
        yet), stock at its DC and one order of every unit the season returns, shipped."""
        await self.activate(False)
        units = sum(self.plan.volumes)
        dc = self.code(self.network.dc)
        change = {"sku": SKU, "locationCode": dc, "delta": units, "reason": "spike"}
        await self._ok(ADJUST, input=change)
        order = {
            "channel": "web",
            "externalId": f"spike-{self.prefix}{time.time_ns()}",
            "email": "spike@example.com",
            "shipTo": {"latitude": self.network.centre[0], "longitude": self.network.centre[1]},
            "lines": [{"sku": SKU, "quantity": units, "unitPriceCents": 2500}],
        }
        placed = (await self._ok(PLACE, input=order)).data or {}
        self.order_id = placed["placeOrder"]["order"]["id"]
        for shipment in placed["placeOrder"]["order"]["shipments"]:
            await self._ok(SHIP, id=shipment["id"])

    async def day(self, day: int) -> None:
        """Requests the day's returns, scans what arrives, inspects up to each capacity."""
        todays = self.plan.returns[day] if day < len(self.plan.returns) else []
        await _gather(
            [self._request(day, spot, sellable) for spot, sellable in todays], REQUEST_CONCURRENCY
        )
        arriving = [p for p in self.parcels if p.arrival_day == day and not p.received]
        await _gather([self._receive(p) for p in arriving], SCAN_CONCURRENCY)
        work = [
            parcel
            for site in self.network.sites
            if site.inspections_per_day
            for parcel in due_for_inspection(
                self.parcels, self.code(site), site.inspections_per_day
            )
        ]
        await _gather([self._inspect(p, day) for p in work], SCAN_CONCURRENCY)
        waiting = sum(1 for p in self.parcels if p.received and p.inspected_day is None)
        self.days.append(DayFigures(day, len(todays), waiting))

    async def _request(self, day: int, spot: tuple[float, float], sellable: bool) -> None:
        request = {
            "orderId": self.order_id,
            "lines": [{"sku": SKU, "quantity": 1, "reason": "SIZE_TOO_SMALL"}],
            "customerAddress": {"latitude": spot[0], "longitude": spot[1], "country": "DE"},
        }
        found = ((await self._ok(REQUEST, input=request)).data or {})["requestReturn"]["return"]
        destination = found["destination"]["code"]
        hub = destination != self.code(self.network.dc)
        self.parcels.append(
            Parcel(
                return_id=found["id"],
                destination=destination,
                requested_day=day,
                arrival_day=day + (HUB_TRANSIT_DAYS if hub else DC_TRANSIT_DAYS),
                cost_cents=found["estimatedCostCents"],
                restockable=sellable,
            )
        )

    def _scanner(self, location: str) -> str:
        return self.client.token(Role.SCANNER, location=location, subject=f"scanner-{location}")

    async def _receive(self, parcel: Parcel) -> None:
        token = self._scanner(parcel.destination)
        await self._ok(RECEIVE, token, id=parcel.return_id, at=parcel.destination)
        parcel.received = True

    async def _inspect(self, parcel: Parcel, day: int) -> None:
        grade = "NEW" if parcel.restockable else "DAMAGED"
        inspection = {
            "returnId": parcel.return_id,
            "lines": [{"sku": SKU, "grade": grade}],
            "measuredWeightGrams": GRAMS,
        }
        await self._ok(INSPECT, self._scanner(parcel.destination), input=inspection)
        parcel.inspected_day = day

    async def run(self) -> PolicyFigures:
        await self.activate(True)
        day = 0
        while day < len(self.plan.volumes) or (
            any(p.inspected_day is None for p in self.parcels)
            and day < len(self.plan.volumes) + MAX_TAIL_DAYS
        ):
            await self.day(day)
            day += 1
        await self.activate(False)
        return figures(self.name, self.parcels, self.days)


async def _gather(calls: Sequence[Any], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(call: Any) -> None:
        async with gate:
            await call

    await asyncio.gather(*(one(c) for c in calls))


async def simulate(base_url: str, key: bytes, args: argparse.Namespace) -> list[PolicyFigures]:
    rng = random.Random(args.seed)
    network = generate_network(rng, args.hubs, args.stores, args.hub_capacity, args.clerk_capacity)
    plan = make_plan(rng, network, args)
    async with GraphQLClient(base_url, key, connections=SCAN_CONCURRENCY + 4) as client:
        admin = client.token(Role.ADMIN, subject="spike-admin")
        sku = {"code": SKU, "title": "Spike tee", "unitCostCents": 800, "weightGrams": GRAMS}
        await client.call(admin, UPSERT_SKU, input=sku)
        simulations = [Simulation(client, n, network, plan) for n in range(len(POLICIES))]
        # Every policy's order ships before any return is restocked, so each ships from its DC.
        for simulation in simulations:
            await simulation.seed()
        results = []
        for simulation in simulations:
            started = time.perf_counter()
            results.append(await simulation.run())
            print(
                f"spike: {simulation.name}: {len(simulation.days)} days in "
                f"{time.perf_counter() - started:.0f}s",
                flush=True,
            )
    return results


def draw(results: Sequence[PolicyFigures], volumes: Sequence[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
    top.bar(range(len(volumes)), volumes, color="#999999")
    top.set_ylabel("returns requested")
    top.set_title("Returns spike: backlog waiting for inspection, by policy")
    for result in results:
        bottom.plot(range(len(result.waiting_by_day)), result.waiting_by_day, label=result.policy)
    bottom.set_xlabel("simulated day")
    bottom.set_ylabel("received, not inspected (end of day)")
    bottom.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.spike", description=__doc__)
    parser.add_argument("--baseline", type=int, default=6, help="returns a normal day")
    parser.add_argument("--days", type=int, default=42, help="days of the season")
    parser.add_argument("--peak-start", type=int, default=7, help="first day of the 2-week peak")
    parser.add_argument("--hubs", type=int, default=5)
    parser.add_argument("--stores", type=int, default=3)
    parser.add_argument("--hub-capacity", type=int, default=6, help="inspections a hub a day")
    parser.add_argument("--clerk-capacity", type=int, default=10, help="the DC's, one clerk")
    parser.add_argument("--downtown-share", type=float, default=0.5)
    parser.add_argument("--restock-share", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=Path("docs"), help="table and chart go here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="oms-spike-"))
    started = time.perf_counter()
    print(f"spike: starting oms up on {data_dir}", flush=True)
    with running_oms(data_dir) as oms:
        key = oms.client(1).signing_key
        assert key is not None
        results = asyncio.run(simulate(oms.base_url, key, args))
    table = markdown_table(results)
    volumes = daily_volumes(args.baseline, args.days, args.peak_start)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "spike.md").write_text(
        f"Scale: {sum(volumes)} returns over {args.days} days, {args.baseline} a normal day, "
        f"{max(volumes)} on the peak's highest day; {args.hubs} hubs inspecting "
        f"{args.hub_capacity} a day each, a DC clerk {args.clerk_capacity} a day.\n\n{table}"
    )
    draw(results, volumes, args.out / "spike.png")
    print(table)
    print(f"spike: wrote {args.out / 'spike.md'} and {args.out / 'spike.png'}")
    print(f"spike: total {time.perf_counter() - started:.0f}s")
    shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
