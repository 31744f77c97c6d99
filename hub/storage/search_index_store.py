"""SQL that writes the typed search-index tables (one table per parameter type, rows keyed by
``param_hash``; see hub/core/search.py and STORAGE.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.search import (
    DateIndex,
    IndexEntry,
    NumberIndex,
    QuantityIndex,
    ReferenceIndex,
    StringIndex,
    TokenIndex,
    UriIndex,
)
from hub.storage.engines import engine_of
from hub.storage.schema import (
    INDEX_TABLES,
    idx_date,
    idx_number,
    idx_quantity,
    idx_reference,
    idx_string,
    idx_token,
    idx_uri,
    resource,
    resource_version,
)

_R = resource.c
_V = resource_version.c
_MAX = 512  # = hub.fhir.search.normalization.MAX_INDEXED_LENGTH; query values are cut the same way


def _clip(value: str | None, limit: int = _MAX) -> str | None:
    return value[:limit] if value is not None else None


def _row(entry: IndexEntry) -> tuple[Table, dict[str, Any]]:
    v = entry.value
    base: dict[str, Any] = {"param_hash": entry.param_hash}
    match v:
        case TokenIndex():
            return idx_token, base | {"system": _clip(v.system), "code": _clip(v.code), "text": _clip(v.text)}
        case StringIndex():
            return idx_string, base | {"norm": _clip(v.normalized), "exact": _clip(v.exact)}
        case DateIndex():
            return idx_date, base | {"start_us": v.start, "end_us": v.end}
        case NumberIndex():
            return idx_number, base | {"value": float(v.value), "low": float(v.low), "high": float(v.high)}
        case QuantityIndex():
            return idx_quantity, base | {
                "system": _clip(v.system),
                "code": _clip(v.code),
                "unit": _clip(v.unit),
                "value": float(v.value),
                "low": float(v.low),
                "high": float(v.high),
            }
        case ReferenceIndex():
            return idx_reference, base | {
                "target_type": _clip(v.target_type, 64),
                "target_id": _clip(v.target_id, 64),
                "url": _clip(v.url),
                "ident_system": _clip(v.identifier_system),
                "ident_value": _clip(v.identifier_value),
            }
        case UriIndex():
            return idx_uri, base | {"uri": _clip(v.uri)}
    raise TypeError(f"unknown index value {v!r}")


def group_index_rows(
    rows: Sequence[tuple[int, str | None, Sequence[IndexEntry]]],
) -> dict[Table, list[dict[str, Any]]]:
    """Rows for several resources, grouped per table for one executemany each."""
    grouped: dict[Table, list[dict[str, Any]]] = defaultdict(list)
    for rid, patient_key, entries in rows:
        for entry in entries:  # extraction already removed duplicates
            table, values = _row(entry)
            values["rid"] = rid
            values["patient_key"] = patient_key
            grouped[table].append(values)
    return grouped


async def insert_index_txn(
    conn: AsyncConnection, rid: int, patient_key: str | None, entries: Sequence[IndexEntry]
) -> None:
    await insert_index_rows_txn(conn, group_index_rows([(rid, patient_key, entries)]))


async def insert_index_rows_txn(conn: AsyncConnection, grouped: dict[Table, list[dict[str, Any]]]) -> None:
    await engine_of(conn).insert_rows_of_tables(conn, grouped)


async def delete_index_txn(conn: AsyncConnection, rid: int) -> None:
    await engine_of(conn).delete_rows_of_tables(conn, INDEX_TABLES, (rid,))


@dataclass(frozen=True, slots=True)
class IndexedVersion:
    """A resource's current version as the re-indexer reads it."""

    rid: int
    res_type: str
    version: int
    patient_key: str | None
    data: bytes


async def current_versions_txn(
    conn: AsyncConnection, after_rid: int, limit: int, types: Sequence[str] = ()
) -> list[IndexedVersion]:
    """The next ``limit`` live (not deleted) resources after ``after_rid``, in rid order, with their JSON."""
    stmt = (
        select(_R.rid, _R.res_type, _R.version, _R.patient_key, _V.data)
        .join(resource_version, and_(_V.rid == _R.rid, _V.version == _R.version))
        .where(_R.rid > after_rid, _R.deleted.is_(False))
        .order_by(_R.rid)
        .limit(limit)
    )
    if types:
        stmt = stmt.where(_R.res_type.in_(list(types)))
    return [
        IndexedVersion(int(r.rid), str(r.res_type), int(r.version), r.patient_key, bytes(r.data))
        for r in (await conn.execute(stmt)).all()
        if r.data is not None
    ]


async def replace_index_txn(
    conn: AsyncConnection, versions: Sequence[tuple[IndexedVersion, Sequence[IndexEntry]]]
) -> int:
    """Replace the index rows of each resource whose current version is still the one given (a concurrent
    write since then has indexed its own version: that resource is left to it); returns how many were."""
    if not versions:
        return 0
    wanted = {v.rid: v.version for v, _ in versions}
    locked = select(_R.rid, _R.version).where(_R.rid.in_(list(wanted))).with_for_update()
    current = {int(r.rid): int(r.version) for r in (await conn.execute(locked)).all()}
    fresh = [(v, entries) for v, entries in versions if current.get(v.rid) == v.version]
    if not fresh:
        return 0
    await engine_of(conn).delete_rows_of_tables(conn, INDEX_TABLES, [v.rid for v, _ in fresh])
    await insert_index_rows_txn(
        conn, group_index_rows([(v.rid, v.patient_key, entries) for v, entries in fresh])
    )
    return len(fresh)
