"""SQL that changes the XDS registry: insert a submission's objects, update status / versions / folder
times, delete objects (IHE ITI TF-2b 3.42 register, 3.57 metadata update, 3.62 delete; ITI TF-3 4.1).

Every function runs inside the caller's transaction (``…_txn``), so a submission's registry rows, document
rows, derived data and audit records commit together or not at all.  Rows arrive as the plain values of
:mod:`hub.core.registry_query`; storage never sees the XDS model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.registry_query import (
    AssociationRow,
    EntryCodeField,
    EntryRow,
    FolderRow,
    ObjectHeader,
    ObjectKind,
    ObjectUpdate,
    RegistryWrite,
    SubmissionSetRow,
)
from hub.storage.engines import engine_of
from hub.storage.schema import (
    xds_association,
    xds_document_entry,
    xds_entry_author,
    xds_entry_code,
    xds_entry_reference,
    xds_folder,
    xds_folder_code,
    xds_submission_set,
    xds_submission_set_author,
)

_KEY_BATCH = 5000  # entryUUIDs per key lookup (well under SQLite's bound-parameter limit)

OBJECT_TABLES: Mapping[ObjectKind, Table] = {
    ObjectKind.DOCUMENT_ENTRY: xds_document_entry,
    ObjectKind.SUBMISSION_SET: xds_submission_set,
    ObjectKind.FOLDER: xds_folder,
    ObjectKind.ASSOCIATION: xds_association,
}


def _header(header: ObjectHeader, now_us: int) -> dict[str, Any]:
    return {
        "entry_uuid": header.entry_uuid,
        "logical_id": header.logical_id,
        "version": header.version,
        "latest": True,
        "status": header.status,
        "patient_key": header.patient_key,
        "submitted_us": now_us,
        "ebrim": header.ebrim,
    }


def _entry_values(row: EntryRow, now_us: int) -> dict[str, Any]:
    values = _header(row.header, now_us)
    for field in EntryCodeField:
        values[f"{field.value}_code"] = None
        values[f"{field.value}_scheme"] = None
    for field, code, scheme in row.codes:
        values[f"{field.value}_code"] = code
        values[f"{field.value}_scheme"] = scheme
    values.update(
        unique_id=row.unique_id,
        object_type=row.object_type,
        creation_key=row.creation_key,
        service_start_key=row.service_start_key,
        service_stop_key=row.service_stop_key,
        mime_type=row.mime_type,
        hash=row.hash,
        size=row.size,
        repository_unique_id=row.repository_unique_id,
    )
    return values


def _set_values(row: SubmissionSetRow, now_us: int) -> dict[str, Any]:
    values = _header(row.header, now_us)
    code, scheme = row.content_type if row.content_type else (None, None)
    values.update(
        unique_id=row.unique_id,
        source_id=row.source_id,
        submission_key=row.submission_key,
        content_type_code=code,
        content_type_scheme=scheme,
    )
    return values


def _folder_values(row: FolderRow, now_us: int) -> dict[str, Any]:
    values = _header(row.header, now_us)
    values.update(unique_id=row.unique_id, last_update_key=row.last_update_key)
    return values


def _association_values(row: AssociationRow, now_us: int) -> dict[str, Any]:
    values = _header(row.header, now_us)
    values.update(association_type=row.association_type, source_uuid=row.source, target_uuid=row.target)
    return values


async def _insert_returning_pks(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` and return their primary keys in the same order.

    One row: ``INSERT … RETURNING``.  Several: one executemany (the drivers' fast path; INSERT … RETURNING of
    many rows splits into small batches) and one ``SELECT`` of the keys by entryUUID (unique).
    """
    if not rows:
        return []
    if len(rows) == 1:
        result = await conn.execute(insert(table).returning(table.c.pk), rows[0])
        return [int(result.scalar_one())]
    await engine_of(conn).insert_rows(conn, table, rows)
    uuids = [r["entry_uuid"] for r in rows]
    found: dict[str, int] = {}
    for start in range(0, len(uuids), _KEY_BATCH):
        chunk = uuids[start : start + _KEY_BATCH]
        result = await conn.execute(
            select(table.c.entry_uuid, table.c.pk).where(table.c.entry_uuid.in_(chunk))
        )
        found.update((str(uuid), int(pk)) for uuid, pk in result.all())
    return [found[u] for u in uuids]


async def _insert_children(conn: AsyncConnection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    batch = list(rows)
    if batch:
        await engine_of(conn).insert_rows(conn, table, batch)


async def insert_registry_txn(conn: AsyncConnection, write: RegistryWrite, now_us: int) -> None:
    """Insert every object of an accepted submission with its code, author and referenceId rows."""
    entry_pks = await _insert_returning_pks(
        conn, xds_document_entry, [_entry_values(e, now_us) for e in write.entries]
    )
    await _insert_children(
        conn,
        xds_entry_code,
        (
            {"entry_pk": pk, "kind": kind.value, "code": code, "scheme": scheme}
            for pk, entry in zip(entry_pks, write.entries, strict=True)
            for kind, code, scheme in entry.code_lists
        ),
    )
    await _insert_children(
        conn,
        xds_entry_author,
        (
            {"entry_pk": pk, "person": person}
            for pk, entry in zip(entry_pks, write.entries, strict=True)
            for person in entry.authors
        ),
    )
    await _insert_children(
        conn,
        xds_entry_reference,
        (
            {"entry_pk": pk, "value": value}
            for pk, entry in zip(entry_pks, write.entries, strict=True)
            for value in entry.reference_ids
        ),
    )
    set_pks = await _insert_returning_pks(
        conn, xds_submission_set, [_set_values(s, now_us) for s in write.submission_sets]
    )
    await _insert_children(
        conn,
        xds_submission_set_author,
        (
            {"set_pk": pk, "person": person}
            for pk, row in zip(set_pks, write.submission_sets, strict=True)
            for person in row.authors
        ),
    )
    folder_pks = await _insert_returning_pks(
        conn, xds_folder, [_folder_values(f, now_us) for f in write.folders]
    )
    await _insert_children(
        conn,
        xds_folder_code,
        (
            {"folder_pk": pk, "code": code, "scheme": scheme}
            for pk, row in zip(folder_pks, write.folders, strict=True)
            for code, scheme in row.codes
        ),
    )
    await _insert_children(
        conn, xds_association, (_association_values(a, now_us) for a in write.associations)
    )


async def update_objects_txn(conn: AsyncConnection, updates: Sequence[ObjectUpdate]) -> int:
    """Apply status / ebRIM / latest-flag / lastUpdateTime changes; returns the number of rows changed."""
    changed = 0
    for change in updates:
        table = OBJECT_TABLES[change.kind]
        values: dict[str, Any] = {}
        if change.status is not None:
            values["status"] = change.status
        if change.ebrim is not None:
            values["ebrim"] = change.ebrim
        if change.latest is not None:
            values["latest"] = change.latest
        if change.last_update_key is not None and change.kind is ObjectKind.FOLDER:
            values["last_update_key"] = change.last_update_key
        if not values:
            continue
        result = await conn.execute(
            update(table).where(table.c.entry_uuid == change.entry_uuid).values(**values)
        )
        changed += result.rowcount or 0
    return changed


async def delete_objects_txn(conn: AsyncConnection, objects: Mapping[ObjectKind, Sequence[str]]) -> int:
    """Delete registry objects by entryUUID (their code/author/referenceId rows go with them)."""
    deleted = 0
    for kind, uuids in objects.items():
        if not uuids:
            continue
        table = OBJECT_TABLES[kind]
        result = await conn.execute(delete(table).where(table.c.entry_uuid.in_(list(uuids))))
        deleted += result.rowcount or 0
    return deleted
