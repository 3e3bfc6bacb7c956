"""Placing an address without coordinates: the most precise known part wins, with the packaged
data behind it."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.kernel import gazetteer
from services.kernel.errors import DomainError, ErrorCode
from services.kernel.gazetteer import Gazetteer, packaged_gazetteer
from services.kernel.geo import AddressPlacement, AddressToPlace, PlacedAddress, locate, place

SMALL = Gazetteer(
    us_zip_codes={"10001": (40.75, -73.99)},
    cities={("US", "springfield"): (39.80, -89.64), ("DE", "berlin"): (52.52, 13.41)},
    countries={"US": (38.90, -77.04), "DE": (52.52, 13.41)},
)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (
            AddressToPlace(None, None, "10001-1234", "Springfield", "us"),
            (40.75, -73.99, "POSTAL_CODE"),
        ),
        (AddressToPlace(None, None, "99999", "springfield", "US"), (39.80, -89.64, "CITY")),
        (AddressToPlace(None, None, "10001", "Berlin", "DE"), (52.52, 13.41, "CITY")),
        (AddressToPlace(None, None, "", "Nowhere", "US"), (38.90, -77.04, "COUNTRY")),
    ],
    ids=["zip", "unknown-zip-then-city", "zip-is-us-only", "country"],
)
def test_the_most_precise_known_part_places_the_address(
    address: AddressToPlace, expected: tuple[float, float, str]
) -> None:
    latitude, longitude, placement = expected
    assert locate(SMALL, address) == PlacedAddress(latitude, longitude, AddressPlacement(placement))


@pytest.mark.parametrize(
    "address",
    [AddressToPlace(None, None, "10001", "Berlin", ""), AddressToPlace(None, None, "1", "X", "XX")],
    ids=["no-country", "unknown-country"],
)
def test_an_address_without_a_known_country_is_not_located(address: AddressToPlace) -> None:
    assert locate(SMALL, address) is None


async def test_coordinates_sent_are_kept_and_half_of_them_is_refused() -> None:
    sent = await place(AddressToPlace(1.5, 2.5, "10001", "", "US"), "ship_to")
    assert sent == PlacedAddress(1.5, 2.5, AddressPlacement.COORDINATES)
    with pytest.raises(DomainError) as refused:
        await place(AddressToPlace(1.5, None, "10001", "", "US"), "ship_to")
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_ADDRESS, "ship_to")


async def test_the_packaged_data_places_zip_codes_cities_and_countries() -> None:
    data = packaged_gazetteer()
    assert data.us_zip("10001") == pytest.approx((40.75, -74.00), abs=0.01)
    assert (
        data.city("DE", "München")
        == data.city("de", "Munich")
        == pytest.approx((48.14, 11.58), abs=0.01)
    )
    assert data.country("AU") == pytest.approx((-35.28, 149.13), abs=0.01)  # Canberra
    with pytest.raises(DomainError) as refused:
        await place(AddressToPlace(None, None, "", "Atlantis", "XX"), "customer")
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_ADDRESS, "customer")


def test_the_packaged_data_is_kept_in_a_file_that_answers_as_the_packages_do(
    tmp_path: Path,
) -> None:
    """Built once per machine into the cache directory: read back, it answers every lookup as
    the data it was built from, and a second writer's file replaces the first whole."""
    built = gazetteer._build()
    path = tmp_path / "gazetteer.sqlite"
    gazetteer._write_file(path, SMALL)
    gazetteer._write_file(path, built)
    stored = gazetteer._read_file(path)
    assert list(tmp_path.iterdir()) == [path]  # no partial file left behind
    for zip_code in ("10001", "99501", "00601"):
        assert stored.us_zip(zip_code) == built.us_zip(zip_code)
    for country, city in (("DE", "münchen"), ("us", "Springfield"), ("FR", "paris")):
        assert stored.city(country, city) == built.city(country, city) is not None
    assert stored.country("AU") == built.country("AU")
    assert stored.city("XX", "Atlantis") is None and stored.us_zip("00000") is None
    assert len(stored.cities) == len(built.cities)
    assert ("DE", "berlin") in stored.cities


def test_the_cache_directory_is_the_operators_else_the_users() -> None:
    assert gazetteer.cache_dir({"OMS_CACHE_DIR": "/srv/c"}) == Path("/srv/c")
    assert gazetteer.cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/oms")
    assert gazetteer.cache_dir({}) == Path.home() / ".cache" / "oms"
