"""SQL of the XDS repository's document rows (IHE ITI TF-2b 3.41.4.1.3 store, 3.43.4.1.3 retrieve).

A row records one document's uniqueId, mimeType, SHA-1 (the XDS ``hash``), SHA-256 (its content address in
:mod:`hub.storage.blob_store`) and size.  Rows are inserted in the submission transaction, after the bytes
are in the blob store, so a committed row always points at stored bytes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.registry_query import RepositoryDocument
from hub.storage.engines import StorageEngine
from hub.storage.registry_reads import consent_clause
from hub.storage.schema import xds_repository_document
from hub.storage.search_sql import ConsentBlock

D = xds_repository_document.c
_COLUMNS = (
    D.unique_id,
    D.repository_unique_id,
    D.mime_type,
    D.sha1,
    D.sha256,
    D.size,
    D.patient_key,
    D.stored_us,
)


def _row(r: Sequence[Any]) -> RepositoryDocument:
    return RepositoryDocument(
        unique_id=r[0],
        repository_unique_id=r[1],
        mime_type=r[2],
        sha1=r[3],
        sha256=r[4],
        size=int(r[5]),
        patient_key=r[6],
        stored_us=int(r[7]),
    )


async def repository_documents_txn(
    conn: AsyncConnection,
    unique_ids: Collection[str],
    *,
    consent: ConsentBlock | None = None,
    patient_key: str | None = None,
) -> dict[str, RepositoryDocument]:
    """The stored documents with these uniqueIds, by uniqueId; documents of patients whose consent blocks
    the requester, or (with ``patient_key``) of other patients, are left out inside the query."""
    if not unique_ids:
        return {}
    statement = select(*_COLUMNS).where(D.unique_id.in_(sorted(set(unique_ids))))
    if patient_key is not None:
        statement = statement.where(D.patient_key == patient_key)
    if consent is not None:
        statement = statement.where(consent_clause(D.patient_key, consent))
    return {row.unique_id: row for row in map(_row, (await conn.execute(statement)).all())}


async def insert_repository_documents_txn(
    conn: AsyncConnection, engine: StorageEngine, documents: Sequence[RepositoryDocument]
) -> None:
    """Insert the rows of newly stored documents; a uniqueId already stored keeps its row (a resubmission
    of the identical document, which the registry rules allow only with the same hash and size)."""
    unique: dict[str, RepositoryDocument] = {}
    for d in documents:
        unique.setdefault(d.unique_id, d)
    if not unique:
        return
    await conn.execute(
        engine.insert_ignoring_conflicts(xds_repository_document),
        [
            {
                "unique_id": d.unique_id,
                "repository_unique_id": d.repository_unique_id,
                "mime_type": d.mime_type,
                "sha1": d.sha1,
                "sha256": d.sha256,
                "size": d.size,
                "patient_key": d.patient_key,
                "stored_us": d.stored_us,
            }
            for d in unique.values()
        ],
    )


async def referenced_blob_keys_txn(conn: AsyncConnection) -> set[str]:
    """Every blob key a repository row references (input of blob garbage collection)."""
    return {str(k) for k in (await conn.execute(select(D.sha256).distinct())).scalars().all()}
