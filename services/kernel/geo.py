"""Points on the earth: great-circle distance, and the coordinates an address is placed at."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

from services.kernel.errors import DomainError, ErrorCode

EARTH_RADIUS_KM = 6371.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres."""
    phi1, phi2 = radians(lat1), radians(lat2)
    d_phi, d_lambda = radians(lat2 - lat1), radians(lon2 - lon1)
    a = sin(d_phi / 2) ** 2 + cos(phi1) * cos(phi2) * sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(sqrt(a))


def require_placed(
    latitude: float | None, longitude: float | None, field: str
) -> tuple[float, float]:
    """The address's coordinates; INVALID_ADDRESS on `field` when it has none.

    Placing an address by its postal code or city (the contract allows addresses without
    coordinates) is not built yet, so such an address cannot be placed.
    """
    if latitude is None or longitude is None:
        raise DomainError(
            ErrorCode.INVALID_ADDRESS,
            "the address has no coordinates; placing it by postal code or city is not served yet",
            field,
        )
    return latitude, longitude
