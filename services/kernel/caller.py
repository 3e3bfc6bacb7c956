"""Who a call is for: the person or device the gateway authenticated, carried to the services in
each call's metadata, so that every service decides itself what that caller may see and do — a
storefront its own orders and returns on the channels it sells on, a scanner the work at its
own location.

A call without it comes from another service, which works on behalf of no one in particular
and sees everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from services.kernel.errors import DomainError, ErrorCode

ROLE_KEY = "oms-caller-role"
SUBJECT_KEY = "oms-caller-subject"
LOCATION_KEY = "oms-caller-location"
# One entry per channel a storefront sells on (metadata keys may repeat).
CHANNEL_KEY = "oms-caller-channel"


class Role(StrEnum):
    """What a token lets its holder do (the gateway checks each operation against it)."""

    STOREFRONT = "storefront"
    SCANNER = "scanner"
    BACKOFFICE = "backoffice"
    ADMIN = "admin"


@dataclass(frozen=True)
class Caller:
    """Who it is (a token's subject), its role, for a scanner the location it is bound to and
    for a storefront the channels it sells on. Another service calls with no role."""

    subject: str
    role: Role | None
    location_code: str | None = None
    channels: tuple[str, ...] = ()

    def sees_orders_of(self, placed_by: str) -> bool:
        """A storefront sees the orders (and their returns) placed under its subject only."""
        return self.role is not Role.STOREFRONT or placed_by == self.subject

    def sells_on(self, channel: str) -> bool:
        """A storefront places and sees orders of the channels its token names only; every
        other caller works on every channel."""
        return self.role is not Role.STOREFRONT or channel in self.channels

    def sees_order(self, placed_by: str, channel: str) -> bool:
        """An order is a storefront's when it placed it, on a channel it sells on."""
        return self.sees_orders_of(placed_by) and self.sells_on(channel)

    @property
    def sees_internals(self) -> bool:
        """Whether the caller sees how the business runs: routing costs, fraud signals,
        inspectors' notes, why stock moved. Storefronts see what they sell and their own
        orders, nothing of that."""
        return self.role is not Role.STOREFRONT

    def works_at(self, location_code: str) -> bool:
        """A scanner works at its own location only; every other caller anywhere."""
        return self.role is not Role.SCANNER or location_code == self.location_code

    @property
    def own_orders_only(self) -> str:
        """The subject whose orders this caller may list; empty for every order."""
        return self.subject if self.role is Role.STOREFRONT else ""

    @property
    def own_channels_only(self) -> tuple[str, ...] | None:
        """The channels whose orders this caller may list; None for every channel."""
        return self.channels if self.role is Role.STOREFRONT else None

    @property
    def runs_the_business(self) -> bool:
        """Whether the caller sees figures of the whole business (the operations summary):
        the back office, an admin, another service; not a storefront or a scanner."""
        return self.role not in (Role.STOREFRONT, Role.SCANNER)

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
            *((CHANNEL_KEY, channel) for channel in self.channels),
        )

    @classmethod
    def from_metadata(cls, metadata: Iterable[tuple[str, str | bytes]] | None) -> Caller:
        """The caller a call's metadata names; another service when it names none."""
        pairs = [(key, value) for key, value in metadata or () if isinstance(value, str)]
        given = dict(pairs)
        role = given.get(ROLE_KEY, "")
        if role not in set(Role):
            return INTERNAL
        channels = tuple(value for key, value in pairs if key == CHANNEL_KEY)
        return cls(
            given.get(SUBJECT_KEY, ""), Role(role), given.get(LOCATION_KEY) or None, channels
        )


INTERNAL = Caller("internal", None)


def require_runs_the_business(caller: Caller) -> None:
    """Figures of the whole business are the back office's (FORBIDDEN to anyone else)."""
    if not caller.runs_the_business:
        raise DomainError(ErrorCode.FORBIDDEN, "the back office's figures only")
