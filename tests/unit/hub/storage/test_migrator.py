"""Schema lifecycle: SQLite auto-migrates; PostgreSQL refuses an un-migrated or newer schema."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import StorageError
from hub.storage import Database, ensure_ready, head_revision, upgrade
from hub.storage.migrator import _config
from tests.conftest import POSTGRES_URL


async def _drop_version(db: Database) -> None:
    async with db.sa_engine.begin() as conn:
        await conn.execute(text("DELETE FROM alembic_version"))


async def _set_version(db: Database, rev: str) -> None:
    async with db.sa_engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": rev})


async def test_ensure_ready_is_idempotent_at_head(database: Database) -> None:
    state = await ensure_ready(database)
    assert state.up_to_date and state.current == head_revision()


async def test_unmigrated_schema(database: Database) -> None:
    await _drop_version(database)
    if database.engine.migrates_on_start:
        # the embedded default upgrades itself (tables exist already, so it re-stamps through upgrade)
        with pytest.raises(StorageError):
            await ensure_ready(database)  # tables exist but no revision: upgrading cannot silently re-create
    else:
        with pytest.raises(StorageError, match="telehub migrate"):
            await ensure_ready(database)


async def test_newer_schema_is_refused(database: Database) -> None:
    await _set_version(database, "9999_from_the_future")
    with pytest.raises(StorageError, match="newer"):
        if database.engine.migrates_on_start:
            await upgrade(database)
        await ensure_ready(database)


async def test_fresh_sqlite_file_is_created_and_migrated(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "nested" / "dir" / "telehub.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        state = await ensure_ready(db)
    finally:
        await db.close()
    assert path.is_file() and state.up_to_date


INDEX_TABLES = (
    "idx_token",
    "idx_string",
    "idx_date",
    "idx_number",
    "idx_quantity",
    "idx_reference",
    "idx_uri",
)


def _migrate_to(conn: Connection, target: str, *, down: bool = False) -> None:
    cfg = _config()
    cfg.attributes["connection"] = conn
    (command.downgrade if down else command.upgrade)(cfg, target)


def _foreign_keys(conn: Connection, table: str) -> list[Any]:
    return list(inspect(conn).get_foreign_keys(table))


def _index_names(conn: Connection, table: str) -> set[str | None]:
    return {ix["name"] for ix in inspect(conn).get_indexes(table)}


async def test_index_rows_lose_their_foreign_key_and_keep_their_data(database: Database) -> None:
    # revision 0004: back to 0003 (the key returns), a row written there, then forward again
    async with database.sa_engine.begin() as conn:
        await conn.run_sync(_migrate_to, "0003", down=True)
        assert await conn.run_sync(_foreign_keys, "idx_token")
        await conn.execute(
            text(
                "INSERT INTO resource (res_type, res_id, version, deleted, last_updated) "
                "VALUES ('Patient', 'p', 1, false, 0)"
            )
        )
        rid = (await conn.execute(text("SELECT rid FROM resource"))).scalar_one()
        await conn.execute(
            text("INSERT INTO idx_token (rid, param_hash, system, code) VALUES (:rid, 7, 's', 'c')"),
            {"rid": rid},
        )
        await conn.run_sync(_migrate_to, "head")
        for table in INDEX_TABLES:
            assert await conn.run_sync(_foreign_keys, table) == [], table
        row = (await conn.execute(text("SELECT rid, param_hash, system, code FROM idx_token"))).one()
        assert tuple(row) == (rid, 7, "s", "c")
        assert await conn.run_sync(_index_names, "idx_token") == {"ix_idx_token_rid", "ix_idx_token_value"}
    assert (await ensure_ready(database)).up_to_date


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs TELEHUB_TEST_POSTGRES_URL")
async def test_a_postgresql_database_that_is_not_utf8_is_refused() -> None:
    import asyncpg

    assert POSTGRES_URL is not None
    admin = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    name = f"telehub_latin1_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(
            f"CREATE DATABASE \"{name}\" ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
        )
        db = Database(f"{POSTGRES_URL.rpartition('/')[0]}/{name}")
        try:
            for step in (upgrade, ensure_ready):
                with pytest.raises(StorageError, match="encoding LATIN1, telehub needs UTF8"):
                    await step(db)
            async with db.sa_engine.connect() as probe:  # refused before any table was made
                tables = await probe.run_sync(lambda c: inspect(c).get_table_names())
            assert tables == []
        finally:
            await db.close()
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.close()


async def _one_entry(conn: AsyncConnection, *, submitted_us: int = 0) -> None:
    """One DocumentEntry row (pk 1) with only the columns every revision since 0003 requires."""
    await conn.execute(
        text(
            "INSERT INTO xds_document_entry (pk, entry_uuid, logical_id, version, latest, status, "
            "submitted_us, ebrim, unique_id, object_type) "
            "VALUES (1, 'urn:uuid:e', 'urn:uuid:e', 1, true, 'Approved', :at, :x, 'u', 'stable')"
        ),
        {"x": b"<x/>", "at": submitted_us},
    )


async def test_author_names_are_filled_for_the_authors_already_registered(database: Database) -> None:
    # revision 0007: an author row written under 0006 gets its family and given names in search form
    async with database.sa_engine.begin() as conn:
        await conn.run_sync(_migrate_to, "0006", down=True)
        await _one_entry(conn)
        people = ["^Ærø-Åberg^Søren^Anne&Marie^^^^^&1.2.208.176.1.1&ISO", "12345"]
        for person in people:
            await conn.execute(
                text("INSERT INTO xds_entry_author (entry_pk, person) VALUES (1, :p)"), {"p": person}
            )
        await conn.run_sync(_migrate_to, "head")
        rows = (
            await conn.execute(text("SELECT person, family, given FROM xds_entry_author ORDER BY person"))
        ).all()
        assert [tuple(r) for r in rows] == [
            ("12345", None, None),  # an id only: no names
            (people[0], "ærø-aberg", "søren anne marie"),
        ]
    assert (await ensure_ready(database)).up_to_date


async def test_registry_rows_get_their_submission_time_as_last_change(database: Database) -> None:
    # revision 0008: objects registered under 0007 get updated_us = submitted_us (no change was recorded)
    async with database.sa_engine.begin() as conn:
        await conn.run_sync(_migrate_to, "0007", down=True)
        await _one_entry(conn, submitted_us=1700000000123456)
        await conn.run_sync(_migrate_to, "head")
        row = (await conn.execute(text("SELECT submitted_us, updated_us FROM xds_document_entry"))).one()
        assert tuple(row) == (1700000000123456, 1700000000123456)
        await conn.run_sync(_migrate_to, "0007", down=True)  # and back: the column goes, the row stays
        columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("xds_folder")})
        assert "updated_us" not in columns
        await conn.run_sync(_migrate_to, "head")
    assert (await ensure_ready(database)).up_to_date


async def test_reference_ids_get_their_id_and_authority(database: Database) -> None:
    # revision 0009: referenceIds registered under 0008 get CX.1 and the CX.4 universal id beside the CXi
    async with database.sa_engine.begin() as conn:
        await conn.run_sync(_migrate_to, "0008", down=True)
        await _one_entry(conn)
        for value in ("ORD-7^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:order", "plain-id"):
            await conn.execute(
                text("INSERT INTO xds_entry_reference (entry_pk, value) VALUES (1, :v)"), {"v": value}
            )
        await conn.run_sync(_migrate_to, "head")
        rows = await conn.execute(text("SELECT id_value, authority FROM xds_entry_reference ORDER BY value"))
        assert [tuple(r) for r in rows.all()] == [("ORD-7", "1.2.3"), ("plain-id", None)]
    assert (await ensure_ready(database)).up_to_date
