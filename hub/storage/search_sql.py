"""The parts of a search statement around its criteria (hub.storage.search_criteria): consent, sort keys,
keyset paging and counting.

Consent is a fixed-shape ``NOT EXISTS`` over ``consent_block`` with named parameters, so statements built once
(hub.storage.search_statements, the XDS registry queries, reads) can be reused; sort keys are one scalar per
resource; a page is the rows strictly after (or before) a cursor of sort values + rid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
)

from hub.core.search import SearchParamType, SortKey
from hub.storage.schema import consent_block, resource
from hub.storage.search_criteria import TABLES

R = resource.c
MIN_KEY = -(2**63)
MAX_KEY = 2**63 - 1


@dataclass(frozen=True, slots=True)
class ConsentBlock:
    """Consent filter for one requester: rows of patients who block any of ``actor_keys`` are excluded
    inside the query (security.consent documents the semantics)."""

    actor_keys: tuple[tuple[str, str], ...]  # (actor_kind, actor_id) pairs that would block the requester
    now_us: int


EVERYONE, AUTHORISATION_ID, ORGANISATION_SOR = "everyone", "authorisation-id", "organisation-sor"


def consent_params(block: ConsentBlock) -> dict[str, object]:
    """Bind values for :func:`consent_clause` (the clause's shape never depends on them)."""
    keys = dict(block.actor_keys)
    return {
        "consent_auth": keys.get(AUTHORISATION_ID),
        "consent_sor": keys.get(ORGANISATION_SOR),
        "consent_now": block.now_us,
    }


def consent_clause(
    block: ConsentBlock | None = None, patient_key: ColumnElement[Any] = R.patient_key
) -> ColumnElement[bool]:
    """Rows of patients who block the requester are excluded: ``NOT EXISTS`` over ``consent_block``.

    The shape is fixed (bind parameters ``consent_auth``, ``consent_sor``, ``consent_now``; an absent
    identifier binds NULL and matches nothing), so statements built once can be reused.  With ``block`` the
    values are bound into the clause; without, the caller passes :func:`consent_params` at execution.
    """
    b = consent_block.c
    return or_(
        patient_key.is_(None),
        not_(exists().where(b.patient_key == patient_key, block_applies(block))),
    )


def block_applies(block: ConsentBlock | None = None) -> ColumnElement[bool]:
    """A ``consent_block`` row blocks the requester now (bound like :func:`consent_clause`)."""
    b = consent_block.c
    values = consent_params(block) if block is not None else {}

    def param(name: str, type_: Any) -> Any:
        return (
            bindparam(name, values[name], type_=type_) if block is not None else bindparam(name, type_=type_)
        )

    actors = or_(
        b.actor_kind == EVERYONE,
        and_(b.actor_kind == AUTHORISATION_ID, b.actor_id == param("consent_auth", String())),
        and_(b.actor_kind == ORGANISATION_SOR, b.actor_id == param("consent_sor", String())),
    )
    now = param("consent_now", BigInteger())
    return and_(
        actors,
        or_(b.valid_from_us.is_(None), b.valid_from_us <= now),
        or_(b.valid_until_us.is_(None), b.valid_until_us > now),
    )


def base_query(res_type: str | None, consent: ConsentBlock | None = None) -> list[ColumnElement[bool]]:
    """Current, non-deleted resources (of ``res_type``), without the rows of patients who block ``consent``'s
    requester (values bound into the clause: for the statements of ``_include`` and ``_revinclude``)."""
    where: list[ColumnElement[bool]] = [R.deleted.is_(False)]
    if res_type is not None:
        where.append(R.res_type == res_type)
    if consent is not None:
        where.append(consent_clause(consent))
    return where


def sort_expression(key: SortKey) -> ColumnElement[object]:
    """A scalar per resource to order by; missing values sort last in either direction."""
    if key.code == "_lastUpdated":
        return R.last_updated
    if key.code == "_id":
        return R.res_id
    table = TABLES[key.param_type]
    t = table.c
    column: ColumnElement[object]
    if key.param_type is SearchParamType.DATE:
        column = func.max(t.end_us) if key.descending else func.min(t.start_us)
        sentinel: object = MIN_KEY if key.descending else MAX_KEY
    elif key.param_type is SearchParamType.STRING:
        column, sentinel = func.min(t.norm), ("" if key.descending else "\uffff")
    elif key.param_type is SearchParamType.TOKEN:
        column, sentinel = func.min(t.code), ("" if key.descending else "\uffff")
    elif key.param_type in (SearchParamType.NUMBER, SearchParamType.QUANTITY):
        column, sentinel = func.min(t.value), (-1e308 if key.descending else 1e308)
    elif key.param_type is SearchParamType.REFERENCE:
        column, sentinel = func.min(t.target_id), ("" if key.descending else "\uffff")
    else:
        column, sentinel = func.min(t.uri), ("" if key.descending else "\uffff")
    scalar = select(column).where(t.rid == R.rid, t.param_hash == key.hash).scalar_subquery()
    if isinstance(sentinel, int):
        return func.coalesce(scalar, cast(literal(sentinel), BigInteger))
    return func.coalesce(scalar, literal(sentinel))


def page_query(
    where: Sequence[ColumnElement[bool]],
    sort: Sequence[SortKey],
    *,
    keyset: bool,
    backwards: bool,
    limit: int,
) -> Select[tuple[object, ...]]:
    """Keyset page: rows strictly after (or, backwards, before) the cursor, whose sort values + rid are the
    named parameters ``k0``, ``k1``, … (with ``keyset``; else the first page)."""
    exprs = [sort_expression(k) for k in sort]
    descending = [k.descending for k in sort] + [False]
    keys: list[ColumnElement[object]] = [*exprs, R.rid]
    if backwards:
        descending = [not d for d in descending]
    stmt = select(R.rid, *exprs).where(*where)
    if keyset:
        stmt = stmt.where(_keyset_after(keys, descending))
    order = [k.desc() if d else k.asc() for k, d in zip(keys, descending, strict=True)]
    return stmt.order_by(*order).limit(limit)


def keyset_params(after: Sequence[object]) -> dict[str, object]:
    """The values of :func:`page_query`'s cursor parameters."""
    return {f"k{i}": value for i, value in enumerate(after)}


def _keyset_after(keys: Sequence[ColumnElement[object]], descending: Sequence[bool]) -> ColumnElement[bool]:
    """(k1, k2, …) strictly after (:k0, :k1, …) in the mixed-direction order."""
    clauses: list[ColumnElement[bool]] = []
    for i, (key, desc) in enumerate(zip(keys, descending, strict=True)):
        equal_prefix = [keys[j] == bindparam(f"k{j}") for j in range(i)]
        value: BindParameter[Any] = bindparam(f"k{i}")
        beyond = key < value if desc else key > value
        clauses.append(and_(*equal_prefix, beyond))
    return or_(*clauses)


def count_query(where: Sequence[ColumnElement[bool]]) -> Select[tuple[int]]:
    return select(func.count()).select_from(resource).where(*where)
