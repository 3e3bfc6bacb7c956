"""Who a call is for: the person or device the gateway authenticated, carried to the services in
each call's metadata, so that every service decides itself what that caller may see and do — a
storefront its own orders and returns, a scanner the work at its own location.

A call without it comes from another service, which works on behalf of no one in particular
and sees everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

ROLE_KEY = "oms-caller-role"
SUBJECT_KEY = "oms-caller-subject"
LOCATION_KEY = "oms-caller-location"


class Role(StrEnum):
    """What a token lets its holder do (the gateway checks each operation against it)."""

    STOREFRONT = "storefront"
    SCANNER = "scanner"
    BACKOFFICE = "backoffice"
    ADMIN = "admin"


@dataclass(frozen=True)
class Caller:
    """Who it is (a token's subject), its role, and for a scanner the location it is bound to.
    Another service calls with no role."""

    subject: str
    role: Role | None
    location_code: str | None = None

    def sees_orders_of(self, placed_by: str) -> bool:
        """A storefront sees the orders (and their returns) placed under its subject only."""
        return self.role is not Role.STOREFRONT or placed_by == self.subject

    def works_at(self, location_code: str) -> bool:
        """A scanner works at its own location only; every other caller anywhere."""
        return self.role is not Role.SCANNER or location_code == self.location_code

    @property
    def own_orders_only(self) -> str:
        """The subject whose orders this caller may list; empty for every order."""
        return self.subject if self.role is Role.STOREFRONT else ""

    @property
    def bound_location(self) -> str:
        """The scanner's location; empty for callers that work everywhere."""
        return (self.location_code or "") if self.role is Role.SCANNER else ""

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """What a gRPC call carries to say whom it is for (nothing for another service)."""
        if self.role is None:
            return ()
        return (
            (ROLE_KEY, self.role.value),
            (SUBJECT_KEY, self.subject),
            (LOCATION_KEY, self.location_code or ""),
        )

    @classmethod
    def from_metadata(cls, metadata: Iterable[tuple[str, str | bytes]] | None) -> Caller:
        """The caller a call's metadata names; another service when it names none."""
        given = {key: value for key, value in metadata or () if isinstance(value, str)}
        role = given.get(ROLE_KEY, "")
        if role not in set(Role):
            return INTERNAL
        return cls(given.get(SUBJECT_KEY, ""), Role(role), given.get(LOCATION_KEY) or None)


INTERNAL = Caller("internal", None)
