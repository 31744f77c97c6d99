"""Shared fixtures: engine selection (SQLite / PostgreSQL) and the third-party test data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTDATA = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"


@pytest.fixture(scope="session")
def testdata() -> Path:
    """``../shared/testdata``; tests that need it skip cleanly when it is absent."""
    if not TESTDATA.is_dir():
        pytest.skip("../shared/testdata not available")
    return TESTDATA


def testdata_path(*parts: str) -> Path:
    """A path below ``../shared/testdata``, skipping the calling test when it does not exist."""
    path = TESTDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/testdata/{'/'.join(parts)} not available")
    return path


testdata_path.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test, when imported by tests


# ---------------------------------------------------------------------------- database engines
# Every database test runs on SQLite, and also on PostgreSQL when TELEHUB_TEST_POSTGRES_URL points at a server
# (`.ci/run` starts a throwaway PostgreSQL 15 cluster and sets it).  Each test gets an empty database.

import asyncio  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator, Iterator  # noqa: E402

POSTGRES_URL = os.environ.get("TELEHUB_TEST_POSTGRES_URL")
ENGINES = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def _pg_admin_url() -> str:
    assert POSTGRES_URL is not None
    return POSTGRES_URL


async def _pg_create(name: str) -> str:
    import asyncpg

    admin = _pg_admin_url().replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _db = POSTGRES_URL.rpartition("/") if POSTGRES_URL else ("", "", "")
    return f"{base}/{name}"


async def _migrate(url: str) -> None:
    from hub.storage import Database, upgrade

    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.close()


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per engine, made once per session."""
    templates: dict[str, str] = {}
    sqlite_file = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{sqlite_file}"))
    templates["sqlite"] = str(sqlite_file)
    if POSTGRES_URL:
        name = f"telehub_tpl_{uuid.uuid4().hex[:10]}"
        url = asyncio.run(_pg_create(name))
        asyncio.run(_migrate(url))
        templates["postgresql"] = name
    yield templates


async def _pg_clone(template: str) -> str:
    import asyncpg

    name = f"telehub_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin_url().replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    assert POSTGRES_URL is not None
    return f"{POSTGRES_URL.rpartition('/')[0]}/{name}"


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, migrated_templates: dict[str, str], tmp_path: Path) -> str:
    """A fresh, migrated, empty database of each engine."""
    if request.param == "sqlite":
        target = tmp_path / "telehub.db"
        shutil.copyfile(migrated_templates["sqlite"], target)
        return f"sqlite+aiosqlite:///{target}"
    return asyncio.run(_pg_clone(migrated_templates["postgresql"]))


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[object]:
    from hub.storage import Database

    db = Database(database_url)
    try:
        yield db
    finally:
        await db.close()
