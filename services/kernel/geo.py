"""Points on the earth: great-circle distance, and the coordinates an address is placed at."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from math import asin, cos, radians, sin, sqrt

from services.kernel.errors import DomainError, ErrorCode
from services.kernel.gazetteer import Gazetteer, packaged_gazetteer

EARTH_RADIUS_KM = 6371.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres."""
    phi1, phi2 = radians(lat1), radians(lat2)
    d_phi, d_lambda = radians(lat2 - lat1), radians(lon2 - lon1)
    a = sin(d_phi / 2) ** 2 + cos(phi1) * cos(phi2) * sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(sqrt(a))


class AddressPlacement(StrEnum):
    """How an address got its point: the client's coordinates, else the most precise of its
    US ZIP code, its city, its country."""

    COORDINATES = "COORDINATES"
    POSTAL_CODE = "POSTAL_CODE"
    CITY = "CITY"
    COUNTRY = "COUNTRY"


@dataclass(frozen=True)
class PlacedAddress:
    latitude: float
    longitude: float
    placement: AddressPlacement


@dataclass(frozen=True)
class AddressToPlace:
    latitude: float | None
    longitude: float | None
    postal_code: str = ""
    city: str = ""
    country: str = ""


async def place(address: AddressToPlace, field: str) -> PlacedAddress:
    """The address's point, INVALID_ADDRESS on `field` when none can be found.

    Coordinates sent by the client win and are kept as sent. Without them the address is placed
    from packaged data, most precise first; the first lookup loads that data (about a second),
    off the event loop.
    """
    if address.latitude is not None and address.longitude is not None:
        return PlacedAddress(address.latitude, address.longitude, AddressPlacement.COORDINATES)
    if address.latitude is None and address.longitude is None:
        found = locate(await asyncio.to_thread(packaged_gazetteer), address)
        if found is not None:
            return found
    raise DomainError(
        ErrorCode.INVALID_ADDRESS,
        "the address cannot be placed: send latitude and longitude, or a known postal code, "
        "city or country (ISO 3166-1 alpha-2)",
        field,
    )


def locate(gazetteer: Gazetteer, address: AddressToPlace) -> PlacedAddress | None:
    """The address's point from its postal code (US ZIP codes), else its city, else its
    country; None when the country is missing or none of them is known."""
    country = address.country.strip().upper()
    if not country:
        return None
    tries = (
        (AddressPlacement.POSTAL_CODE, country == "US" and gazetteer.us_zip(address.postal_code)),
        (AddressPlacement.CITY, address.city and gazetteer.city(country, address.city)),
        (AddressPlacement.COUNTRY, gazetteer.country(country)),
    )
    for placement, point in tries:
        if point:
            return PlacedAddress(point[0], point[1], placement)
    return None
