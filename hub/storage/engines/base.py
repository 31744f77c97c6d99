"""The small engine interface (modelled on Synapse ``storage/engines/_base.py``)."""

from __future__ import annotations

import abc
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy import ColumnElement, Insert, Table, delete, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


class StorageEngine(abc.ABC):
    """What differs between SQLite and PostgreSQL, as methods."""

    name: str

    def __init__(self, url: str) -> None:
        self.url = url

    @abc.abstractmethod
    def create_async_engine(self, *, pool_size: int) -> AsyncEngine:
        """The SQLAlchemy engine, configured for this database."""

    @property
    @abc.abstractmethod
    def migrates_on_start(self) -> bool:
        """True when ``serve`` may upgrade the schema itself (embedded databases)."""

    @abc.abstractmethod
    def write_lane(self) -> AbstractAsyncContextManager[None]:
        """Serialises write transactions where the database needs it (SQLite has one writer)."""

    @abc.abstractmethod
    def prepare_write(self, conn: AsyncConnection) -> None:
        """Called before a write transaction begins on ``conn`` (e.g. to take the write lock up front)."""

    @abc.abstractmethod
    async def lock_audit_chain(self, conn: AsyncConnection) -> None:
        """Serialise appends to the hash-chained audit log within the current transaction."""

    async def unsuitable(self, conn: AsyncConnection) -> str | None:
        """Why this database cannot hold telehub's data (None when it can); checked before migrating or
        starting."""
        return None

    @property
    def chains_audit_at_commit(self) -> bool:
        """True when the database itself chains audit records as the transaction commits (``audit_pending``
        and its trigger, revision 0005); False when the appender hashes them under ``lock_audit_chain``."""
        return False

    @abc.abstractmethod
    async def lock_keys(self, conn: AsyncConnection, keys: Collection[str]) -> None:
        """Serialise the current transaction with every concurrent one that locks any of ``keys``, until it
        ends (e.g. two submissions of one document uniqueId: the second then sees what the first stored)."""

    async def insert_rows(
        self, conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Insert many rows of one table (all with the same keys) as fast as this database allows."""
        if rows:
            await conn.execute(insert(table), list(rows))

    async def insert_rows_of_tables(
        self,
        conn: AsyncConnection,
        rows_by_table: Mapping[Table, Sequence[Mapping[str, Any]]],
        *,
        ordered: bool = False,
    ) -> None:
        """Insert rows into several tables (a resource's index rows): one batch per table by default.

        With ``ordered`` the tables are written in the order given (parents before the children whose foreign
        keys reference them); otherwise an engine may reorder them to save round trips."""
        for table, rows in rows_by_table.items():
            await self.insert_rows(conn, table, rows)

    async def delete_rows_of_tables(
        self, conn: AsyncConnection, tables: Sequence[Table], rids: Sequence[int]
    ) -> None:
        """Delete the rows of resources ``rids`` (column ``rid``) from every table: one statement per table by
        default."""
        for table in tables:
            await conn.execute(delete(table).where(table.c.rid.in_(list(rids))))

    @abc.abstractmethod
    async def reserve_keys(
        self, conn: AsyncConnection, counts: Mapping[Table, int]
    ) -> dict[Table, list[int]]:
        """``counts[table]`` new values of each table's integer primary key ``pk``, reserved for explicit
        inserts (so parent and child rows can be written together without reading generated keys back)."""

    @abc.abstractmethod
    def prepare_location(self) -> None:
        """Create whatever must exist before connecting (e.g. the directory of an SQLite file)."""

    def like_case_sensitive(self, column: ColumnElement[str], pattern: str) -> ColumnElement[bool]:
        """SQL ``LIKE`` without an escape character (``%`` any run, ``_`` one character), case-sensitive.

        XDS stored queries define LIKE this way (ITI TF-2a 3.18.4.1.2.3.5); PostgreSQL's LIKE is already
        case-sensitive, so only its default backslash escape needs neutralising.
        """
        return column.like(pattern.replace("\\", "\\\\"), escape="\\")

    @abc.abstractmethod
    def dialect_insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """This database's own ``INSERT`` construct, which knows ``ON CONFLICT``."""

    def insert_ignoring_conflicts(self, table: Table) -> Insert:
        """``INSERT … ON CONFLICT DO NOTHING``: rows whose key exists already are skipped, not errors."""
        return self.dialect_insert(table).on_conflict_do_nothing()

    def insert_or_update_where(
        self, table: Table, *, keys: Sequence[str], update: Mapping[str, Any], where: ColumnElement[bool]
    ) -> Insert:
        """``INSERT … ON CONFLICT (keys) DO UPDATE SET update WHERE where``: one atomic statement that
        inserts, or updates the existing row only when ``where`` holds for it (else changes nothing)."""
        return self.dialect_insert(table).on_conflict_do_update(
            index_elements=list(keys), set_=dict(update), where=where
        )


class RowValue(ColumnElement[Any]):
    """An index-table value column compared inside a correlated ``EXISTS`` (``rid = resource.rid``).

    Rendered as the plain column here; an engine whose planner needs it renders it differently (SQLite:
    ``+column``, see engines/sqlite.py), which keeps the value index out of the plan.
    """

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012 - SQLAlchemy protocol

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(RowValue)
def _row_value(element: RowValue, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


ENGINE_KEY = "telehub_engine"


def engine_of(conn: AsyncConnection) -> StorageEngine:
    """The engine of a connection opened by ``Database`` (so any ``_txn`` function can reach its methods)."""
    engine = conn.info.get(ENGINE_KEY)
    if not isinstance(engine, StorageEngine):
        raise RuntimeError("connection was not opened through hub.storage.Database")
    return engine


async def lock_keys_txn(conn: AsyncConnection, keys: Collection[str]) -> None:
    """``StorageEngine.lock_keys`` on the engine of ``conn``: until the transaction ends, concurrent
    transactions that lock any of ``keys`` wait (check-then-insert without a unique key to lean on)."""
    await engine_of(conn).lock_keys(conn, keys)
