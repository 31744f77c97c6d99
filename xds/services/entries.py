"""Read DocumentEntries as model objects: by entryUUID, by uniqueId, or by a FindDocuments spec.

For views of the ONE native registry (FHIR DocumentReference read/search, MHD ITI-67/68; ARCHITECTURE.md
"one native registry; MHD is a view"): no second copy exists anywhere.  Danish negative consent and a
citizen's patient scope go INSIDE the SQL, as in ITI-18 (IHE ITI TF-2a 3.18.4.1.2.3.7.1).  The ``…_txn``
variants run on a caller's open connection (e.g. inside a submission transaction).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.registry_query import EntryFilter, Selection
from hub.storage import ConsentBlock, Database, find_entries_txn
from hub.storage.engines import StorageEngine
from xds.model import DocumentEntry
from xds.services.query_filters import find_documents_filter
from xds.services.registry_rows import decode_stamped
from xds.stored_queries import FindDocumentsQuery


async def entries_txn(
    conn: AsyncConnection,
    engine: StorageEngine,
    f: EntryFilter,
    *,
    consent: ConsentBlock | None = None,
    limit: int | None = None,
) -> list[DocumentEntry]:
    """DocumentEntries matching a storage filter, oldest first."""
    return [e for e, _ in await stamped_entries_txn(conn, engine, f, consent=consent, limit=limit)]


async def stamped_entries_txn(
    conn: AsyncConnection,
    engine: StorageEngine,
    f: EntryFilter,
    *,
    consent: ConsentBlock | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[tuple[DocumentEntry, int | None]]:
    """:func:`entries_txn` (a page: at most ``limit`` after ``offset``), each entry with when it last
    changed (epoch µs)."""
    stored = await find_entries_txn(conn, engine, f, consent=consent, limit=limit, offset=offset)
    found = decode_stamped(stored)
    return [(o, at) for o, at in found if isinstance(o, DocumentEntry)]


async def entries_by_uuid_txn(
    conn: AsyncConnection,
    engine: StorageEngine,
    entry_uuids: Collection[str],
    *,
    consent: ConsentBlock | None = None,
) -> list[DocumentEntry]:
    if not entry_uuids:
        return []
    f = EntryFilter(selection=Selection(entry_uuids=tuple(entry_uuids)))
    return await entries_txn(conn, engine, f, consent=consent)


async def entries_by_unique_id_txn(
    conn: AsyncConnection,
    engine: StorageEngine,
    unique_ids: Collection[str],
    *,
    consent: ConsentBlock | None = None,
) -> list[DocumentEntry]:
    """Every version of the DocumentEntries with these uniqueIds."""
    if not unique_ids:
        return []
    f = EntryFilter(selection=Selection(unique_ids=tuple(unique_ids)))
    return await entries_txn(conn, engine, f, consent=consent)


async def document_entries_by_uuid(
    db: Database, entry_uuids: Collection[str], *, consent: ConsentBlock | None = None
) -> list[DocumentEntry]:
    """The DocumentEntries with these entryUUIDs (those hidden by consent are left out)."""
    return await db.run("xds_entries_by_uuid", entries_by_uuid_txn, db.engine, entry_uuids, consent=consent)


async def document_entries_by_unique_id(
    db: Database, unique_ids: Collection[str], *, consent: ConsentBlock | None = None
) -> list[DocumentEntry]:
    """Every version of the DocumentEntries with these uniqueIds (those hidden by consent are left out)."""
    return await db.run(
        "xds_entries_by_unique_id", entries_by_unique_id_txn, db.engine, unique_ids, consent=consent
    )


async def find_documents(
    db: Database,
    query: FindDocumentsQuery,
    *,
    consent: ConsentBlock | None = None,
    limit: int | None = None,
) -> list[DocumentEntry]:
    """The DocumentEntries a FindDocuments query returns (ONE SQL statement), oldest first."""
    f = find_documents_filter(query)
    return await db.run("xds_find_documents", entries_txn, db.engine, f, consent=consent, limit=limit)
