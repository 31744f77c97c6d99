"""SQL that reads registry objects by identity: entryUUID, uniqueId, logicalId, association ends
(what the XDS registry rules look up, IHE ITI TF-2b 3.42.4.1.3 / 3.57.4.1.3 / 3.62.4.1.3, and the Get*
stored queries of ITI TF-2a 3.18.4.1.2.3.7).

Each lookup is one statement: the four object tables are read through ``UNION ALL`` with the same
columns, so a batch of mixed ids costs one round trip.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Select,
    Table,
    and_,
    bindparam,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.registry_query import AssociationFilter, ObjectHeader, ObjectKind, StoredObject
from hub.storage.registry_store import OBJECT_TABLES
from hub.storage.schema import resource, xds_association
from hub.storage.search_sql import ConsentBlock, consent_params
from hub.storage.search_sql import consent_clause as resource_consent_clause

A = xds_association.c


def object_select(kind: ObjectKind, table: Table, *, with_ebrim: bool = True) -> Select[Any]:
    """The common columns of one object table, for :func:`row_to_object`."""
    c = table.c
    is_association = kind is ObjectKind.ASSOCIATION
    return select(
        literal(kind.value).label("kind"),
        c.entry_uuid,
        c.logical_id,
        c.version,
        c.status,
        c.patient_key,
        (c.ebrim if with_ebrim else literal(b"")).label("ebrim"),
        (null() if is_association else c.unique_id).label("unique_id"),
        (c.association_type if is_association else null()).label("association_type"),
        (c.source_uuid if is_association else null()).label("source_uuid"),
        (c.target_uuid if is_association else null()).label("target_uuid"),
        c.updated_us,
    )


def row_to_object(row: Sequence[Any]) -> StoredObject:
    (
        kind,
        entry_uuid,
        logical_id,
        version,
        status,
        patient_key,
        ebrim,
        unique_id,
        atype,
        source,
        target,
        at,
    ) = row
    return StoredObject(
        kind=ObjectKind(kind),
        header=ObjectHeader(
            entry_uuid,
            logical_id,
            int(version),
            status,
            patient_key,
            bytes(ebrim or b""),
            None if at is None else int(at),
        ),
        unique_id=unique_id,
        association_type=atype,
        source=source,
        target=target,
    )


@functools.cache  # a handful of (kinds, column) combinations
def _union_statement(
    kinds: tuple[ObjectKind, ...], column: str, latest_only: bool
) -> Select[Any] | CompoundSelect[Any]:
    """``UNION ALL`` of the object tables of ``kinds`` where ``column`` is IN the expanding parameter
    ``ids``; built once per combination (building one and its cache key cost 0.3 ms per table)."""
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    parts = []
    for kind in kinds:
        table = OBJECT_TABLES[kind]
        condition: ColumnElement[bool] = table.c[column].in_(ids)
        if latest_only:
            condition = and_(condition, table.c.latest.is_(True))
        parts.append(object_select(kind, table).where(condition))
    return parts[0] if len(parts) == 1 else union_all(*parts)


async def _union(
    conn: AsyncConnection,
    kinds: Sequence[ObjectKind],
    column: str,
    ids: Collection[str],
    *,
    latest_only: bool = False,
) -> list[StoredObject]:
    if not ids:
        return []
    statement = _union_statement(tuple(kinds), column, latest_only)
    rows = (await conn.execute(statement, {"ids": sorted(set(ids))})).all()
    return [row_to_object(r) for r in rows]


async def objects_by_uuid_txn(conn: AsyncConnection, entry_uuids: Collection[str]) -> list[StoredObject]:
    """Objects of any kind with these entryUUIDs."""
    return await _union(conn, list(ObjectKind), "entry_uuid", entry_uuids)


async def entries_by_unique_id_txn(conn: AsyncConnection, unique_ids: Collection[str]) -> list[StoredObject]:
    """Every version of the DocumentEntries with these uniqueIds."""
    return await _union(conn, [ObjectKind.DOCUMENT_ENTRY], "unique_id", unique_ids)


async def packages_by_unique_id_txn(conn: AsyncConnection, unique_ids: Collection[str]) -> list[StoredObject]:
    """SubmissionSets and Folders with these uniqueIds."""
    return await _union(conn, [ObjectKind.SUBMISSION_SET, ObjectKind.FOLDER], "unique_id", unique_ids)


async def latest_by_logical_id_txn(conn: AsyncConnection, logical_ids: Collection[str]) -> list[StoredObject]:
    """The latest version of each logical object (ITI-57)."""
    return await _union(conn, list(ObjectKind), "logical_id", logical_ids, latest_only=True)


def consent_clause(patient_key: ColumnElement[Any], block: ConsentBlock | None) -> ColumnElement[bool]:
    """Rows of patients who block the requester (now) are excluded; rows without a patient stay (the same
    clause as FHIR resources, against a registry table's ``patient_key``).  ``block=None`` leaves the values
    to the named parameters of ``hub.storage.search_sql.consent_params``."""
    return resource_consent_clause(block, patient_key)


def association_clause(f: AssociationFilter) -> ColumnElement[bool]:
    """Which associations ``f`` selects; the ends (and the patient key) are the named parameters ``ends``
    (expanding) and ``patient_key``, so the clause depends only on the filter's shape."""
    ends: BindParameter[Any] = bindparam("ends", expanding=True)
    if f.sources_only:
        match: ColumnElement[bool] = A.source_uuid.in_(ends)
    elif f.targets_only:
        match = A.target_uuid.in_(ends)
    elif f.both_ends:
        match = and_(A.source_uuid.in_(ends), A.target_uuid.in_(ends))
    else:
        match = or_(A.source_uuid.in_(ends), A.target_uuid.in_(ends))
    parts = [match]
    if f.types:
        parts.append(A.association_type.in_(list(f.types)))
    if f.statuses:
        parts.append(A.status.in_(list(f.statuses)))
    if f.patient_key is not None:
        parts.append(A.patient_key == bindparam("patient_key"))
    return and_(*parts)


def association_statement(f: AssociationFilter, consented: bool) -> Select[Any]:
    """The statement of an association filter, with named parameters ``ends``, ``patient_key`` and (when
    ``consented``) the consent values; filters that differ only in those share it."""
    shape = dataclasses.replace(f, ends=("?",), patient_key=None if f.patient_key is None else "?")
    return _association_statement(shape, consented)


@functools.lru_cache(maxsize=128)
def _association_statement(shape: AssociationFilter, consented: bool) -> Select[Any]:
    """Built once per filter shape (``shape``: the filter with placeholder ends and patient), with the
    consent clause's named parameters when ``consented``."""
    statement = (
        object_select(ObjectKind.ASSOCIATION, xds_association).where(association_clause(shape)).order_by(A.pk)
    )
    return statement.where(consent_clause(A.patient_key, None)) if consented else statement


async def associations_txn(
    conn: AsyncConnection, f: AssociationFilter, *, consent: ConsentBlock | None = None
) -> list[StoredObject]:
    """Associations touching ``f.ends`` (see :class:`AssociationFilter`), in insertion order; with
    ``consent``, those of patients who block the requester are left out."""
    if not f.ends:
        return []
    params: dict[str, Any] = {"ends": sorted(set(f.ends))}
    if f.patient_key is not None:
        params["patient_key"] = f.patient_key
    if consent is not None:
        params.update(consent_params(consent))
    statement = association_statement(f, consent is not None)
    return [row_to_object(r) for r in (await conn.execute(statement, params)).all()]


async def known_patient_keys_txn(conn: AsyncConnection, patient_keys: Collection[str]) -> set[str]:
    """The subset of ``patient_keys`` that a Patient resource of the hub carries (patient registry mode)."""
    if not patient_keys:
        return set()
    r = resource.c
    statement = (
        select(r.patient_key)
        .where(r.res_type == "Patient", r.deleted.is_(False), r.patient_key.in_(sorted(set(patient_keys))))
        .distinct()
    )
    return {str(k) for k in (await conn.execute(statement)).scalars().all()}
