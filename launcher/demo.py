"""`oms demo` (and `oms up --demo`): seeds a believable network around Berlin through the
gateway's GraphQL, as a back-office tool and a hub's scanners would, so a newcomer sees a living
system: a distribution centre, a 3PL, four stores and three return hubs, a few hundred SKUs, a
week's orders (the older ones shipped), returns at every stage and a few work orders.

Running it again adds nothing twice: locations and SKUs are upserted by code, a location is
stocked only where it has no stock level yet, orders carry their `externalId`, returns their
`idempotencyKey`, and each later step (shipping, receiving, inspecting, work orders) is taken
only from the state the earlier left.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx

from gateway.auth import TokenPolicy, issue_token, signing_key_from_env
from services.kernel.caller import Role

T = TypeVar("T")
SUBJECT = "oms-demo"
CHANNEL = "web"
# Requests in flight at once: enough to keep every service busy, few enough for a laptop.
CONCURRENCY = 8
# Root fields per document (the gateway allows 30 aliases).
BATCH = 25
SECONDS = 60.0


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    kind: str
    latitude: float
    longitude: float


DC = Place("DC-GRB", "Großbeeren distribution centre", "DISTRIBUTION_CENTER", 52.354, 13.309)
THREE_PL = Place("3PL-LUD", "Ludwigsfelde 3PL", "THIRD_PARTY_WAREHOUSE", 52.297, 13.263)
STORES = (
    Place("STORE-MITTE", "Store Berlin Mitte", "STORE", 52.524, 13.402),
    Place("STORE-KREUZBERG", "Store Kreuzberg", "STORE", 52.499, 13.418),
    Place("STORE-CHARLOTTENBURG", "Store Charlottenburg", "STORE", 52.505, 13.304),
    Place("STORE-POTSDAM", "Store Potsdam", "STORE", 52.395, 13.058),
)
HUBS = (
    Place("HUB-NEUKOELLN", "Return hub Neukölln", "RETURN_HUB", 52.481, 13.435),
    Place("HUB-PANKOW", "Return hub Pankow", "RETURN_HUB", 52.569, 13.402),
    Place("HUB-SPANDAU", "Return hub Spandau", "RETURN_HUB", 52.535, 13.200),
)
LOCATIONS = (DC, THREE_PL, *STORES, *HUBS)

# Where customers live: (district, postal code, latitude, longitude).
DISTRICTS = (
    ("Neukölln", "12043", 52.476, 13.440),
    ("Pankow", "13187", 52.571, 13.410),
    ("Spandau", "13597", 52.537, 13.205),
    ("Prenzlauer Berg", "10405", 52.539, 13.424),
    ("Friedrichshain", "10243", 52.512, 13.454),
    ("Schöneberg", "10827", 52.483, 13.353),
    ("Wedding", "13353", 52.549, 13.359),
    ("Tempelhof", "12099", 52.466, 13.385),
    ("Steglitz", "12163", 52.456, 13.321),
    ("Köpenick", "12555", 52.445, 13.574),
)

STYLES = (  # (code, title, cost in cents, grams, sizes)
    ("TEE", "Organic tee", 650, 180, ("XS", "S", "M", "L", "XL", "XXL")),
    ("HOOD", "Loopback hoodie", 1900, 620, ("XS", "S", "M", "L", "XL", "XXL")),
    ("JEAN", "Straight jeans", 2400, 700, ("28", "30", "32", "34", "36", "38")),
    ("JKT", "Rain jacket", 4200, 850, ("S", "M", "L", "XL")),
    ("CAP", "Six-panel cap", 600, 90, ("ONE",)),
    ("SNKR", "Court sneaker", 3100, 950, ("38", "39", "40", "41", "42", "43", "44", "45")),
    ("SOCK", "Rib socks 3-pack", 350, 120, ("S", "M", "L")),
)
COLOURS = ("BLK", "WHT", "NVY", "OLV", "SND", "RST", "GRY", "SKY")
GADGETS = (  # serialized: refurbished, not restocked, once opened
    ("PHN-12-128", "Phone 12 128 GB", 21000, 410),
    ("PHN-12-256", "Phone 12 256 GB", 24500, 410),
    ("BUD-PRO", "Wireless earbuds", 4800, 120),
    ("WATCH-S", "Sport watch", 9900, 160),
)
KIT = ("KIT-WELCOME", "Welcome kit: tee and cap", 1250, 270)
PRICE_MARKUP = 2.6
DAYS = 7
ORDERS_A_DAY = 9
# Orders of the last days are not shipped yet: the pending work of the operations view.
UNSHIPPED_DAYS = 2


# A SKU as upsertSku takes it (SkuInput).
Sku = dict[str, Any]


def sku(code: str, title: str, cost_cents: int, grams: int, serialized: bool = False) -> Sku:
    return {
        "code": code,
        "title": title,
        "unitCostCents": cost_cents,
        "weightGrams": grams,
        "serialized": serialized,
    }


def catalogue() -> list[Sku]:
    """The demo's SKUs: apparel styles in colours and sizes, a few gadgets and a kit."""
    skus = [
        sku(f"{style}-{colour}-{size}", f"{title}, {colour.lower()}, {size}", cost, grams)
        for style, title, cost, grams, sizes in STYLES
        for colour in COLOURS
        for size in sizes
    ]
    skus += [sku(code, title, cost, grams, serialized=True) for code, title, cost, grams in GADGETS]
    skus.append(sku(*KIT))
    return skus


def stock_plan(skus: Sequence[Sku]) -> list[tuple[str, str, int]]:
    """(sku, location, units): everything at the DC, a third at the 3PL, a few in each store."""
    draw = random.Random(15)
    plan: list[tuple[str, str, int]] = []
    for index, code in enumerate(item["code"] for item in skus):
        if code == KIT[0]:
            continue  # made by the kit work order, never bought
        plan.append((code, DC.code, draw.randint(20, 60)))
        if index % 3 == 0:
            plan.append((code, THREE_PL.code, draw.randint(10, 30)))
        for number, store in enumerate(STORES):
            if (index + number) % 7 == 0:
                plan.append((code, store.code, draw.randint(2, 6)))
    return plan


@dataclass(frozen=True)
class DemoOrder:
    external_id: str
    district: tuple[str, str, float, float]
    lines: tuple[tuple[str, int, int], ...]  # sku, quantity, unit price in cents
    shipped: bool


def orders(skus: Sequence[Sku]) -> list[DemoOrder]:
    """A week of web orders, `ORDERS_A_DAY` a day, one to three lines of apparel each."""
    draw = random.Random(7)
    apparel = [item for item in skus if not item["serialized"] and item["code"] != KIT[0]]
    planned = []
    for day in range(DAYS):
        for number in range(ORDERS_A_DAY):
            picked = draw.sample(apparel, draw.randint(1, 3))
            lines = tuple(
                (
                    item["code"],
                    draw.choice((1, 1, 1, 2)),
                    round(item["unitCostCents"] * PRICE_MARKUP),
                )
                for item in picked
            )
            planned.append(
                DemoOrder(
                    f"DEMO-{day + 1}-{number + 1:02d}",
                    DISTRICTS[(day * ORDERS_A_DAY + number) % len(DISTRICTS)],
                    lines,
                    shipped=day < DAYS - UNSHIPPED_DAYS,
                )
            )
    return planned


@dataclass(frozen=True)
class DemoReturn:
    """What happens to one shipped order's first line: taken back to `hub` and left at `stage`
    (REQUESTED, RECEIVED or INSPECTED with `grade`; `fraud` weighs a tenth of what it should)."""

    hub: Place
    stage: str
    grade: str = "NEW"
    fraud: bool = False


RETURNS = (
    *(DemoReturn(HUBS[0], "REQUESTED") for _ in range(3)),
    *(DemoReturn(HUBS[1], "REQUESTED") for _ in range(2)),
    DemoReturn(HUBS[2], "REQUESTED"),
    DemoReturn(HUBS[0], "RECEIVED"),
    DemoReturn(HUBS[0], "RECEIVED"),
    DemoReturn(HUBS[1], "RECEIVED"),
    DemoReturn(HUBS[2], "RECEIVED"),
    DemoReturn(HUBS[0], "INSPECTED", "NEW"),
    DemoReturn(HUBS[1], "INSPECTED", "LIKE_NEW"),
    DemoReturn(HUBS[2], "INSPECTED", "NEW"),
    DemoReturn(HUBS[0], "INSPECTED", "GOOD"),
    DemoReturn(HUBS[1], "INSPECTED", "DAMAGED"),
    DemoReturn(HUBS[2], "INSPECTED", "NEW", fraud=True),
)

UPSERT_LOCATION = """mutation UpsertLocation($input: LocationInput!) {
  upsertLocation(input: $input) { location { code } userErrors { field message code } } }"""
PLACE_ORDER = """mutation PlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    order { id status shipments { id status } lines { sku quantity } }
    userErrors { field message code } } }"""
SHIP_SHIPMENT = """mutation ShipShipment($id: ID!, $trackingNumber: String) {
  shipShipment(id: $id, trackingNumber: $trackingNumber) {
    shipment { id status } userErrors { field message code } } }"""
RETURN_FIELDS = "id status destination { code } lines { sku quantity }"
REQUEST_RETURN = f"""mutation RequestReturn($input: RequestReturnInput!) {{
  requestReturn(input: $input) {{
    return {{ {RETURN_FIELDS} }} userErrors {{ field message code }} }} }}"""
RECEIVE_RETURN = f"""mutation ReceiveReturn($id: ID!, $locationCode: String!) {{
  receiveReturn(id: $id, locationCode: $locationCode) {{
    return {{ {RETURN_FIELDS} }} userErrors {{ field message code }} }} }}"""
INSPECT_RETURN = f"""mutation InspectReturn($input: InspectReturnInput!) {{
  inspectReturn(input: $input) {{
    return {{ {RETURN_FIELDS} }} userErrors {{ field message code }} }} }}"""
WORK_ORDERS = """query WorkOrders($locationCode: String) {
  workOrders(locationCode: $locationCode) { id kind sku } }"""
CREATE_WORK_ORDER = """mutation CreateWorkOrder($input: CreateWorkOrderInput!) {
  createWorkOrder(input: $input) {
    workOrder { id operations { name status } } userErrors { field message code } } }"""
COMPLETE_OPERATION = """
mutation CompleteWorkOrderOperation($input: CompleteWorkOrderOperationInput!) {
  completeWorkOrderOperation(input: $input) {
    workOrder { id } userErrors { field message code } } }"""


class DemoFailed(Exception):
    """The gateway refused a step of the demo (its message says which and why)."""


class Gateway:
    """GraphQL over HTTP to the gateway, as one token, a few requests at a time."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.token = token
        self.slots = asyncio.Semaphore(CONCURRENCY)

    async def data(self, document: str, variables: Mapping[str, object]) -> dict[str, Any]:
        async with self.slots:
            response = await self.client.post(
                "/graphql",
                json={"query": document, "variables": dict(variables)},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        body = response.json()
        if body.get("errors") or response.status_code != 200:
            raise DemoFailed(f"the gateway answered {response.status_code}: {body.get('errors')}")
        data: dict[str, Any] = body["data"]
        return data

    async def payload(self, document: str, **variables: object) -> dict[str, Any]:
        """The one root field's payload, which must carry no userErrors."""
        (payload,) = (await self.data(document, variables)).values()
        if payload["userErrors"]:
            raise DemoFailed(f"refused: {payload['userErrors']} for {variables}")
        result: dict[str, Any] = payload
        return result

    async def batched(self, field: str, type_name: str, selection: str, inputs: list[Any]) -> None:
        """`field(input: ...)` once per input, `BATCH` to a document as aliased root fields."""
        starts = range(0, len(inputs), BATCH)
        await gather(
            self._batch(field, type_name, selection, inputs[i : i + BATCH]) for i in starts
        )

    async def _batch(self, field: str, type_name: str, selection: str, inputs: list[Any]) -> None:
        names = [f"v{i}" for i in range(len(inputs))]
        declared = ", ".join(f"${name}: {type_name}!" for name in names)
        fields = " ".join(f"{n}: {field}(input: ${n}) {{ {selection} }}" for n in names)
        data = await self.data(
            f"mutation({declared}) {{ {fields} }}", dict(zip(names, inputs, strict=True))
        )
        refused = [payload["userErrors"] for payload in data.values() if payload["userErrors"]]
        if refused:
            raise DemoFailed(f"{field} refused: {refused[:3]}")


async def gather(steps: Iterable[Awaitable[T]]) -> list[T]:
    return list(await asyncio.gather(*steps))


async def seed_network(gateway: Gateway, skus: Sequence[Sku]) -> int:
    """Locations and SKUs (upserted), and stock where a location has none yet; the stock
    levels added."""
    await gather(
        gateway.payload(UPSERT_LOCATION, input={
            "code": place.code, "name": place.name, "kind": place.kind,
            "latitude": place.latitude, "longitude": place.longitude,
        })
        for place in LOCATIONS
    )  # fmt: skip
    await gateway.batched("upsertSku", "SkuInput", "userErrors { code message }",
                          list(skus))  # fmt: skip
    stocked = await stocked_places(gateway, [item["code"] for item in skus])
    missing = [
        {"sku": sku, "locationCode": place, "delta": units, "reason": "demo: opening stock"}
        for sku, place, units in stock_plan(skus)
        if (sku, place) not in stocked
    ]
    await gateway.batched(
        "adjustStock", "StockAdjustmentInput", "userErrors { code message }", missing
    )
    return len(missing)


async def stocked_places(gateway: Gateway, codes: Sequence[str]) -> set[tuple[str, str]]:
    """(sku, location) of every stock level the SKUs have anywhere."""

    async def batch(part: Sequence[str]) -> set[tuple[str, str]]:
        fields = " ".join(
            f"s{i}: stockLevels(sku: $s{i}) {{ sku location {{ code }} }}" for i in range(len(part))
        )
        declared = ", ".join(f"$s{i}: String!" for i in range(len(part)))
        data = await gateway.data(
            f"query({declared}) {{ {fields} }}", {f"s{i}": code for i, code in enumerate(part)}
        )
        return {
            (level["sku"], level["location"]["code"])
            for levels in data.values()
            for level in levels
        }

    found = await gather(batch(codes[i : i + BATCH]) for i in range(0, len(codes), BATCH))
    return set().union(*found)


async def place_and_ship(gateway: Gateway, order: DemoOrder) -> dict[str, Any]:
    """The order (placed once by its externalId), its shipments shipped when it is an old one."""
    district, postal_code, latitude, longitude = order.district
    placed = await gateway.payload(PLACE_ORDER, input={
        "channel": CHANNEL, "externalId": order.external_id,
        "email": f"{order.external_id.lower()}@example.com",
        "shipTo": {"name": f"Customer {order.external_id}", "line1": f"{district} 1",
                   "city": "Berlin", "postalCode": postal_code, "country": "DE",
                   "latitude": latitude, "longitude": longitude},
        "lines": [{"sku": sku, "quantity": quantity, "unitPriceCents": price}
                  for sku, quantity, price in order.lines],
    })  # fmt: skip
    found: dict[str, Any] = placed["order"]
    if order.shipped:
        waiting = [s["id"] for s in found["shipments"] if s["status"] == "ALLOCATED"]
        await gather(
            gateway.payload(SHIP_SHIPMENT, id=shipment, trackingNumber=f"DHL{order.external_id}")
            for shipment in waiting
        )
    return found


async def take_back(
    hub_staff: Callable[[str], Gateway],
    backoffice: Gateway,
    plan: DemoReturn,
    order: dict[str, Any],
    number: int,
    weights: Mapping[str, int],
) -> dict[str, Any]:
    """The order's first line returned to `plan.hub` and taken to `plan.stage` by its scanner."""
    line = order["lines"][0]
    requested = await backoffice.payload(REQUEST_RETURN, input={
        "orderId": order["id"], "idempotencyKey": f"demo-return-{number}",
        "lines": [{"sku": line["sku"], "quantity": 1, "reason": "SIZE_TOO_SMALL"}],
        "customerAddress": {"name": "Customer", "city": "Berlin", "country": "DE",
                            "latitude": plan.hub.latitude + 0.002, "longitude": plan.hub.longitude},
    })  # fmt: skip
    found: dict[str, Any] = requested["return"]
    scanner = hub_staff(found["destination"]["code"])
    if plan.stage != "REQUESTED" and found["status"] == "REQUESTED":
        received = await scanner.payload(
            RECEIVE_RETURN, id=found["id"], locationCode=found["destination"]["code"]
        )
        found = received["return"]
    if plan.stage == "INSPECTED" and found["status"] == "RECEIVED":
        weight = weights[line["sku"]]
        inspected = await scanner.payload(INSPECT_RETURN, input={
            "returnId": found["id"],
            "lines": [{"sku": line["sku"], "grade": plan.grade}],
            "measuredWeightGrams": weight // 10 if plan.fraud else weight + 15,
            "notes": "demo inspection",
        })  # fmt: skip
        found = inspected["return"]
    return found


async def work_orders(gateway: Gateway) -> int:
    """A kit assembly and an embroidery job at the DC, each opened once (by kind and SKU)."""
    existing = await gateway.data(WORK_ORDERS, {"locationCode": DC.code})
    have = {(w["kind"], w["sku"]) for w in existing["workOrders"]}
    wanted = [
        {"kind": "KIT_ASSEMBLY", "sku": KIT[0], "quantity": 3, "locationCode": DC.code,
         "components": [{"sku": "TEE-BLK-M", "quantity": 1}, {"sku": "CAP-BLK-ONE", "quantity": 1}],
         "operations": ["PICK", "ASSEMBLE", "QC"]},
        {"kind": "VALUE_ADD", "sku": "HOOD-NVY-L", "quantity": 4, "locationCode": DC.code,
         "operations": ["EMBROIDER", "QC"]},
    ]  # fmt: skip
    opened = 0
    for order in wanted:
        if (order["kind"], order["sku"]) in have:
            continue
        created = await gateway.payload(CREATE_WORK_ORDER, input=order)
        first = created["workOrder"]["operations"][0]["name"]
        await gateway.payload(COMPLETE_OPERATION, input={
            "workOrderId": created["workOrder"]["id"], "operation": first, "laborMinutes": 12,
        })  # fmt: skip
        opened += 1
    return opened


@dataclass
class Seeded:
    stock_levels: int
    orders: int
    returns: list[dict[str, Any]]
    work_orders: int

    def waiting_at(self, hub: str) -> list[str]:
        """The ids of the returns on their way to `hub`, not yet received."""
        return [
            r["id"]
            for r in self.returns
            if r["status"] == "REQUESTED" and r["destination"]["code"] == hub
        ]


def tokens_from(data_dir: Path, env: Mapping[str, str]) -> Callable[..., str]:
    key = signing_key_from_env(data_dir, dict(env))
    policy = TokenPolicy.from_env(env)

    def mint(role: Role, location: str | None = None) -> str:
        return issue_token(
            key, role, location, subject=SUBJECT, ttl=timedelta(hours=1), policy=policy
        )

    return mint


async def seed(gateway_url: str, mint: Callable[..., str]) -> Seeded:
    skus = catalogue()
    weights = {item["code"]: item["weightGrams"] for item in skus}
    async with httpx.AsyncClient(base_url=gateway_url, timeout=SECONDS) as client:
        backoffice = Gateway(client, mint(Role.BACKOFFICE))
        scanners = {hub.code: Gateway(client, mint(Role.SCANNER, hub.code)) for hub in LOCATIONS}
        added = await seed_network(backoffice, skus)
        planned = orders(skus)
        placed = await gather(place_and_ship(backoffice, order) for order in planned)
        shipped = [found for found, order in zip(placed, planned, strict=True) if order.shipped]
        returns = await gather(
            take_back(scanners.__getitem__, backoffice, plan, order, number, weights)
            for number, (plan, order) in enumerate(zip(RETURNS, shipped, strict=False))
        )
        opened = await work_orders(backoffice)
    return Seeded(added, len(placed), returns, opened)


def report(seeded: Seeded, data_dir: Path, gateway_url: str, out: Any = sys.stdout) -> None:
    by_status: dict[str, int] = {}
    for found in seeded.returns:
        by_status[found["status"]] = by_status.get(found["status"], 0) + 1
    statuses = ", ".join(f"{count} {status}" for status, count in sorted(by_status.items()))
    print(
        f"Demo data: {len(LOCATIONS)} locations, {len(catalogue())} SKUs "
        f"({seeded.stock_levels} stock levels added), {seeded.orders} orders, "
        f"returns {statuses}, {seeded.work_orders} work orders opened",
        file=out,
    )
    for hub in HUBS:
        print(
            f"Demo returns to receive at {hub.code}: {' '.join(seeded.waiting_at(hub.code))}",
            file=out,
        )
    print(
        f"Scanner app: {gateway_url}/scanner/ — sign a device in with "
        f"oms token --role scanner --location {HUBS[0].code} --link --data-dir {data_dir}",
        file=out,
    )


def run(data_dir: Path, gateway_url: str, env: Mapping[str, str]) -> int:
    """`oms demo`: seeds the running system; 0, or 1 with the reason when the gateway refused."""
    url = gateway_url.rstrip("/")
    try:
        seeded = asyncio.run(seed(url, tokens_from(data_dir, env)))
    except (DemoFailed, httpx.HTTPError) as error:
        print(f"oms demo: error: {error}", file=sys.stderr)
        return 1
    report(seeded, data_dir, url)
    return 0
