"""Who may do what on the broker: one NATS user per process, allowed to publish only its own
events (`oms.<its domain>.>` and its dead-letter notices), to manage only its own stream, to read
only the streams it consumes through its own durable consumers, and to receive only the replies
sent to its own inboxes. The gateway may only listen to stock, location and channel changes
(its feed and availability read model).

So a service's credentials cannot forge another service's events (`ReturnInspected` from
anyone but returns), nor acknowledge, read or delete what another service consumes.
`deploy/kubernetes/nats.yaml` and `deploy/nats-single.conf` state the same permissions (print
them with `python -m launcher.nats_access`); a test compares them.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.availability import SUBJECTS as GATEWAY_SUBJECTS
from launcher.pki import write_private
from services.kernel.dead_letters import STREAM_DOMAIN as DEAD_LETTERS
from services.kernel.dead_letters import notice_subject
from services.kernel.events import stream_name
from services.kernel.settings import SERVICE_NAMES
from services.kernel.tls import GATEWAY

# What each service consumes: (the producing domain, its durable consumer's name). The names
# are the `Subscription.durable`s in each service's events.py; a test keeps the two in step.
CONSUMES: Mapping[str, Sequence[tuple[str, str]]] = {
    "inventory": (
        ("returns", "inventory-returns"),
        ("workorders", "inventory-workorders"),
        ("procurement", "inventory-procurement"),
    ),
    "orders": (("inventory", "orders-backorders"),),
    "returns": (("workorders", "returns-work-orders-completed"),),
    "procurement": (
        ("orders", "procurement-orders"),
        ("returns", "procurement-returns"),
        ("workorders", "procurement-workorders"),
    ),
    "workorders": (("returns", "workorders-returns"), ("orders", "workorders-orders")),
    "channels": (("inventory", "channels-inventory"), ("orders", "channels-orders")),
}
PARTIES = (*SERVICE_NAMES, GATEWAY)


@dataclass(frozen=True)
class Permissions:
    """Subjects a user may publish to and subscribe to; nothing else."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def inbox(party: str) -> str:
    """The replies to `party` (`services.kernel.events.connect` names its inboxes so)."""
    return f"_INBOX.oms-{party}.>"


def _own_streams(domain: str) -> list[str]:
    # Reading single messages of its own stream lets the owner (and an audit logged in as it)
    # see what it announced; the shared dead-letter stream is not readable that way.
    return [
        f"$JS.API.STREAM.{action}.{stream_name(stream)}"
        for stream in (domain, DEAD_LETTERS)
        for action in ("CREATE", "UPDATE", "INFO")
    ] + [f"$JS.API.STREAM.MSG.GET.{stream_name(domain)}"]


def _consumer(domain: str, durable: str) -> list[str]:
    stream = stream_name(domain)
    return [
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}",
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
        f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    ]


def permissions(party: str) -> Permissions:
    if party == GATEWAY:
        return Permissions(publish=(), subscribe=(*GATEWAY_SUBJECTS, inbox(party)))
    publish = [f"oms.{party}.>", notice_subject(party), *_own_streams(party)]
    for domain, durable in CONSUMES[party]:
        publish += _consumer(domain, durable)
    return Permissions(publish=tuple(publish), subscribe=(inbox(party),))


@dataclass(frozen=True, repr=False)
class NatsUser:
    name: str
    password: str

    @property
    def permissions(self) -> Permissions:
        return permissions(self.name)

    def config(self) -> dict[str, object]:
        """The user's entry in nats-server's `authorization.users`."""
        allowed = self.permissions
        # An empty allow list would mean "no limit": a user that publishes nothing is denied all.
        publish = {"allow": list(allowed.publish)} if allowed.publish else {"deny": [">"]}
        return {
            "user": self.name,
            "password": self.password,
            "permissions": {"publish": publish, "subscribe": {"allow": list(allowed.subscribe)}},
        }


def authorization_config(users: Sequence[NatsUser]) -> str:
    """The `authorization` block of nats-server's configuration (JSON is valid there)."""
    return "authorization " + json.dumps({"users": [user.config() for user in users]}, indent=2)


def passwords_path(data_dir: Path) -> Path:
    return data_dir / "secrets" / "nats-passwords.json"


def load_or_create_users(data_dir: Path) -> list[NatsUser]:
    """A user per process with a random password, kept in the data dir (owner only) so that
    processes started on their own later still get in."""
    path = passwords_path(data_dir)
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [party for party in PARTIES if party not in known]
    if missing:
        known |= {party: secrets.token_urlsafe(32) for party in missing}
        write_private(path, json.dumps(known, indent=2).encode())
    return [NatsUser(party, known[party]) for party in PARTIES]


def password_variable(party: str) -> str:
    return f"OMS_NATS_PASSWORD_{party.upper()}"


def deployment_authorization_config() -> str:
    """The same block with each password read from the server's environment
    (`$OMS_NATS_PASSWORD_<PART>`), as `deploy/` states it; nats-server refuses to start when one
    is missing."""
    users = [NatsUser(party, f"${password_variable(party)}") for party in PARTIES]
    # A variable reference is a bare word in nats-server's configuration, never a string.
    return re.sub(r'"(\$OMS_NATS_PASSWORD_[A-Z]+)"', r"\1", authorization_config(users))


if __name__ == "__main__":
    print(deployment_authorization_config())
