"""SQL that runs searches: one keyset page, an exact total, and one level of _include/_revinclude."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, exists, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.search import Criterion, SortKey
from hub.storage.records import StoredResource
from hub.storage.resource_store import read_current_many_txn
from hub.storage.schema import consent_block, idx_reference, resource
from hub.storage.search_sql import ConsentBlock, base_query, block_applies, consent_params, keyset_params
from hub.storage.search_statements import (
    SearchShape,
    count_statement,
    page_statement,
    search_shape,
    withheld_statement,
)

R = resource.c
X = idx_reference.c
_B = consent_block.c
# The Patient a search names: its key (its CPR when it carries one), and whether a consent block of the
# requester applies to that key or to the id itself - one statement instead of a key lookup and a block check.
_REF_KEY = (
    select(R.patient_key)
    .where(R.res_type == "Patient", R.res_id == bindparam("ref"), R.patient_key.is_not(None))
    .scalar_subquery()
)
_REF = select(_REF_KEY)
_REF_BLOCKED = select(
    _REF_KEY,
    exists().where(or_(_B.patient_key == bindparam("ref"), _B.patient_key == _REF_KEY), block_applies()),
)


@dataclass(frozen=True, slots=True)
class SearchSpec:
    res_type: str | None
    criteria: tuple[Criterion, ...]
    sort: tuple[SortKey, ...]
    patient_key: str | None = None  # rows must belong to this patient (a citizen's own compartment)
    consent: ConsentBlock | None = None
    patient_ref: str | None = None  # a Patient id named by the criteria (a hint: the criteria still apply)
    patient_ref_keys: tuple[str, ...] = ()  # the keys that Patient's rows may carry, once resolved

    def shape(self) -> tuple[SearchShape, dict[str, Any]]:
        """The shape whose statements run this search, and the values of their named parameters."""
        return search_shape(
            self.res_type,
            self.criteria,
            patient_key=self.patient_key,
            patient_ref_keys=self.patient_ref_keys,
            consent=self.consent,
        )


@dataclass(frozen=True, slots=True)
class Page:
    resources: list[StoredResource]
    first_key: tuple[object, ...] | None  # sort values + rid of the first row
    last_key: tuple[object, ...] | None
    more_after: bool  # rows exist after the last row
    more_before: bool  # rows exist before the first row (known when paging backwards)


async def search_page_txn(
    conn: AsyncConnection,
    spec: SearchSpec,
    *,
    after: Sequence[object] | None,
    backwards: bool,
    limit: int,
    shaped: tuple[SearchShape, dict[str, Any]] | None = None,
) -> Page:
    """One page of ``spec`` (``shaped``: its :meth:`SearchSpec.shape`, when the caller already has it)."""
    shape, params = shaped or spec.shape()
    stmt = page_statement(shape, spec.sort, after is not None, backwards, limit + 1)
    if after is not None:
        params = {**params, **keyset_params(after)}
    rows = [tuple(r) for r in (await conn.execute(stmt, params)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    keys = [(*r[1:], r[0]) for r in rows]
    stored = await read_current_many_txn(conn, [int(r[0]) for r in rows])
    return Page(
        resources=stored,
        first_key=keys[0] if keys else None,
        last_key=keys[-1] if keys else None,
        more_after=(not backwards and more) or (backwards and after is not None),
        more_before=(backwards and more) or (not backwards and after is not None),
    )


async def count_txn(
    conn: AsyncConnection, spec: SearchSpec, shaped: tuple[SearchShape, dict[str, Any]] | None = None
) -> int:
    shape, params = shaped or spec.shape()
    return int((await conn.execute(count_statement(shape), params)).scalar_one())


async def include_txn(
    conn: AsyncConnection,
    rids: Sequence[int],
    param_hash: int,
    target_type: str | None,
    consent: ConsentBlock | None,
    limit: int,
) -> list[StoredResource]:
    """Resources referenced through ``param_hash`` by the resources ``rids`` (``_include``)."""
    if not rids:
        return []
    refs = select(X.target_type, X.target_id).where(X.rid.in_(list(rids)), X.param_hash == param_hash)
    if target_type:
        refs = refs.where(X.target_type == target_type)
    where = base_query(None, consent)
    stmt = select(R.rid).where(*where, tuple_(R.res_type, R.res_id).in_(refs)).order_by(R.rid).limit(limit)
    found = [int(r) for r in (await conn.execute(stmt)).scalars()]
    return await read_current_many_txn(conn, found)


async def revinclude_txn(
    conn: AsyncConnection,
    targets: Sequence[tuple[str, str]],
    source_type: str,
    param_hash: int,
    consent: ConsentBlock | None,
    limit: int,
) -> list[StoredResource]:
    """Resources of ``source_type`` whose ``param_hash`` reference points at ``targets`` (``_revinclude``)."""
    if not targets:
        return []
    where = base_query(source_type, consent)
    pairs = [and_(X.target_type == t, X.target_id == i) for t, i in targets]

    referencing = select(X.rid).where(X.param_hash == param_hash, or_(*pairs))
    stmt = select(R.rid).where(*where, R.rid.in_(referencing)).order_by(R.rid).limit(limit)
    found = [int(r) for r in (await conn.execute(stmt)).scalars()]
    return await read_current_many_txn(conn, found)


async def patient_ref_txn(
    conn: AsyncConnection, patient_ref: str, consent: ConsentBlock | None
) -> tuple[tuple[str, ...], bool]:
    """The keys the rows of Patient ``patient_ref`` may carry (its id, and its CPR once it has one), and
    whether a consent block of ``consent``'s requester applies to them now (False without ``consent``)."""
    if consent is None:
        key, blocked = (await conn.execute(_REF, {"ref": patient_ref})).scalar(), False
    else:
        row = (await conn.execute(_REF_BLOCKED, {"ref": patient_ref, **consent_params(consent)})).one()
        key, blocked = row[0], bool(row[1])
    return tuple(sorted({patient_ref, str(key) if key is not None else patient_ref})), blocked


async def withheld_exists_txn(
    conn: AsyncConnection, spec: SearchSpec, shaped: tuple[SearchShape, dict[str, Any]] | None = None
) -> bool:
    """True when consent removed at least one match (the caller warns, never saying what was withheld)."""
    if spec.consent is None:
        return False
    shape, params = shaped or spec.shape()
    return (await conn.execute(withheld_statement(shape), params)).first() is not None
