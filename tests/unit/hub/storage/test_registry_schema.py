"""Revision 0003 creates exactly the XDS tables that ``hub.storage.schema`` describes (both engines)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from hub.storage import Database
from hub.storage.schema import XDS_TABLES, metadata


def _xds_differences(sync_conn: Connection) -> list[Any]:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    names = {t.name for t in XDS_TABLES}

    def concerns_xds(diff: Any) -> bool:
        text = repr(diff)
        return any(name in text for name in names)

    return [d for d in compare_metadata(context, metadata) if concerns_xds(d)]


async def test_migration_matches_schema(database: Database) -> None:
    async with database.sa_engine.connect() as conn:
        differences = await conn.run_sync(_xds_differences)
    assert differences == []
    assert {t.name for t in XDS_TABLES} >= {
        "xds_document_entry",
        "xds_association",
        "xds_repository_document",
    }
