"""SQL for instance- and type-level history (https://hl7.org/fhir/R4/http.html#history).

Newest first, keyset-paged on (last_updated, rid, version) so pages are stable
while new versions arrive.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage.records import StoredResource
from hub.storage.resource_store import COLUMNS, row_to_stored, visible
from hub.storage.schema import resource, resource_version
from hub.storage.search_sql import ConsentBlock

_R = resource.c
_V = resource_version.c


def _where(
    res_type: str | None,
    res_id: str | None,
    since_us: int | None,
    consent: ConsentBlock | None,
    patient_key: str | None,
) -> list[ColumnElement[bool]]:
    where = visible(consent, patient_key)
    if res_type is not None:
        where.append(_V.res_type == res_type)
    if res_id is not None:
        where.append(_R.res_id == res_id)
    if since_us is not None:
        where.append(_V.last_updated >= since_us)
    return where


async def history_txn(
    conn: AsyncConnection,
    *,
    res_type: str | None,
    res_id: str | None,
    since_us: int | None,
    before: tuple[int, int, int] | None,
    limit: int,
    consent: ConsentBlock | None = None,
    patient_key: str | None = None,
) -> list[StoredResource]:
    """Up to ``limit`` versions older than the cursor ``before`` = (last_updated, rid, version)."""
    stmt = select(*COLUMNS).select_from(resource_version.join(resource, _V.rid == _R.rid))
    where = _where(res_type, res_id, since_us, consent, patient_key)
    if before is not None:
        lu, rid, version = before
        where.append(
            or_(
                _V.last_updated < lu,
                and_(_V.last_updated == lu, _V.rid < rid),
                and_(_V.last_updated == lu, _V.rid == rid, _V.version < version),
            )
        )
    stmt = stmt.where(*where).order_by(_V.last_updated.desc(), _V.rid.desc(), _V.version.desc()).limit(limit)
    return [row_to_stored(r) for r in (await conn.execute(stmt)).all()]


async def history_count_txn(
    conn: AsyncConnection,
    *,
    res_type: str | None,
    res_id: str | None,
    since_us: int | None,
    consent: ConsentBlock | None = None,
    patient_key: str | None = None,
) -> int:
    stmt = select(func.count()).select_from(resource_version.join(resource, _V.rid == _R.rid))
    where = _where(res_type, res_id, since_us, consent, patient_key)
    return int((await conn.execute(stmt.where(*where))).scalar_one())


def history_cursor(stored: Sequence[StoredResource]) -> tuple[int, int, int] | None:
    if not stored:
        return None
    last = stored[-1]
    return (last.last_updated, last.rid, last.version)
