"""SQL that changes the XDS registry: insert a submission's objects, update status / versions / folder
times, delete objects (IHE ITI TF-2b 3.42 register, 3.57 metadata update, 3.62 delete; ITI TF-3 4.1).

Every function runs inside the caller's transaction (``…_txn``), so a submission's registry rows, document
rows, derived data and audit records commit together or not at all.  Rows arrive as the plain values of
:mod:`hub.core.registry_query`; storage never sees the XDS model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, delete, update
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
from hub.storage.author_names import name_keys
from hub.storage.engines import engine_of
from hub.storage.reference_keys import reference_key
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
        "updated_us": now_us,
        "ebrim": header.ebrim,
    }


def _person(person: str) -> dict[str, Any]:
    family, given = name_keys(person)
    return {"person": person, "family": family, "given": given}


def _reference(entry_pk: int, value: str) -> dict[str, Any]:
    id_value, authority = reference_key(value)
    return {"entry_pk": entry_pk, "value": value, "id_value": id_value, "authority": authority}


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


async def insert_registry_txn(conn: AsyncConnection, write: RegistryWrite, now_us: int) -> None:
    """Insert every object of an accepted submission with its code, author and referenceId rows.

    The objects' keys are reserved first, so every row goes in one multi-table insert (PostgreSQL: ONE
    statement instead of one per table, each a round trip).
    """
    engine = engine_of(conn)
    keys = await engine.reserve_keys(
        conn,
        {
            xds_document_entry: len(write.entries),
            xds_submission_set: len(write.submission_sets),
            xds_folder: len(write.folders),
        },
    )
    entries = list(zip(keys[xds_document_entry], write.entries, strict=True))
    sets = list(zip(keys[xds_submission_set], write.submission_sets, strict=True))
    folders = list(zip(keys[xds_folder], write.folders, strict=True))
    rows: dict[Table, list[dict[str, Any]]] = {
        # parents before the children that reference them
        xds_document_entry: [{"pk": pk, **_entry_values(e, now_us)} for pk, e in entries],
        xds_submission_set: [{"pk": pk, **_set_values(s, now_us)} for pk, s in sets],
        xds_folder: [{"pk": pk, **_folder_values(f, now_us)} for pk, f in folders],
        xds_entry_code: [
            {"entry_pk": pk, "kind": kind.value, "code": code, "scheme": scheme}
            for pk, entry in entries
            for kind, code, scheme in entry.code_lists
        ],
        xds_entry_author: [
            {"entry_pk": pk, **_person(person)} for pk, entry in entries for person in entry.authors
        ],
        xds_entry_reference: [
            _reference(pk, value) for pk, entry in entries for value in entry.reference_ids
        ],
        xds_submission_set_author: [
            {"set_pk": pk, **_person(person)} for pk, row in sets for person in row.authors
        ],
        xds_folder_code: [
            {"folder_pk": pk, "code": code, "scheme": scheme}
            for pk, row in folders
            for code, scheme in row.codes
        ],
        xds_association: [_association_values(a, now_us) for a in write.associations],
    }
    await engine.insert_rows_of_tables(
        conn, {table: batch for table, batch in rows.items() if batch}, ordered=True
    )


async def update_objects_txn(conn: AsyncConnection, updates: Sequence[ObjectUpdate], now_us: int) -> int:
    """Apply status / ebRIM / latest-flag / lastUpdateTime changes, stamping each changed row's
    ``updated_us`` with ``now_us``; returns the number of rows changed."""
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
        values["updated_us"] = now_us
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
