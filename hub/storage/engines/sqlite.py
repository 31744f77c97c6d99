"""SQLite (aiosqlite): WAL, foreign keys on, a single writer lane.

SQLite allows one writer at a time; instead of letting concurrent writers spin
on SQLITE_BUSY, writes queue on an asyncio lock and take the database lock up
front with ``BEGIN IMMEDIATE``.  Readers run concurrently thanks to WAL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Table, event, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.sql.compiler import SQLCompiler

from hub.storage.engines.base import RowValue, StorageEngine

_WRITE_FLAG = "telehub_write"


@compiles(RowValue, "sqlite")
def _row_value(element: RowValue, compiler: SQLCompiler, **kw: Any) -> str:
    """``+column``: without statistics SQLite's planner may reach ONE resource's index rows through the value
    index ``(param_hash, value)`` - scanning millions of rows per resource - instead of ``(rid, param_hash)``;
    the unary plus makes the term unusable for an index, so it cannot."""
    return "+" + compiler.process(element.column, **kw)


class SqliteEngine(StorageEngine):
    name = "sqlite"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._lane: asyncio.Lock | None = None

    def create_async_engine(self, *, pool_size: int) -> AsyncEngine:
        engine = create_async_engine(
            self.url,
            poolclass=AsyncAdaptedQueuePool,
            pool_size=max(pool_size, 2),
            max_overflow=0,
            connect_args={"timeout": 30},
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            # pysqlite's own transaction handling is disabled (isolation_level=None); emit BEGIN ourselves,
            # IMMEDIATE for writers so a transaction never fails half-way with SQLITE_BUSY on its first write.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.pop(_WRITE_FLAG, False) else "BEGIN")

        return engine

    @property
    def migrates_on_start(self) -> bool:
        return True

    def write_lane(self) -> AbstractAsyncContextManager[None]:
        return self._lane_cm()

    @asynccontextmanager
    async def _lane_cm(self) -> AsyncIterator[None]:
        if self._lane is None:
            self._lane = asyncio.Lock()
        async with self._lane:
            yield

    def prepare_write(self, conn: AsyncConnection) -> None:
        conn.info[_WRITE_FLAG] = True

    async def lock_audit_chain(self, conn: AsyncConnection) -> None:
        """Writes are already serialised by the single writer lane."""

    async def lock_keys(self, conn: AsyncConnection, keys: Collection[str]) -> None:
        """Writes are already serialised by the single writer lane."""

    def like_case_sensitive(self, column: ColumnElement[str], pattern: str) -> ColumnElement[bool]:
        """SQLite's LIKE ignores ASCII case, so the pattern becomes a (case-sensitive) GLOB."""
        return column.op("GLOB")(like_to_glob(pattern))

    def dialect_insert(self, table: Table) -> sqlite.Insert:
        return sqlite_insert(table)

    async def reserve_keys(
        self, conn: AsyncConnection, counts: Mapping[Table, int]
    ) -> dict[Table, list[int]]:
        """The next ``pk`` values after each table's largest: writes are serialised by the writer lane, and
        SQLite itself gives a new row the largest rowid plus one."""
        reserved: dict[Table, list[int]] = {}
        for table, n in counts.items():
            if n <= 0:
                reserved[table] = []
                continue
            top = (await conn.execute(select(func.coalesce(func.max(table.c.pk), 0)))).scalar_one()
            reserved[table] = list(range(int(top) + 1, int(top) + 1 + n))
        return reserved

    def prepare_location(self) -> None:
        path = self.database_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    @property
    def database_path(self) -> Path | None:
        _, _, rest = self.url.partition(":///")
        if not rest or rest.startswith(":memory:"):
            return None
        return Path(rest.split("?", 1)[0])


_GLOB_LITERALS = {"*": "[*]", "?": "[?]", "[": "[[]"}


def like_to_glob(pattern: str) -> str:
    """``%`` -> ``*``, ``_`` -> ``?``; GLOB's own metacharacters in the pattern are matched literally."""
    out = []
    for ch in pattern:
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        else:
            out.append(_GLOB_LITERALS.get(ch, ch))
    return "".join(out)
