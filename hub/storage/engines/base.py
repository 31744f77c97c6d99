"""The small engine interface (modelled on Synapse ``storage/engines/_base.py``)."""

from __future__ import annotations

import abc
from contextlib import AbstractAsyncContextManager

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


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

    @abc.abstractmethod
    def prepare_location(self) -> None:
        """Create whatever must exist before connecting (e.g. the directory of an SQLite file)."""

    def like_case_sensitive(self, column: ColumnElement[str], pattern: str) -> ColumnElement[bool]:
        """SQL ``LIKE`` without an escape character (``%`` any run, ``_`` one character), case-sensitive.

        XDS stored queries define LIKE this way (ITI TF-2a 3.18.4.1.2.3.5); PostgreSQL's LIKE is already
        case-sensitive, so only its default backslash escape needs neutralising.
        """
        return column.like(pattern.replace("\\", "\\\\"), escape="\\")
