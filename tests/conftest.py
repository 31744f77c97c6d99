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
import queue  # noqa: E402
import shutil  # noqa: E402
import threading  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator, Iterator  # noqa: E402

POSTGRES_URL = os.environ.get("TELEHUB_TEST_POSTGRES_URL")
ENGINES = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def _pg_admin_url() -> str:
    assert POSTGRES_URL is not None
    return POSTGRES_URL


class _Dropper:
    """Drops the PostgreSQL databases the tests made, on a thread of its own while later tests run (a DROP
    DATABASE costs a checkpoint: 20 ms with fsync off, 200 ms with it on), so a developer's server does not
    fill up with thousands of test databases."""

    def __init__(self) -> None:
        self._names: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def drop(self, name: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=asyncio.run, args=(self._run(),), name="test-db-dropper", daemon=True
            )
            self._thread.start()
        self._names.put(name)

    def close(self) -> None:
        if self._thread is not None:
            self._names.put(None)
            self._thread.join()
            self._thread = None

    async def _run(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(_pg_admin_url().replace("postgresql+asyncpg://", "postgresql://"))
        try:
            while (name := self._names.get()) is not None:  # blocks this thread only: nothing else runs here
                try:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except asyncpg.PostgresError as exc:
                    print(f"could not drop test database {name}: {exc}")
        finally:
            await conn.close()


_DROPPER = _Dropper()
_CREATED: list[str] = []  # databases made by _pg_create, dropped at the end of the session


async def _pg_create(name: str) -> str:
    import asyncpg

    admin = _pg_admin_url().replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    _CREATED.append(name)
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
    if POSTGRES_URL:
        for name in (*_CREATED, templates["postgresql"]):
            _DROPPER.drop(name)
        _DROPPER.close()


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
def database_url(
    request: pytest.FixtureRequest, migrated_templates: dict[str, str], tmp_path: Path
) -> Iterator[str]:
    """A fresh, migrated, empty database of each engine (a PostgreSQL one is dropped after the test)."""
    if request.param == "sqlite":
        target = tmp_path / "telehub.db"
        shutil.copyfile(migrated_templates["sqlite"], target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    url = asyncio.run(_pg_clone(migrated_templates["postgresql"]))
    yield url
    _DROPPER.drop(url.rpartition("/")[2])


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[object]:
    from hub.storage import Database

    db = Database(database_url)
    try:
        yield db
    finally:
        await db.close()
