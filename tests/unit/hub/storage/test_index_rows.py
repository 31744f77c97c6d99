"""Index rows of several tables are written and deleted per resource on each engine (PostgreSQL: one statement
each way, data-modifying CTEs)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.search import DateIndex, IndexEntry, SearchParamType, StringIndex, TokenIndex
from hub.storage import Database
from hub.storage.engines import engine_of
from hub.storage.schema import INDEX_TABLES
from hub.storage.search_index_store import delete_index_txn, insert_index_txn

ENTRIES = (
    IndexEntry(1, SearchParamType.TOKEN, TokenIndex("http://loinc.org", "29463-7")),
    IndexEntry(2, SearchParamType.STRING, StringIndex("jensen", "Jensen")),
    IndexEntry(3, SearchParamType.DATE, DateIndex(1, 2)),
)


async def _rows_per_rid(conn: AsyncConnection) -> dict[int, int]:
    counts: dict[int, int] = {}
    for table in INDEX_TABLES:
        for rid, n in (await conn.execute(select(table.c.rid, func.count()).group_by(table.c.rid))).all():
            counts[int(rid)] = counts.get(int(rid), 0) + int(n)
    return counts


async def test_a_resource_s_rows_leave_every_index_table_and_others_stay(database: Database) -> None:
    async def write(conn: AsyncConnection) -> None:
        for rid in (1, 2, 3):
            await insert_index_txn(conn, rid, "2512484916", ENTRIES)

    await database.run_write("test_index", write)
    assert await database.run("test_count", _rows_per_rid) == {1: 3, 2: 3, 3: 3}
    await database.run_write("test_delete", delete_index_txn, 2)
    assert await database.run("test_count", _rows_per_rid) == {1: 3, 3: 3}

    async def delete_many(conn: AsyncConnection) -> None:
        await engine_of(conn).delete_rows_of_tables(conn, INDEX_TABLES, [1, 3, 99])

    await database.run_write("test_delete_many", delete_many)
    assert await database.run("test_count", _rows_per_rid) == {}
