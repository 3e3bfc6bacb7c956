"""`oms dead-letters`: lists the events each service set aside, and replays one once its cause is
fixed — an unpublishable event goes back to the outbox, an unapplied one is applied again by its
consumer's handler, here, against the service's database."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from launcher.migrations import definition
from oms.events.v1.envelope_pb2 import EventEnvelope
from services.kernel.db import Database
from services.kernel.dead_letters import (
    DeadLetterKind,
    StoredDeadLetter,
    dead_letters,
    mark_replayed,
    requeue,
)
from services.kernel.events import apply_event
from services.kernel.grpc_client import open_channel
from services.kernel.migrate import migrate, streams
from services.kernel.runtime import ServiceContext
from services.kernel.settings import SERVICE_NAMES, ServiceSettings
from services.kernel.tls import Credentials


def describe(service: str, stored: StoredDeadLetter) -> str:
    letter = stored.letter
    by = f"consumer {letter.consumer}" if letter.consumer else "the outbox relay"
    replayed = f", replayed {stored.replayed_at:%Y-%m-%d %H:%M}" if stored.replayed_at else ""
    return (
        f"{service} #{stored.id} {stored.set_aside_at:%Y-%m-%d %H:%M:%S} {letter.kind.value} "
        f"{letter.event_type or '(unreadable)'} {letter.event_id or '-'} by {by} after "
        f"{letter.deliveries} deliveries: {letter.reason}{replayed}"
    )


async def _database(name: str, settings: ServiceSettings) -> Database:
    """The service's database at the newest schema (what the service itself does at start)."""
    db = Database(settings.database_url)
    service = definition(name)
    await migrate(db, streams(service.name, service.tables))
    return db


async def list_letters(names: Sequence[str], env: Mapping[str, str], everything: bool) -> list[str]:
    lines = []
    for name in names:
        db = await _database(name, ServiceSettings.from_env(name, env))
        try:
            lines += [describe(name, s) for s in await dead_letters(db, everything)]
        finally:
            await db.dispose()
    return lines


async def replay(name: str, letter_id: int, env: Mapping[str, str]) -> str:
    """Replays one letter; an unapplied event goes through the handler that gave up on it."""
    settings = ServiceSettings.from_env(name, env)
    db = await _database(name, settings)
    try:
        stored = next((s for s in await dead_letters(db) if s.id == letter_id), None)
        if stored is None:
            raise LookupError(f"no dead letter #{letter_id} waiting in {name}")
        if stored.letter.kind is DeadLetterKind.UNPUBLISHABLE:
            await requeue(db, letter_id)
            return f"{name} #{letter_id}: back in the outbox"
        await _apply_again(name, settings, db, stored, env)
        await mark_replayed(db, letter_id)
        return f"{name} #{letter_id}: applied by {stored.letter.consumer}"
    finally:
        await db.dispose()


async def _apply_again(
    name: str,
    settings: ServiceSettings,
    db: Database,
    stored: StoredDeadLetter,
    env: Mapping[str, str],
) -> None:
    service = definition(name)
    # Replayed as the service itself would apply it: calling others with its certificate (one
    # that calls no one needs none).
    credentials = Credentials.load(settings.tls_dir) if service.calls and settings.tls_dir else None
    channels = {
        other: open_channel(settings.grpc_targets[other], other, credentials)
        for other in service.calls
    }
    try:
        parts = service.build(ServiceContext(settings, db, channels, dict(env)))
        subscription = next(
            (s for s in parts.subscriptions if s.durable == stored.letter.consumer), None
        )
        if subscription is None or parts.uow is None:
            raise LookupError(f"{name} has no consumer {stored.letter.consumer}")
        envelope = EventEnvelope.FromString(stored.letter.data)
        await apply_event(parts.uow, subscription, envelope)
    finally:
        await asyncio.gather(*(channel.close() for channel in channels.values()))


def run(
    names: Sequence[str], env: Mapping[str, str], replay_id: int | None, everything: bool
) -> int:
    chosen = list(names) or list(SERVICE_NAMES)
    if replay_id is not None:
        if len(chosen) != 1:
            print("oms dead-letters: --replay needs exactly one --service")
            return 2
        try:
            print(asyncio.run(replay(chosen[0], replay_id, env)))
        except LookupError as error:
            print(f"oms dead-letters: {error}")
            return 1
        return 0
    lines = asyncio.run(list_letters(chosen, env, everything))
    print("\n".join(lines) if lines else "no dead letters")
    return 0
