"""Stored-query SQL: FindDocuments / FindSubmissionSets / FindFolders and the filtered member reads of the
Get* queries, each ONE statement (IHE ITI TF-2a 3.18.4.1.2.3.7; filter semantics in
``xds.stored_queries.values``).

- codes: OR within a parameter, AND across repeated parameters; single-valued DocumentEntry codes are
  columns (an extra ``code IN (…)`` lets the ``(patient_key, class_code, creation_key)`` index narrow the
  range), multi-valued ones (eventCodeList, confidentialityCode, Folder codeList) are ``EXISTS`` over
  their code tables;
- times: ``low <= key < high`` on DTM start keys; an object without the time never matches;
- authorPerson: case-sensitive LIKE through the engine (GLOB on SQLite);
- Danish negative consent: ``NOT EXISTS`` over ``consent_block`` on the row's ``patient_key``, inside the
  query, with the same semantics as ``hub.storage.search_sql.consent_clause`` for FHIR resources.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.registry_query import (
    CodeCondition,
    EntryCodeField,
    EntryFilter,
    FolderFilter,
    KeyRange,
    ObjectKind,
    Selection,
    StoredObject,
    SubmissionSetFilter,
)
from hub.storage.engines import StorageEngine
from hub.storage.registry_reads import consent_clause, object_select, row_to_object
from hub.storage.schema import (
    xds_document_entry,
    xds_entry_author,
    xds_entry_code,
    xds_entry_reference,
    xds_folder,
    xds_folder_code,
    xds_submission_set,
    xds_submission_set_author,
)
from hub.storage.search_sql import ConsentBlock

E = xds_document_entry.c
S = xds_submission_set.c
F = xds_folder.c


def _code_pair(
    code: ColumnElement[Any], scheme: ColumnElement[Any], group: tuple[tuple[str, str], ...]
) -> ColumnElement[bool]:
    return and_(
        code.in_(sorted({c for c, _ in group})),
        or_(false(), *(and_(code == c, scheme == s) for c, s in group)),
    )


def _range(column: ColumnElement[Any], bounds: KeyRange) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = [column.is_not(None)]
    if bounds.low is not None:
        parts.append(column >= bounds.low)
    if bounds.high is not None:
        parts.append(column < bounds.high)
    return and_(*parts)


def _selection(c: Any, selection: Selection) -> ColumnElement[bool]:
    parts = []
    if selection.entry_uuids:
        parts.append(c.entry_uuid.in_(sorted(set(selection.entry_uuids))))
    if selection.unique_ids:
        parts.append(c.unique_id.in_(sorted(set(selection.unique_ids))))
    if selection.logical_ids:
        parts.append(c.logical_id.in_(sorted(set(selection.logical_ids))))
    return or_(false(), *parts)


def _common(
    c: Any,
    *,
    patient_key: str | None,
    statuses: tuple[str, ...],
    selection: Selection | None,
    latest_only: bool,
    consent: ConsentBlock | None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if patient_key is not None:
        where.append(c.patient_key == patient_key)  # patient first: the leading column of every index
    if statuses:
        where.append(c.status.in_(list(statuses)))
    if selection is not None:
        where.append(_selection(c, selection))
    if latest_only:
        where.append(c.latest.is_(True))
    if consent is not None:
        where.append(consent_clause(c.patient_key, consent))
    return where


def _authors(
    engine: StorageEngine,
    table: Any,
    key: ColumnElement[Any],
    owner: ColumnElement[Any],
    patterns: tuple[str, ...],
) -> ColumnElement[bool]:
    person = table.c.person
    return exists().where(
        key == owner, or_(false(), *(engine.like_case_sensitive(person, p) for p in patterns))
    )


def entry_conditions(
    engine: StorageEngine, f: EntryFilter, consent: ConsentBlock | None
) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a DocumentEntry filter."""
    where = _common(
        E,
        patient_key=f.patient_key,
        statuses=f.statuses,
        selection=f.selection,
        latest_only=f.latest_only,
        consent=consent,
    )
    if f.object_types:
        where.append(E.object_type.in_(list(f.object_types)))
    for field, condition in f.codes:
        code, scheme = _ENTRY_CODE_COLUMNS[field]
        where.extend(_code_pair(code, scheme, group) for group in condition.groups)
    codes = xds_entry_code.c
    for kind, condition in f.code_lists:
        for group in condition.groups:
            where.append(
                exists().where(
                    codes.entry_pk == E.pk,
                    codes.kind == kind.value,
                    _code_pair(codes.code, codes.scheme, group),
                )
            )
    for column, bounds in (
        (E.creation_key, f.creation),
        (E.service_start_key, f.service_start),
        (E.service_stop_key, f.service_stop),
    ):
        if bounds is not None:
            where.append(_range(column, bounds))
    if f.author_patterns:
        where.append(_authors(engine, xds_entry_author, xds_entry_author.c.entry_pk, E.pk, f.author_patterns))
    refs = xds_entry_reference.c
    for values in f.reference_ids:
        where.append(exists().where(refs.entry_pk == E.pk, refs.value.in_(sorted(set(values)))))
    return where


_ENTRY_CODE_COLUMNS = {
    EntryCodeField.CLASS: (E.class_code, E.class_scheme),
    EntryCodeField.TYPE: (E.type_code, E.type_scheme),
    EntryCodeField.FORMAT: (E.format_code, E.format_scheme),
    EntryCodeField.FACILITY: (E.facility_code, E.facility_scheme),
    EntryCodeField.PRACTICE: (E.practice_code, E.practice_scheme),
}


def _folder_codes(condition: CodeCondition) -> list[ColumnElement[bool]]:
    fc = xds_folder_code.c
    return [
        exists().where(fc.folder_pk == F.pk, _code_pair(fc.code, fc.scheme, group))
        for group in condition.groups
    ]


async def _run(conn: AsyncConnection, statement: Select[Any], limit: int | None) -> list[StoredObject]:
    if limit is not None:
        statement = statement.limit(limit)
    return [row_to_object(r) for r in (await conn.execute(statement)).all()]


async def find_entries_txn(
    conn: AsyncConnection,
    engine: StorageEngine,
    f: EntryFilter,
    *,
    consent: ConsentBlock | None = None,
    with_ebrim: bool = True,
    limit: int | None = None,
) -> list[StoredObject]:
    """DocumentEntries matching ``f`` (one statement), oldest first."""
    statement = (
        object_select(ObjectKind.DOCUMENT_ENTRY, xds_document_entry, with_ebrim=with_ebrim)
        .where(and_(true(), *entry_conditions(engine, f, consent)))
        .order_by(E.pk)
    )
    return await _run(conn, statement, limit)


async def find_submission_sets_txn(
    conn: AsyncConnection,
    engine: StorageEngine,
    f: SubmissionSetFilter,
    *,
    consent: ConsentBlock | None = None,
    with_ebrim: bool = True,
    limit: int | None = None,
) -> list[StoredObject]:
    """SubmissionSets matching ``f`` (one statement)."""
    where = _common(
        S,
        patient_key=f.patient_key,
        statuses=f.statuses,
        selection=f.selection,
        latest_only=f.latest_only,
        consent=consent,
    )
    if f.source_ids:
        where.append(S.source_id.in_(sorted(set(f.source_ids))))
    if f.submission_time is not None:
        where.append(_range(S.submission_key, f.submission_time))
    if f.author_patterns:
        authors = xds_submission_set_author
        where.append(_authors(engine, authors, authors.c.set_pk, S.pk, f.author_patterns))
    if f.content_types is not None:
        where.extend(
            _code_pair(S.content_type_code, S.content_type_scheme, group) for group in f.content_types.groups
        )
    statement = (
        object_select(ObjectKind.SUBMISSION_SET, xds_submission_set, with_ebrim=with_ebrim)
        .where(and_(true(), *where))
        .order_by(S.pk)
    )
    return await _run(conn, statement, limit)


async def find_folders_txn(
    conn: AsyncConnection,
    f: FolderFilter,
    *,
    consent: ConsentBlock | None = None,
    with_ebrim: bool = True,
    limit: int | None = None,
) -> list[StoredObject]:
    """Folders matching ``f`` (one statement)."""
    where = _common(
        F,
        patient_key=f.patient_key,
        statuses=f.statuses,
        selection=f.selection,
        latest_only=f.latest_only,
        consent=consent,
    )
    if f.last_update is not None:
        where.append(_range(F.last_update_key, f.last_update))
    if f.codes is not None:
        where.extend(_folder_codes(f.codes))
    statement = (
        object_select(ObjectKind.FOLDER, xds_folder, with_ebrim=with_ebrim)
        .where(and_(true(), *where))
        .order_by(F.pk)
    )
    return await _run(conn, statement, limit)


async def withheld_entries_exist_txn(
    conn: AsyncConnection, engine: StorageEngine, f: EntryFilter, consent: ConsentBlock
) -> bool:
    """Whether consent hid any DocumentEntry matching ``f`` (the hub then warns, never says what)."""
    where = entry_conditions(engine, f, None)
    where.append(not_(consent_clause(E.patient_key, consent)))
    statement = select(exists().where(and_(true(), *where)))
    return bool((await conn.execute(statement)).scalar())
