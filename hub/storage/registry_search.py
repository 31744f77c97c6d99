"""Stored-query SQL: FindDocuments / FindSubmissionSets / FindFolders and the filtered member reads of the
Get* queries, each ONE statement (IHE ITI TF-2a 3.18.4.1.2.3.7; filter semantics in
``xds.stored_queries.values``).

- codes: OR within a parameter, AND across repeated parameters; single-valued DocumentEntry codes are
  columns (an extra ``code IN (…)`` lets the ``(patient_key, class_code, creation_key)`` index narrow the
  range), multi-valued ones (eventCodeList, confidentialityCode, Folder codeList) are ``EXISTS`` over
  their code tables;
- times: ``low <= key < high`` on DTM start keys; an object without the time never matches;
- authorPerson: case-sensitive LIKE through the engine (GLOB on SQLite); MHD's name searches
  (``author.given``, ``source.family`` …) match the stored search forms of its names by prefix
  (``hub.storage.author_names``);
- Danish negative consent: ``NOT EXISTS`` over ``consent_block`` on the row's ``patient_key``, inside the
  query, with the same semantics as ``hub.storage.search_sql.consent_clause`` for FHIR resources.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.registry_query import (
    CodeCondition,
    EntryCodeField,
    EntryFilter,
    FolderFilter,
    KeyRange,
    NameCondition,
    ObjectKind,
    ReferenceKey,
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
from hub.storage.search_sql import ConsentBlock, consent_params

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


def _named(name: str, *, expanding: bool = False) -> Any:
    """A value left to the named bind parameter ``name``: statements depend only on a filter's shape and are
    built once (:func:`entry_statement`, :func:`set_statement`, :func:`folder_statement`); the ``*_params``
    functions supply the values by the same names."""
    return bindparam(name, expanding=expanding)


def _range(column: ColumnElement[Any], bounds: KeyRange, name: str) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = [column.is_not(None)]
    if bounds.low is not None:
        parts.append(column >= _named(f"{name}_low"))
    if bounds.high is not None:
        parts.append(column < _named(f"{name}_high"))
    return and_(*parts)


_SELECTIONS = (
    ("entry_uuid", "sel_uuids", "entry_uuids"),
    ("unique_id", "sel_unique_ids", "unique_ids"),
    ("logical_id", "sel_logical_ids", "logical_ids"),
)


def _selection(c: Any, selection: Selection) -> ColumnElement[bool]:
    parts = [
        getattr(c, column).in_(_named(name, expanding=True))
        for column, name, field in _SELECTIONS
        if getattr(selection, field)
    ]
    return or_(false(), *parts)


def _common(
    c: Any, f: EntryFilter | SubmissionSetFilter | FolderFilter, consented: bool
) -> list[ColumnElement[bool]]:
    """Patient, status, selected ids, latest version and consent: the conditions every object kind shares."""
    where: list[ColumnElement[bool]] = []
    if f.patient_key is not None:  # patient first: the leading column of every index
        where.append(c.patient_key == _named("patient_key"))
    if f.statuses:
        where.append(c.status.in_(list(f.statuses)))
    if f.selection is not None:
        where.append(_selection(c, f.selection))
    if f.latest_only:
        where.append(c.latest.is_(True))
    if f.updated is not None:
        where.append(_range(c.updated_us, f.updated, "updated"))
    if consented:
        # the clause's own bind names (consent_auth, consent_sor, consent_now), values at execution
        where.append(consent_clause(c.patient_key, None))
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


def _names(
    table: Any, key: ColumnElement[Any], owner: ColumnElement[Any], conditions: tuple[NameCondition, ...]
) -> list[ColumnElement[bool]]:
    """One ``EXISTS`` over the author table per condition (AND); its prefixes are named parameters
    ``author_name_<n>_<k>`` (and ``…_later`` for a given name after the first), see :func:`_name_params`."""
    out: list[ColumnElement[bool]] = []
    for n, condition in enumerate(conditions):
        column = table.c.family if condition.part == "family" else table.c.given
        alternatives = []
        for k in range(len(condition.prefixes)):
            alternatives.append(column.like(_named(f"author_name_{n}_{k}"), escape="\\"))
            if condition.part == "given":
                alternatives.append(column.like(_named(f"author_name_{n}_{k}_later"), escape="\\"))
        out.append(exists().where(key == owner, or_(false(), *alternatives)))
    return out


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _name_params(conditions: tuple[NameCondition, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for n, condition in enumerate(conditions):
        for k, prefix in enumerate(condition.prefixes):
            values[f"author_name_{n}_{k}"] = _like_literal(prefix) + "%"
            if condition.part == "given":
                values[f"author_name_{n}_{k}_later"] = "% " + _like_literal(prefix) + "%"
    return values


def _names_free(conditions: tuple[NameCondition, ...]) -> tuple[NameCondition, ...]:
    return tuple(NameCondition(c.part, tuple(_ANY for _ in c.prefixes)) for c in conditions)


def entry_conditions(engine: StorageEngine, f: EntryFilter, consented: bool) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a DocumentEntry filter: the patient, the time ranges, the selected ids, the
    referenceIds and the consent values are named bind parameters (:func:`entry_params`); the codes,
    statuses, object types and author patterns stay literal (they recur across requests and shape plans)."""
    where: list[ColumnElement[bool]] = _common(E, f, consented)
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
    for column, name, bounds in (
        (E.creation_key, "creation", f.creation),
        (E.service_start_key, "service_start", f.service_start),
        (E.service_stop_key, "service_stop", f.service_stop),
    ):
        if bounds is not None:
            where.append(_range(column, bounds, name))
    if f.author_patterns:
        where.append(_authors(engine, xds_entry_author, xds_entry_author.c.entry_pk, E.pk, f.author_patterns))
    where.extend(_names(xds_entry_author, xds_entry_author.c.entry_pk, E.pk, f.author_names))
    refs = xds_entry_reference.c
    for n in range(len(f.reference_ids)):
        chosen = _named(f"reference_ids_{n}", expanding=True)
        where.append(exists().where(refs.entry_pk == E.pk, refs.value.in_(chosen)))
    for n, keys in enumerate(f.reference_keys):
        alternatives = [_reference_key(f"ref_key_{n}_{k}", key) for k, key in enumerate(keys)]
        where.append(exists().where(refs.entry_pk == E.pk, or_(false(), *alternatives)))
    return where


def _reference_key(name: str, key: ReferenceKey) -> ColumnElement[bool]:
    """One ``related:identifier`` alternative on the referenceId's CX.1 (``name``) and CX.4 universal id
    (``name_authority``), see :func:`_reference_key_params`."""
    refs = xds_entry_reference.c
    parts: list[ColumnElement[bool]] = []
    if key.value is not None:
        parts.append(refs.id_value == _named(name))
    if key.authority == "":
        parts.append(refs.authority.is_(None))
    elif key.authority is not None:
        parts.append(refs.authority == _named(f"{name}_authority"))
    return and_(true(), *parts)


def _reference_key_params(groups: tuple[tuple[ReferenceKey, ...], ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for n, group in enumerate(groups):
        for k, key in enumerate(group):
            if key.value is not None:
                values[f"ref_key_{n}_{k}"] = key.value
            if key.authority:
                values[f"ref_key_{n}_{k}_authority"] = key.authority
    return values


def _reference_keys_free(
    groups: tuple[tuple[ReferenceKey, ...], ...],
) -> tuple[tuple[ReferenceKey, ...], ...]:
    return tuple(
        tuple(
            ReferenceKey(None if k.value is None else _ANY, _ANY if k.authority else k.authority)
            for k in group
        )
        for group in groups
    )


_ANY = "?"  # a placeholder for a value that is a named parameter
_F = TypeVar("_F", EntryFilter, SubmissionSetFilter, FolderFilter)


def _bounds(r: KeyRange | None) -> KeyRange | None:
    return None if r is None else KeyRange(None if r.low is None else 0, None if r.high is None else 0)


def _some(values: tuple[str, ...]) -> tuple[str, ...]:
    return (_ANY,) if values else ()


def _common_free(f: _F, **ranges: KeyRange | None) -> _F:
    """``f`` with the patient, the selected ids and the time ``ranges`` replaced by placeholders: what a
    statement with named parameters depends on, and so the key it is remembered by."""
    s = f.selection
    changes: dict[str, Any] = {name: _bounds(r) for name, r in {**ranges, "updated": f.updated}.items()}
    changes["patient_key"] = None if f.patient_key is None else _ANY
    if s is not None:
        changes["selection"] = Selection(_some(s.entry_uuids), _some(s.unique_ids), _some(s.logical_ids))
    return dataclasses.replace(f, **changes)


def _value_free(f: EntryFilter) -> EntryFilter:
    free = _common_free(f, creation=f.creation, service_start=f.service_start, service_stop=f.service_stop)
    return dataclasses.replace(
        free,
        reference_ids=tuple((_ANY,) for _ in f.reference_ids),
        reference_keys=_reference_keys_free(f.reference_keys),
        author_names=_names_free(f.author_names),
    )


def _common_params(
    f: EntryFilter | SubmissionSetFilter | FolderFilter,
    consent: ConsentBlock | None,
    **ranges: KeyRange | None,
) -> dict[str, Any]:
    """The values of the named parameters :func:`_common` and :func:`_range` write (same names)."""
    values: dict[str, Any] = {}
    if f.patient_key is not None:
        values["patient_key"] = f.patient_key
    if f.selection is not None:
        for _, name, field in _SELECTIONS:
            chosen = getattr(f.selection, field)
            if chosen:
                values[name] = sorted(set(chosen))
    if consent is not None:
        values.update(consent_params(consent))
    for name, r in {**ranges, "updated": f.updated}.items():
        if r is not None and r.low is not None:
            values[f"{name}_low"] = r.low
        if r is not None and r.high is not None:
            values[f"{name}_high"] = r.high
    return values


def entry_params(f: EntryFilter, consent: ConsentBlock | None) -> dict[str, Any]:
    """The values of the named bind parameters of :func:`entry_statement` (same names)."""
    values = _common_params(
        f, consent, creation=f.creation, service_start=f.service_start, service_stop=f.service_stop
    )
    for n, chosen in enumerate(f.reference_ids):
        values[f"reference_ids_{n}"] = sorted(set(chosen))
    values.update(_reference_key_params(f.reference_keys))
    values.update(_name_params(f.author_names))
    return values


def _statement(
    kind: str,
    object_kind: ObjectKind,
    table: Table,
    where: Callable[[bool], list[ColumnElement[bool]]],
    consented: bool,
    with_ebrim: bool,
    limit: int | None,
) -> Select[Any]:
    """One object kind's statement for its conditions ``where(consented)``: "find" (oldest first; with a
    ``limit``, that many rows from the named offset ``page_offset``), "count", or "withheld" (did consent
    hide any match?)."""
    c = table.c
    if kind == "withheld":
        hidden = not_(consent_clause(c.patient_key, None))
        return select(exists().where(and_(true(), *where(False), hidden)))
    if kind == "count":
        return select(func.count()).select_from(table).where(and_(true(), *where(consented)))
    statement = (
        object_select(object_kind, table, with_ebrim=with_ebrim)
        .where(and_(true(), *where(consented)))
        .order_by(c.pk)
    )
    return statement if limit is None else statement.limit(limit).offset(_named("page_offset"))


def _paged(params: dict[str, Any], limit: int | None, offset: int) -> dict[str, Any]:
    if limit is not None:
        params["page_offset"] = max(offset, 0)
    return params


def entry_statement(
    engine: StorageEngine,
    f: EntryFilter,
    consent: ConsentBlock | None,
    kind: str,
    with_ebrim: bool,
    limit: int | None = None,
) -> Select[Any]:
    """The statement of a DocumentEntry filter (``kind`` of :func:`_statement`), with named parameters;
    executed with :func:`entry_params` (and ``page_offset`` when there is a ``limit``)."""
    return _built_entry_statement(engine, _value_free(f), consent is not None, kind, with_ebrim, limit)


@functools.lru_cache(maxsize=256)
def _built_entry_statement(
    engine: StorageEngine, shape: EntryFilter, consented: bool, kind: str, with_ebrim: bool, limit: int | None
) -> Select[Any]:
    """Built once per shape: building a statement and SQLAlchemy's cache key cost about 2 ms a query."""
    return _statement(
        kind,
        ObjectKind.DOCUMENT_ENTRY,
        xds_document_entry,
        lambda consented_: entry_conditions(engine, shape, consented_),
        consented,
        with_ebrim,
        limit,
    )


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


async def find_entries_txn(
    conn: AsyncConnection,
    engine: StorageEngine,
    f: EntryFilter,
    *,
    consent: ConsentBlock | None = None,
    with_ebrim: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> list[StoredObject]:
    """DocumentEntries matching ``f`` (one statement), oldest first; at most ``limit`` after ``offset``."""
    statement = entry_statement(engine, f, consent, "find", with_ebrim, limit)
    rows = (await conn.execute(statement, _paged(entry_params(f, consent), limit, offset))).all()
    return [row_to_object(r) for r in rows]


@functools.lru_cache(maxsize=256)
def _set_statement(
    engine: StorageEngine,
    shape: SubmissionSetFilter,
    consented: bool,
    kind: str,
    with_ebrim: bool,
    limit: int | None,
) -> Select[Any]:
    return _statement(
        kind,
        ObjectKind.SUBMISSION_SET,
        xds_submission_set,
        lambda consented_: _set_conditions(engine, shape, consented_),
        consented,
        with_ebrim,
        limit,
    )


def _set_conditions(
    engine: StorageEngine, shape: SubmissionSetFilter, consented: bool
) -> list[ColumnElement[bool]]:
    where = _common(S, shape, consented)
    if shape.source_ids:
        where.append(S.source_id.in_(_named("source_ids", expanding=True)))
    if shape.submission_time is not None:
        where.append(_range(S.submission_key, shape.submission_time, "submission_time"))
    authors = xds_submission_set_author
    if shape.author_patterns:
        where.append(_authors(engine, authors, authors.c.set_pk, S.pk, shape.author_patterns))
    where.extend(_names(authors, authors.c.set_pk, S.pk, shape.author_names))
    if shape.content_types is not None:
        where.extend(
            _code_pair(S.content_type_code, S.content_type_scheme, group)
            for group in shape.content_types.groups
        )
    return where


async def find_submission_sets_txn(
    conn: AsyncConnection,
    engine: StorageEngine,
    f: SubmissionSetFilter,
    *,
    consent: ConsentBlock | None = None,
    with_ebrim: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> list[StoredObject]:
    """SubmissionSets matching ``f`` (one statement, built once per filter shape), oldest first; at most
    ``limit`` after ``offset``."""
    statement, params = set_query(engine, f, consent, with_ebrim, limit, offset=offset)
    rows = (await conn.execute(statement, params)).all()
    return [row_to_object(r) for r in rows]


async def count_submission_sets_txn(
    conn: AsyncConnection,
    engine: StorageEngine,
    f: SubmissionSetFilter,
    *,
    consent: ConsentBlock | None = None,
) -> int:
    """How many SubmissionSets match ``f`` (consent applied as in :func:`find_submission_sets_txn`)."""
    statement, params = set_query(engine, f, consent, False, None, kind="count")
    return int((await conn.execute(statement, params)).scalar_one())


async def withheld_sets_exist_txn(
    conn: AsyncConnection, engine: StorageEngine, f: SubmissionSetFilter, consent: ConsentBlock
) -> bool:
    """Whether consent hid any SubmissionSet matching ``f``."""
    statement, params = set_query(engine, f, None, False, None, kind="withheld")
    return bool((await conn.execute(statement, {**params, **consent_params(consent)})).scalar())


def set_query(
    engine: StorageEngine,
    f: SubmissionSetFilter,
    consent: ConsentBlock | None,
    with_ebrim: bool,
    limit: int | None,
    *,
    kind: str = "find",
    offset: int = 0,
) -> tuple[Select[Any], dict[str, Any]]:
    """The (remembered) statement of a SubmissionSet filter (``kind`` of :func:`_statement`) and the values
    of its named parameters (with a ``limit``, the page starts after ``offset``)."""
    shape = dataclasses.replace(
        _common_free(f, submission_time=f.submission_time),
        source_ids=_some(f.source_ids),
        author_names=_names_free(f.author_names),
    )
    params = _common_params(f, consent, submission_time=f.submission_time)
    if f.source_ids:
        params["source_ids"] = sorted(set(f.source_ids))
    params.update(_name_params(f.author_names))
    return _set_statement(engine, shape, consent is not None, kind, with_ebrim, limit), _paged(
        params, limit, offset
    )


@functools.lru_cache(maxsize=256)
def _folder_statement(
    shape: FolderFilter, consented: bool, kind: str, with_ebrim: bool, limit: int | None
) -> Select[Any]:
    return _statement(
        kind,
        ObjectKind.FOLDER,
        xds_folder,
        lambda consented_: _folder_conditions(shape, consented_),
        consented,
        with_ebrim,
        limit,
    )


def _folder_conditions(shape: FolderFilter, consented: bool) -> list[ColumnElement[bool]]:
    where = _common(F, shape, consented)
    if shape.last_update is not None:
        where.append(_range(F.last_update_key, shape.last_update, "last_update"))
    if shape.codes is not None:
        where.extend(_folder_codes(shape.codes))
    return where


async def find_folders_txn(
    conn: AsyncConnection,
    f: FolderFilter,
    *,
    consent: ConsentBlock | None = None,
    with_ebrim: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> list[StoredObject]:
    """Folders matching ``f`` (one statement, built once per filter shape), oldest first; at most ``limit``
    after ``offset``."""
    statement, params = folder_query(f, consent, with_ebrim, limit, offset=offset)
    rows = (await conn.execute(statement, params)).all()
    return [row_to_object(r) for r in rows]


async def withheld_folders_exist_txn(conn: AsyncConnection, f: FolderFilter, consent: ConsentBlock) -> bool:
    """Whether consent hid any Folder matching ``f``."""
    statement, params = folder_query(f, None, False, None, kind="withheld")
    return bool((await conn.execute(statement, {**params, **consent_params(consent)})).scalar())


def folder_query(
    f: FolderFilter,
    consent: ConsentBlock | None,
    with_ebrim: bool,
    limit: int | None,
    *,
    kind: str = "find",
    offset: int = 0,
) -> tuple[Select[Any], dict[str, Any]]:
    """The (remembered) statement of a Folder filter (``kind`` of :func:`_statement`) and the values of its
    named parameters (with a ``limit``, the page starts after ``offset``)."""
    shape = _common_free(f, last_update=f.last_update)
    params = _common_params(f, consent, last_update=f.last_update)
    return _folder_statement(shape, consent is not None, kind, with_ebrim, limit), _paged(
        params, limit, offset
    )


async def withheld_entries_exist_txn(
    conn: AsyncConnection, engine: StorageEngine, f: EntryFilter, consent: ConsentBlock
) -> bool:
    """Whether consent hid any DocumentEntry matching ``f`` (the hub then warns, never says what)."""
    statement = entry_statement(engine, f, consent, "withheld", False)
    params = {**entry_params(f, None), **consent_params(consent)}
    return bool((await conn.execute(statement, params)).scalar())
