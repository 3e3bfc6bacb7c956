"""Schemas come from migrations, on SQLite and PostgreSQL: each stream of revisions builds the
tables its code declares, a database made before migrations is adopted, replicas migrate once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from launcher.cli import main
from launcher.embedded_nats import EmbeddedNats
from oms.inventory.v1 import inventory_pb2 as inv
from oms.inventory.v1.inventory_pb2_grpc import InventoryServiceStub
from services.channels.bootstrap import SERVICE as CHANNELS
from services.inventory.bootstrap import SERVICE as INVENTORY
from services.kernel.db import Database
from services.kernel.migrate import (
    MigrationStream,
    current_revisions,
    migrate,
    streams,
)
from services.kernel.runtime import ServiceDefinition
from services.kernel.settings import normalize_database_url
from services.orders.bootstrap import SERVICE as ORDERS
from services.procurement.bootstrap import SERVICE as PROCUREMENT
from services.returns.bootstrap import SERVICE as RETURNS
from services.workorders.bootstrap import SERVICE as WORKORDERS
from tests.support.services import running_service

SERVICES = (INVENTORY, ORDERS, RETURNS, WORKORDERS, PROCUREMENT, CHANNELS)


def head(stream: MigrationStream) -> str:
    return ScriptDirectory(str(stream.script_location)).get_current_head() or ""


def differences(connection: Connection, stream: MigrationStream) -> list[Any]:
    """What autogenerate would write for the stream: nothing when the revisions are current."""
    own = stream.table_names
    context = MigrationContext.configure(
        connection,
        opts={
            "include_name": lambda name, kind, _parent: kind != "table" or name in own,
            "compare_type": True,
            "version_table": stream.version_table,
        },
    )
    return list(compare_metadata(context, stream.metadata()))


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
async def test_the_revisions_build_the_tables_the_code_declares(
    service: ServiceDefinition, db_url: str
) -> None:
    db = Database(normalize_database_url(db_url))
    to_migrate = streams(service.name, service.tables)
    await migrate(db, to_migrate)
    await migrate(db, to_migrate)  # again: nothing to do, nothing fails
    async with db.engine.connect() as connection:
        for stream in to_migrate:
            assert await connection.run_sync(differences, stream) == [], stream.name
    assert await current_revisions(db, to_migrate) == {s.name: head(s) for s in to_migrate}
    await db.dispose()


async def test_a_database_made_before_migrations_is_adopted_with_its_data(db_url: str) -> None:
    db = Database(normalize_database_url(db_url))
    to_migrate = streams(INVENTORY.name, INVENTORY.tables)
    # What the release before migrations left: its tables (revision 0001) and no version table.
    await migrate(db, to_migrate, target="0001")
    async with db.engine.begin() as connection:
        for stream in to_migrate:
            await connection.execute(text(f"DROP TABLE {stream.version_table}"))
    assert await current_revisions(db, to_migrate) == {"kernel": "", "inventory": ""}
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO sku (code, title, unit_cost_cents, weight_grams, serialized, "
                "updated_at) VALUES ('TEE', 'Tee', 800, 200, false, CURRENT_TIMESTAMP)"
            )
        )
    await migrate(db, to_migrate)
    assert await current_revisions(db, to_migrate) == {s.name: head(s) for s in to_migrate}
    async with db.engine.connect() as connection:
        titles = (await connection.execute(text("SELECT title FROM sku"))).scalars().all()
    assert titles == ["Tee"]
    await db.dispose()


async def test_replicas_starting_together_migrate_once(db_url: str) -> None:
    # PostgreSQL: they queue on an advisory lock; SQLite: on its one writer (BEGIN IMMEDIATE).
    url = normalize_database_url(db_url)
    replicas = [Database(url) for _ in range(3)]
    to_migrate = streams(ORDERS.name, ORDERS.tables)
    await asyncio.gather(*(migrate(db, to_migrate) for db in replicas))
    assert await current_revisions(replicas[0], to_migrate) == {s.name: head(s) for s in to_migrate}
    async with replicas[0].engine.connect() as connection:
        versions = await connection.execute(text("SELECT version_num FROM alembic_version"))
        assert versions.scalars().all() == [head(to_migrate[1])]
    for db in replicas:
        await db.dispose()


def test_oms_migrate_brings_every_database_to_the_newest_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--data-dir", str(tmp_path), "--status"]) == 0
    assert "inventory: kernel at nothing, inventory at nothing" in capsys.readouterr().out
    assert main(["migrate", "--data-dir", str(tmp_path)]) == 0
    migrated = capsys.readouterr().out.splitlines()
    expected = [
        f"{s.name}: "
        + ", ".join(f"{stream.name} at {head(stream)}" for stream in streams(s.name, s.tables))
        for s in (INVENTORY, ORDERS, RETURNS, PROCUREMENT, WORKORDERS, CHANNELS)
    ]
    assert migrated == expected
    assert sorted(p.name for p in tmp_path.glob("*.sqlite")) == [
        f"{name}.sqlite" for name in sorted(s.name for s in SERVICES)
    ]


async def test_a_service_started_on_an_older_schema_keeps_its_data_and_gains_the_new_columns(
    db_url: str, nats_server: EmbeddedNats
) -> None:
    url = normalize_database_url(db_url)
    db = Database(url)
    to_migrate = streams(INVENTORY.name, INVENTORY.tables)
    await migrate(db, to_migrate, target="0001")  # as the first release left it
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO location (id, code, name, kind, latitude, longitude, ships_orders, "
                "accepts_returns, updated_at) VALUES ('l-1', 'HUB-BER', 'Berlin hub', "
                "'RETURN_HUB', 52.5, 13.4, true, true, CURRENT_TIMESTAMP)"
            )
        )
    await db.dispose()
    async with running_service(INVENTORY, InventoryServiceStub, url, nats_server.url) as inventory:
        stub, running = inventory.stub, inventory.running
        [kept] = (await stub.ListLocations(inv.ListLocationsRequest())).locations
        assert (kept.id, kept.code, kept.name) == ("l-1", "HUB-BER", "Berlin hub")
        assert not kept.HasField("daily_inspection_capacity")  # the new column, empty
        upsert = inv.UpsertLocationRequest(
            code="HUB-BER",
            name="Berlin hub",
            kind=inv.LOCATION_KIND_RETURN_HUB,
            latitude=52.5,
            longitude=13.4,
            daily_inspection_capacity=40,
        )
        await stub.UpsertLocation(upsert)
        [changed] = (await stub.ListLocations(inv.ListLocationsRequest())).locations
        assert (changed.id, changed.daily_inspection_capacity) == ("l-1", 40)
        assert await current_revisions(running.db, to_migrate) == {
            s.name: head(s) for s in to_migrate
        }
        assert head(to_migrate[1]) > "0001"
