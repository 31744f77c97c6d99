"""PostgreSQL ≥ 15 (asyncpg): the production engine, several workers, MVCC writers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from sqlalchemy import Insert, Table, insert, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from hub.storage.engines.base import StorageEngine

_COPY_THRESHOLD = 16  # below this, one pipelined INSERT is as quick as COPY
# Arbitrary but fixed key of the transaction-scoped advisory lock guarding the audit hash chain.
_AUDIT_CHAIN_LOCK = 0x7E1E_AD17


class PostgresEngine(StorageEngine):
    name = "postgresql"

    def create_async_engine(self, *, pool_size: int) -> AsyncEngine:
        return create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=False,
            connect_args={
                "server_settings": {
                    "application_name": "telehub",
                    "jit": "off",
                    "plan_cache_mode": "force_custom_plan",
                }
            },
        )

    @property
    def migrates_on_start(self) -> bool:
        return False

    def write_lane(self) -> AbstractAsyncContextManager[None]:
        return _no_lane()

    def prepare_write(self, conn: AsyncConnection) -> None:
        """PostgreSQL writers do not need an early lock."""

    async def lock_audit_chain(self, conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_CHAIN_LOCK})

    async def insert_rows(
        self, conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Large batches go through COPY (binary protocol, in the open transaction): several times faster
        than a pipelined executemany for the hundreds of index rows a Bundle or a PHMR document brings."""
        if len(rows) < _COPY_THRESHOLD:
            await super().insert_rows(conn, table, rows)
            return
        columns = list(rows[0])
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.copy_records_to_table(
            table.name, records=[tuple(r[c] for c in columns) for r in rows], columns=columns
        )

    def insert_ignoring_conflicts(self, table: Table) -> Insert:
        return postgresql_insert(table).on_conflict_do_nothing()

    async def insert_rows_of_tables(
        self, conn: AsyncConnection, rows_by_table: Mapping[Table, Sequence[Mapping[str, Any]]]
    ) -> None:
        """Small batches for several tables go in ONE statement (data-modifying CTEs), saving a network round
        trip per table on every write; large ones use COPY per table."""
        small = {t: r for t, r in rows_by_table.items() if r and len(r) < _COPY_THRESHOLD}
        for table, rows in rows_by_table.items():
            if rows and table not in small:
                await self.insert_rows(conn, table, rows)
        if len(small) == 1:
            ((table, rows),) = small.items()
            await self.insert_rows(conn, table, rows)
        elif small:
            *first, (last_table, last_rows) = small.items()
            statement = insert(last_table).values(list(last_rows))
            for i, (table, rows) in enumerate(first):
                statement = statement.add_cte(insert(table).values(list(rows)).cte(f"ins_{i}"))
            await conn.execute(statement)

    def prepare_location(self) -> None:
        """Nothing to prepare: the server exists already."""


@asynccontextmanager
async def _no_lane() -> AsyncIterator[None]:
    yield
