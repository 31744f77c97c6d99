"""SQL for FHIR resources and their versions (https://hl7.org/fhir/R4/http.html).

The ``resource`` row is the head of a logical resource; every version,
including delete markers, is a ``resource_version`` row holding the JSON bytes
exactly as served.  Index rows (``search_index_store``) always describe the
current version and vanish on delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import ConflictError
from hub.core.search import IndexEntry
from hub.storage.engines import engine_of
from hub.storage.records import CurrentState, StoredResource
from hub.storage.schema import resource, resource_version
from hub.storage.search_index_store import (
    delete_index_txn,
    group_index_rows,
    insert_index_rows_txn,
    insert_index_txn,
)
from hub.storage.search_sql import ConsentBlock, consent_clause, consent_params

_R = resource.c
_V = resource_version.c

# Statements of the write path built once: SQLAlchemy memoises their cache keys on the objects, where a
# statement built per call costs more Python than its round trip to the database.
_INSERT_HEAD = (
    insert(resource)
    .values(
        res_type=bindparam("res_type"),
        res_id=bindparam("res_id"),
        version=1,
        deleted=False,
        last_updated=bindparam("last_updated"),
        patient_key=bindparam("patient_key"),
    )
    .returning(_R.rid)
)
_INSERT_FIRST_VERSION = insert(resource_version).values(
    rid=bindparam("rid"),
    version=1,
    res_type=bindparam("res_type"),
    last_updated=bindparam("last_updated"),
    method=bindparam("method"),
    deleted=False,
    patient_key=bindparam("patient_key"),
    data=bindparam("data"),
)
_PATIENT_KEYS = select(_R.res_id, _R.patient_key).where(
    _R.res_type == "Patient", _R.res_id.in_(bindparam("ids", expanding=True)), _R.patient_key.is_not(None)
)

COLUMNS = (
    _R.rid,
    _R.res_type,
    _R.res_id,
    _V.version,
    _V.last_updated,
    _V.deleted,
    _V.data,
    _V.method,
    _R.patient_key,
)
_CURRENT = select(*COLUMNS).select_from(
    resource.join(resource_version, and_(_V.rid == _R.rid, _V.version == _R.version))
)


def visible(consent: ConsentBlock | None, patient_key: str | None) -> list[ColumnElement[bool]]:
    """Consent and compartment restrictions of the requester (a blocked resource reads as unknown)."""
    where: list[ColumnElement[bool]] = []
    if consent is not None:
        where.append(consent_clause(consent))
    if patient_key is not None:
        where.append(_R.patient_key == patient_key)
    return where


def _read_statement(consent: bool, patient: bool) -> Select[Any]:
    stmt = _CURRENT.where(_R.res_type == bindparam("res_type"), _R.res_id == bindparam("res_id"))
    if consent:
        stmt = stmt.where(consent_clause())
    if patient:
        stmt = stmt.where(_R.patient_key == bindparam("patient_key"))
    return stmt


# The hot read path: four statement objects built once, so SQLAlchemy computes their cache keys once.
_READS = {(c, p): _read_statement(c, p) for c in (False, True) for p in (False, True)}


def row_to_stored(row: Sequence[object]) -> StoredResource:
    rid, rtype, rid_s, version, last_updated, deleted, data, method, patient_key = row
    return StoredResource(
        rid=int(rid),  # type: ignore[call-overload]
        res_type=str(rtype),
        res_id=str(rid_s),
        version=int(version),  # type: ignore[call-overload]
        last_updated=int(last_updated),  # type: ignore[call-overload]
        deleted=bool(deleted),
        data=bytes(data) if data is not None else None,  # type: ignore[call-overload]
        method=str(method),
        patient_key=str(patient_key) if patient_key is not None else None,
    )


async def read_current_txn(
    conn: AsyncConnection,
    res_type: str,
    res_id: str,
    consent: ConsentBlock | None = None,
    patient_key: str | None = None,
) -> StoredResource | None:
    params: dict[str, object] = {"res_type": res_type, "res_id": res_id, "patient_key": patient_key}
    if consent is not None:
        params.update(consent_params(consent))
    result = await conn.execute(_READS[(consent is not None, patient_key is not None)], params)
    row = result.first()
    return row_to_stored(row) if row is not None else None


async def read_current_many_txn(conn: AsyncConnection, rids: Sequence[int]) -> list[StoredResource]:
    """Current versions of ``rids`` in the order given (missing/deleted ones left out)."""
    if not rids:
        return []
    result = await conn.execute(_CURRENT.where(_R.rid.in_(list(rids)), _R.deleted.is_(False)))
    by_rid = {s.rid: s for s in (row_to_stored(r) for r in result)}
    return [by_rid[r] for r in rids if r in by_rid]


async def read_version_txn(
    conn: AsyncConnection,
    res_type: str,
    res_id: str,
    version: int,
    consent: ConsentBlock | None = None,
    patient_key: str | None = None,
) -> StoredResource | None:
    stmt = (
        select(*COLUMNS)
        .select_from(resource.join(resource_version, _V.rid == _R.rid))
        .where(
            _R.res_type == res_type,
            _R.res_id == res_id,
            _V.version == version,
            *visible(consent, patient_key),
        )
    )
    row = (await conn.execute(stmt)).first()
    return row_to_stored(row) if row is not None else None


async def lock_current_txn(conn: AsyncConnection, res_type: str, res_id: str) -> CurrentState | None:
    """The head row, locked against concurrent writers until the transaction ends (no-op lock on SQLite,
    whose single writer lane already serialises writes)."""
    stmt = (
        select(_R.rid, _R.version, _R.deleted, _R.last_updated, _R.patient_key)
        .where(_R.res_type == res_type, _R.res_id == res_id)
        .with_for_update()
    )
    row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    return CurrentState(
        rid=int(row.rid),
        version=int(row.version),
        deleted=bool(row.deleted),
        last_updated=int(row.last_updated),
        patient_key=row.patient_key,
    )


async def insert_new_txn(
    conn: AsyncConnection,
    *,
    res_type: str,
    res_id: str,
    last_updated: int,
    patient_key: str | None,
    data: bytes,
    method: str,
    index: Sequence[IndexEntry],
) -> int:
    """Create a logical resource at version 1; a duplicate id is a ConflictError."""
    head = {"res_type": res_type, "res_id": res_id, "last_updated": last_updated, "patient_key": patient_key}
    try:
        result = await conn.execute(_INSERT_HEAD, head)
    except IntegrityError as exc:
        raise ConflictError(f"{res_type}/{res_id} already exists") from exc
    rid = int(result.scalar_one())
    await conn.execute(
        _INSERT_FIRST_VERSION,
        {
            "rid": rid,
            "res_type": res_type,
            "last_updated": last_updated,
            "method": method,
            "patient_key": patient_key,
            "data": data,
        },
    )
    await insert_index_txn(conn, rid, patient_key, index)
    return rid


async def write_version_txn(
    conn: AsyncConnection,
    *,
    rid: int,
    res_type: str,
    version: int,
    last_updated: int,
    patient_key: str | None,
    data: bytes | None,
    method: str,
    index: Sequence[IndexEntry],
) -> None:
    """Append ``version`` (an update, or a delete marker when ``data`` is None) and re-index."""
    deleted = data is None
    await conn.execute(
        update(resource)
        .where(_R.rid == rid)
        .values(
            version=version,
            deleted=deleted,
            last_updated=last_updated,
            patient_key=patient_key,
        )
    )
    await conn.execute(
        insert(resource_version).values(
            rid=rid,
            version=version,
            res_type=res_type,
            last_updated=last_updated,
            method=method,
            deleted=deleted,
            patient_key=patient_key,
            data=data,
        )
    )
    await delete_index_txn(conn, rid)
    if not deleted:
        await insert_index_txn(conn, rid, patient_key, index)


@dataclass(frozen=True, slots=True)
class NewResource:
    """One resource of a bulk create (transaction Bundles, data loads)."""

    res_type: str
    res_id: str
    last_updated: int
    patient_key: str | None
    data: bytes
    index: Sequence[IndexEntry]


async def insert_new_many_txn(conn: AsyncConnection, items: Sequence[NewResource], method: str) -> list[int]:
    """Create many logical resources at version 1 with three multi-row statements plus one per index table."""
    if not items:
        return []
    try:
        # RETURNING the natural key too: rows are matched by (type, id), so no engine has to guarantee the
        # order of a multi-row INSERT ... RETURNING (SQLite does not), and every engine can batch it.
        result = await conn.execute(
            insert(resource).returning(_R.rid, _R.res_type, _R.res_id),
            [
                {
                    "res_type": i.res_type,
                    "res_id": i.res_id,
                    "version": 1,
                    "deleted": False,
                    "last_updated": i.last_updated,
                    "patient_key": i.patient_key,
                }
                for i in items
            ],
        )
    except IntegrityError as exc:
        raise ConflictError("a resource with one of these ids already exists") from exc
    by_key = {(str(t), str(i)): int(r) for r, t, i in result.all()}
    rids = [by_key[(i.res_type, i.res_id)] for i in items]
    await engine_of(conn).insert_rows(
        conn,
        resource_version,
        [
            {
                "rid": rid,
                "version": 1,
                "res_type": i.res_type,
                "last_updated": i.last_updated,
                "method": method,
                "deleted": False,
                "patient_key": i.patient_key,
                "data": i.data,
            }
            for rid, i in zip(rids, items, strict=True)
        ],
    )
    grouped = group_index_rows([(rid, i.patient_key, i.index) for rid, i in zip(rids, items, strict=True)])
    await insert_index_rows_txn(conn, grouped)
    return rids


_PATIENTS_OF_KEY = (
    select(_R.res_id)
    .where(_R.patient_key == bindparam("key"), _R.res_type == "Patient", _R.deleted.is_(False))
    .order_by(_R.rid)
    .limit(2)
)


async def patient_ids_of_key_txn(conn: AsyncConnection, patient_key: str) -> list[str]:
    """The ids of (at most two) live Patients whose ``patient_key`` is ``patient_key`` - enough to tell
    none, one or several apart; one prebuilt statement."""
    return [str(r.res_id) for r in (await conn.execute(_PATIENTS_OF_KEY, {"key": patient_key})).all()]


async def patient_keys_txn(conn: AsyncConnection, patient_ids: Sequence[str]) -> dict[str, str]:
    """The ``patient_key`` of existing Patients (their CPR when they carry one, else their id)."""
    if not patient_ids:
        return {}
    rows = (await conn.execute(_PATIENT_KEYS, {"ids": sorted(set(patient_ids))})).all()
    return {str(r.res_id): str(r.patient_key) for r in rows}
