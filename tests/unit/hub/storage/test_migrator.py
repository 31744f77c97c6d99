"""Schema lifecycle: SQLite auto-migrates; PostgreSQL refuses an un-migrated or newer schema."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from hub.core.errors import StorageError
from hub.storage import Database, ensure_ready, head_revision, upgrade


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
