"""PostgreSQL ≥ 15 (asyncpg): the production engine, several workers, MVCC writers."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import ARRAY, Integer, Table, bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from hub.storage.engines.base import StorageEngine

_COPY_THRESHOLD = 16  # below this, one pipelined INSERT is as quick as COPY
# Arbitrary but fixed key of the transaction-scoped advisory lock guarding the audit hash chain (also taken by
# the commit-time chaining trigger of migration 0005, which repeats the number).
_AUDIT_CHAIN_LOCK = 0x7E1E_AD17
# Namespace (first key) of the two-key advisory locks of StorageEngine.lock_keys; arbitrary but fixed.
_KEY_LOCK_NAMESPACE = 0x7E1E_0C
# unnest scans the (sorted) array in order, so the locks are taken in that order
_LOCK_KEYS = text(
    "SELECT count(pg_advisory_xact_lock(:namespace, k)) FROM unnest(CAST(:keys AS int4[])) AS k"
).bindparams(bindparam("namespace", type_=Integer), bindparam("keys", type_=ARRAY(Integer)))


def _key_hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=4).digest(), "big", signed=True)


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

    @property
    def chains_audit_at_commit(self) -> bool:
        return True

    async def unsuitable(self, conn: AsyncConnection) -> str | None:
        """A database that is not UTF8 cannot store every text a resource may carry, and the audit chain's
        hashes are computed over UTF-8 bytes inside the database (revision 0005)."""
        encoding = (await conn.exec_driver_sql("SHOW server_encoding")).scalar_one()
        if encoding != "UTF8":
            return (
                f"the PostgreSQL database uses encoding {encoding}, telehub needs UTF8: "
                "create it with CREATE DATABASE … ENCODING 'UTF8' (initdb -E UTF8 for a new cluster)"
            )
        return None

    async def lock_audit_chain(self, conn: AsyncConnection) -> None:
        await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_AUDIT_CHAIN_LOCK})")

    async def lock_keys(self, conn: AsyncConnection, keys: Collection[str]) -> None:
        """Transaction-scoped advisory locks (two-int key space: namespace, 32-bit key hash), taken in one
        sorted order so two transactions never wait for each other crosswise.  A hash collision only makes
        two unrelated transactions wait for each other."""
        if keys:
            hashes = sorted({_key_hash(k) for k in keys})
            await conn.execute(_LOCK_KEYS, {"namespace": _KEY_LOCK_NAMESPACE, "keys": hashes})

    async def insert_rows(
        self, conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Large batches go through COPY (binary protocol, in the open transaction): several times faster
        than a pipelined executemany for the hundreds of index rows a Bundle or a PHMR document brings."""
        if len(rows) < _COPY_THRESHOLD:
            await _insert_values(conn, {table: rows})
            return
        columns = list(rows[0])
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.copy_records_to_table(
            table.name, records=[tuple(r[c] for c in columns) for r in rows], columns=columns
        )

    def dialect_insert(self, table: Table) -> postgresql.Insert:
        return postgresql_insert(table)

    async def insert_rows_of_tables(
        self,
        conn: AsyncConnection,
        rows_by_table: Mapping[Table, Sequence[Mapping[str, Any]]],
        *,
        ordered: bool = False,
    ) -> None:
        """Small batches for several tables go in ONE statement (data-modifying CTEs), saving a network round
        trip per table on every write; large ones use COPY per table.  ``ordered``: consecutive small batches
        share a statement, and a large batch waits for the ones before it (foreign keys)."""
        if not ordered:
            small = {t: r for t, r in rows_by_table.items() if r and len(r) < _COPY_THRESHOLD}
            for table, rows in rows_by_table.items():
                if rows and table not in small:
                    await self.insert_rows(conn, table, rows)
            if small:
                await _insert_values(conn, small)
            return
        pending: dict[Table, Sequence[Mapping[str, Any]]] = {}
        for table, rows in rows_by_table.items():
            if not rows:
                continue
            if len(rows) < _COPY_THRESHOLD:
                pending[table] = rows
                continue
            if pending:
                await _insert_values(conn, pending)
                pending = {}
            await self.insert_rows(conn, table, rows)
        if pending:
            await _insert_values(conn, pending)

    async def delete_rows_of_tables(
        self, conn: AsyncConnection, tables: Sequence[Table], rids: Sequence[int]
    ) -> None:
        """ONE statement (data-modifying CTEs) instead of a round trip per table."""
        if tables and rids:
            await conn.exec_driver_sql(_delete_sql(tuple(t.name for t in tables)), (list(rids),))

    async def reserve_keys(
        self, conn: AsyncConnection, counts: Mapping[Table, int]
    ) -> dict[Table, list[int]]:
        """One round trip: ``nextval`` of each table's ``pk`` sequence, ``counts[table]`` times."""
        wanted = {table: n for table, n in counts.items() if n > 0}
        if not wanted:
            return {table: [] for table in counts}
        row = (
            await conn.exec_driver_sql(_reserve_sql(tuple(t.name for t in wanted)), tuple(wanted.values()))
        ).one()
        reserved = {table: [int(k) for k in keys] for table, keys in zip(wanted, row, strict=True)}
        return {table: reserved.get(table, []) for table in counts}

    def prepare_location(self) -> None:
        """Nothing to prepare: the server exists already."""


async def _insert_values(
    conn: AsyncConnection, rows_by_table: Mapping[Table, Sequence[Mapping[str, Any]]]
) -> None:
    """``INSERT … VALUES`` of every table's rows in one statement (all but the last table as data-modifying
    CTEs).  The SQL text depends only on the shape (tables, columns, row counts) and is built once per shape:
    SQLAlchemy cannot cache the compilation of multi-row VALUES, which cost more CPU than the database did."""
    shape = tuple((table.name, tuple(rows[0]), len(rows)) for table, rows in rows_by_table.items())
    params = tuple(
        row[c]
        for (_, columns, _), rows in zip(shape, rows_by_table.values(), strict=True)
        for row in rows
        for c in columns
    )
    await conn.exec_driver_sql(_values_sql(shape), params)


@lru_cache(maxsize=16)
def _delete_sql(tables: tuple[str, ...]) -> str:
    statements = [f'DELETE FROM "{name}" WHERE rid = ANY($1::bigint[])' for name in tables]
    *first, last = statements
    return "".join(
        ["WITH " + ", ".join(f"del_{i} AS ({s})" for i, s in enumerate(first)) + " " if first else "", last]
    )


@lru_cache(maxsize=64)
def _reserve_sql(tables: tuple[str, ...]) -> str:
    columns = ", ".join(
        f"ARRAY(SELECT nextval(pg_get_serial_sequence('{name}', 'pk')) FROM generate_series(1, ${n}::int))"
        for n, name in enumerate(tables, start=1)
    )
    return f"SELECT {columns}"


@lru_cache(maxsize=1024)
def _values_sql(shape: tuple[tuple[str, tuple[str, ...], int], ...]) -> str:
    statements, n = [], 0
    for table, columns, count in shape:
        tuples = []
        for _ in range(count):
            tuples.append("(" + ", ".join(f"${n + i + 1}" for i in range(len(columns))) + ")")
            n += len(columns)
        names = ", ".join(f'"{c}"' for c in columns)
        statements.append(f'INSERT INTO "{table}" ({names}) VALUES {", ".join(tuples)}')
    *first, last = statements
    if not first:
        return last
    return "WITH " + ", ".join(f"ins_{i} AS ({s})" for i, s in enumerate(first)) + " " + last


@asynccontextmanager
async def _no_lane() -> AsyncIterator[None]:
    yield
