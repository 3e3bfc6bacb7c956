"""A synthetic European fulfilment network and its customers: locations, SKUs, stock and orders.

Pure and seeded: the same seed gives the same network, so runs compare like with like.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from tests.support.inputs import LocationInput, OrderLineInput, PlaceOrderInput, SkuInput

# (city, country, latitude, longitude): where locations stand and customers live.
CITIES = (
    ("Amsterdam", "NL", 52.37, 4.90),
    ("Athens", "GR", 37.98, 23.73),
    ("Barcelona", "ES", 41.39, 2.17),
    ("Berlin", "DE", 52.52, 13.40),
    ("Bordeaux", "FR", 44.84, -0.58),
    ("Brussels", "BE", 50.85, 4.35),
    ("Bucharest", "RO", 44.43, 26.10),
    ("Budapest", "HU", 47.50, 19.04),
    ("Copenhagen", "DK", 55.68, 12.57),
    ("Dublin", "IE", 53.35, -6.26),
    ("Frankfurt", "DE", 50.11, 8.68),
    ("Hamburg", "DE", 53.55, 9.99),
    ("Helsinki", "FI", 60.17, 24.94),
    ("Lisbon", "PT", 38.72, -9.14),
    ("Lyon", "FR", 45.76, 4.84),
    ("Madrid", "ES", 40.42, -3.70),
    ("Milan", "IT", 45.46, 9.19),
    ("Munich", "DE", 48.14, 11.58),
    ("Naples", "IT", 40.85, 14.27),
    ("Oslo", "NO", 59.91, 10.75),
    ("Paris", "FR", 48.86, 2.35),
    ("Prague", "CZ", 50.08, 14.44),
    ("Rome", "IT", 41.90, 12.50),
    ("Rotterdam", "NL", 51.92, 4.48),
    ("Seville", "ES", 37.39, -5.98),
    ("Stockholm", "SE", 59.33, 18.07),
    ("Vienna", "AT", 48.21, 16.37),
    ("Warsaw", "PL", 52.23, 21.01),
    ("Zagreb", "HR", 45.81, 15.98),
    ("Zurich", "CH", 47.38, 8.54),
)
# Share of each kind among the locations: a few large centres, many stores.
KIND_WEIGHTS = {
    "DISTRIBUTION_CENTER": 0.1,
    "THIRD_PARTY_WAREHOUSE": 0.1,
    "RETURN_HUB": 0.2,
    "STORE": 0.6,
}
PREFIX = {
    "DISTRIBUTION_CENTER": "DC",
    "THIRD_PARTY_WAREHOUSE": "3PL",
    "RETURN_HUB": "RH",
    "STORE": "ST",
}
CHANNEL = "web"
# Besides every distribution centre, each SKU is stocked at this many other locations.
OTHER_LOCATIONS_PER_SKU = 3


@dataclass(frozen=True)
class Network:
    locations: list[LocationInput]
    skus: list[SkuInput]
    # (sku, location code, units) to add with adjustStock.
    stock: list[tuple[str, str, int]]


def _near(rng: random.Random, spread: float) -> tuple[str, str, float, float]:
    city, country, lat, lon = rng.choice(CITIES)
    return (
        city,
        country,
        round(lat + rng.uniform(-spread, spread), 5),
        round(lon + rng.uniform(-spread, spread), 5),
    )


def build_network(locations: int, skus: int, seed: int = 7) -> Network:
    """`locations` locations (at least one distribution centre) and `skus` SKUs, all stocked."""
    rng = random.Random(seed)
    kinds = [
        "DISTRIBUTION_CENTER",
        *rng.choices(
            list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()), k=max(locations - 1, 0)
        ),
    ]
    places: list[LocationInput] = []
    for number, kind in enumerate(kinds, start=1):
        city, _country, lat, lon = _near(rng, 0.3)
        code = f"{PREFIX[kind]}-{number:03d}"
        places.append(
            {
                "code": code,
                "name": f"{city} {kind.replace('_', ' ').lower()}",
                "kind": kind,
                "latitude": lat,
                "longitude": lon,
            }
        )
    centres = [p["code"] for p in places if p["kind"] == "DISTRIBUTION_CENTER"]
    others = [p["code"] for p in places if p["kind"] != "DISTRIBUTION_CENTER"]
    items: list[SkuInput] = [
        {
            "code": f"SKU-{number:05d}",
            "title": f"Article {number}",
            "unitCostCents": rng.randrange(200, 20_000),
            "weightGrams": rng.randrange(100, 3_000),
        }
        for number in range(1, skus + 1)
    ]
    stock = []
    for item in items:
        stock += [(item["code"], code, rng.randrange(200, 500)) for code in centres]
        chosen = rng.sample(others, min(OTHER_LOCATIONS_PER_SKU, len(others)))
        stock += [(item["code"], code, rng.randrange(5, 30)) for code in chosen]
    return Network(places, items, stock)


def order_input(rng: random.Random, network: Network, external_id: str) -> PlaceOrderInput:
    """A storefront order: 1 to 3 lines of distinct random SKUs, shipped to someone in Europe."""
    city, country, lat, lon = _near(rng, 0.5)
    lines: list[OrderLineInput] = [
        {
            "sku": item["code"],
            "quantity": rng.choice((1, 1, 1, 2)),
            "unitPriceCents": 2 * item["unitCostCents"],
        }
        for item in rng.sample(network.skus, rng.randint(1, 3))
    ]
    return {
        "channel": CHANNEL,
        "externalId": external_id,
        "email": f"{external_id}@example.com",
        "shipTo": {
            "name": "Bench Customer",
            "line1": "1 Main Street",
            "city": city,
            "postalCode": "10000",
            "country": country,
            "latitude": lat,
            "longitude": lon,
        },
        "lines": lines,
        "splitPolicy": "ALLOW_SPLIT",
    }
