"""Compile FHIR search criteria (hub.core.search) into one SQL statement over the typed index tables.

Semantics follow https://hl7.org/fhir/R4/search.html: values of one parameter
are OR-ed, repeated parameters AND-ed; each criterion is an ``EXISTS`` over its
index table, so a resource matches once however many index rows it has.
Ranges: a date, number or quantity is indexed as a closed range and compared by
the prefix rules of §3.1.1.4.1 (e.g. ``ge``: the resource range reaches at
least the start of the search range).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    Table,
    and_,
    bindparam,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)

from hub.core.search import (
    Criterion,
    DateQuery,
    MissingQuery,
    Modifier,
    NumberQuery,
    Prefix,
    QuantityQuery,
    QueryValue,
    ReferenceQuery,
    SearchParamType,
    SortKey,
    StringQuery,
    TokenQuery,
    UriQuery,
)
from hub.storage.engines import RowValue
from hub.storage.schema import (
    consent_block,
    idx_date,
    idx_number,
    idx_quantity,
    idx_reference,
    idx_string,
    idx_token,
    idx_uri,
    resource,
)

R = resource.c
_TABLE = {
    SearchParamType.TOKEN: idx_token,
    SearchParamType.STRING: idx_string,
    SearchParamType.DATE: idx_date,
    SearchParamType.NUMBER: idx_number,
    SearchParamType.QUANTITY: idx_quantity,
    SearchParamType.REFERENCE: idx_reference,
    SearchParamType.URI: idx_uri,
}
MIN_KEY = -(2**63)
MAX_KEY = 2**63 - 1


def like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, slots=True)
class ConsentBlock:
    """Consent filter for one requester: rows of patients who block any of ``actor_keys`` are excluded
    inside the query (security.consent documents the semantics)."""

    actor_keys: tuple[tuple[str, str], ...]  # (actor_kind, actor_id) pairs that would block the requester
    now_us: int


def _date_match(start: ColumnElement[int], end: ColumnElement[int], q: DateQuery) -> ColumnElement[bool]:
    qs, qe = q.start, q.end
    match q.prefix:
        case Prefix.EQ:
            return and_(start >= qs, end <= qe)
        case Prefix.NE:
            return not_(and_(start >= qs, end <= qe))
        case Prefix.GT:
            return end > qe
        case Prefix.LT:
            return start < qs
        case Prefix.GE:
            return end >= qs
        case Prefix.LE:
            return start <= qe
        case Prefix.SA:
            return start > qe
        case Prefix.EB:
            return end < qs
        case Prefix.AP:
            margin = max((qe - qs) // 10, 86_400_000_000)
            return and_(end >= qs - margin, start <= qe + margin)
    raise AssertionError(q.prefix)


def _ordered_match(value: ColumnElement[float], q: NumberQuery | QuantityQuery) -> ColumnElement[bool]:
    low, high, v = float(q.low), float(q.high), float(q.value)
    match q.prefix:
        case Prefix.EQ:
            return and_(value >= low, value < high)
        case Prefix.NE:
            return or_(value < low, value >= high)
        case Prefix.GT | Prefix.SA:
            return value > v
        case Prefix.LT | Prefix.EB:
            return value < v
        case Prefix.GE:
            return value >= v
        case Prefix.LE:
            return value <= v
        case Prefix.AP:
            margin = abs(v) * 0.1
            return and_(value >= v - margin, value <= v + margin)
    raise AssertionError(q.prefix)


class _RowValues:
    """``table.c`` whose columns come wrapped in :class:`~hub.storage.engines.RowValue` (index rows are
    reached by ``(rid, param_hash)`` inside correlated ``EXISTS``, never through the value index)."""

    def __init__(self, table: Table) -> None:
        self._columns = table.c

    def __getattr__(self, name: str) -> ColumnElement[Any]:
        return RowValue(self._columns[name])


def _value_match(c: Criterion, q: QueryValue) -> ColumnElement[bool]:
    t = _RowValues(_TABLE[c.param_type])
    match q:
        case TokenQuery():
            if c.modifier is Modifier.TEXT and q.text is not None:
                return t.text.like(f"%{like_escape(q.text)}%", escape="\\")
            parts: list[ColumnElement[bool]] = []
            if q.code is not None:
                parts.append(t.code == q.code)
            if q.system == "":
                parts.append(t.system.is_(None))
            elif q.system is not None:
                parts.append(t.system == q.system)
            return and_(true(), *parts)
        case StringQuery():
            if c.modifier is Modifier.EXACT:
                return t.exact == q.value
            pattern = like_escape(q.value) + "%"
            if c.modifier is Modifier.CONTAINS:
                pattern = "%" + pattern
            return t.norm.like(pattern, escape="\\")
        case DateQuery():
            return _date_match(t.start_us, t.end_us, q)
        case NumberQuery():
            return _ordered_match(t.value, q)
        case QuantityQuery():
            parts = [_ordered_match(t.value, q)]
            if q.code is not None:
                parts.append(
                    or_(t.code == q.code, t.unit == q.code) if q.system is None else t.code == q.code
                )
            if q.system is not None:
                parts.append(t.system == q.system)
            return and_(*parts)
        case ReferenceQuery():
            if c.modifier is Modifier.IDENTIFIER:
                parts = [t.ident_value == q.identifier_value]
                if q.identifier_system:
                    parts.append(t.ident_system == q.identifier_system)
                return and_(*parts)
            if q.url is not None:
                return t.url == q.url
            parts = [t.target_id == q.target_id]
            if q.target_type:
                parts.append(t.target_type == q.target_type)
            return and_(*parts)
        case UriQuery():
            if c.modifier is Modifier.BELOW:
                return t.uri.like(like_escape(q.uri) + "%", escape="\\")
            if c.modifier is Modifier.ABOVE:
                return literal(q.uri).like(t.uri + "%")
            return t.uri == q.uri
    raise AssertionError(q)


def _special_match(c: Criterion, q: QueryValue) -> ColumnElement[bool] | None:
    """``_id`` and ``_lastUpdated`` live on the resource row itself."""
    if c.code == "_id" and isinstance(q, TokenQuery):
        return R.res_id == q.code
    if c.code == "_lastUpdated" and isinstance(q, DateQuery):
        return _date_match(R.last_updated, R.last_updated, q)
    return None


_CLAUSE_CACHE = 512  # criteria whose clause is remembered (LRU)
_CLAUSE_KEY_CHARS = 256  # longest string value of a remembered criterion


def criterion_clause(c: Criterion, rid: ColumnElement[int] = R.rid) -> ColumnElement[bool]:
    """The WHERE clause of one criterion against resource rows ``rid``.

    Building the SQLAlchemy expression was a third of a search's CPU time, and the same criteria recur
    across requests (a code, a date range), so the clause of a criterion with short values is remembered:
    it depends only on the criterion (clause elements are immutable and can sit in any statement).
    """
    if rid is R.rid and _short_values(c):
        return _remembered_clause(c)
    return _build_clause(c, rid)


def _short_values(c: Criterion) -> bool:
    for q in c.values:
        for name in q.__slots__:
            value = getattr(q, name)
            if type(value) is str and len(value) > _CLAUSE_KEY_CHARS:
                return False
    return c.chain is None or _short_values(c.chain)


@functools.lru_cache(maxsize=_CLAUSE_CACHE)
def _remembered_clause(c: Criterion) -> ColumnElement[bool]:
    return _build_clause(c, R.rid)


def _build_clause(c: Criterion, rid: ColumnElement[int]) -> ColumnElement[bool]:
    if c.code in ("_id", "_lastUpdated"):
        specials = [m for q in c.values if (m := _special_match(c, q)) is not None]
        clause = or_(false(), *specials)
        return not_(clause) if c.modifier is Modifier.NOT else clause
    table = _TABLE[c.param_type]
    t = table.c
    if len(c.values) == 1 and isinstance(c.values[0], MissingQuery):
        present = exists().where(t.rid == rid, t.param_hash == c.hash)
        return not_(present) if c.values[0].missing else present
    if c.chain is not None:
        inner = resource.alias("chained")
        targets = select(inner.c.res_id).where(
            inner.c.res_type == c.chain.resource_type,
            inner.c.deleted.is_(False),
            _build_clause(c.chain, inner.c.rid),
        )
        return exists().where(
            t.rid == rid,
            t.param_hash == c.hash,
            t.target_type == c.chain.resource_type,
            t.target_id.in_(targets),
        )
    match = or_(false(), *(_value_match(c, q) for q in c.values))
    if c.modifier is Modifier.NOT:
        return not_(exists().where(t.rid == rid, t.param_hash == c.hash, match))
    return exists().where(t.rid == rid, t.param_hash == c.hash, match)


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


def base_query(
    res_type: str | None,
    criteria: Sequence[Criterion],
    *,
    patient_key: str | None = None,
    consent: ConsentBlock | None = None,
) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a search over current, non-deleted resources."""
    where: list[ColumnElement[bool]] = [R.deleted.is_(False)]
    if res_type is not None:
        where.append(R.res_type == res_type)
    if patient_key is not None:
        where.append(R.patient_key == patient_key)
    where.extend(criterion_clause(c) for c in criteria)
    if consent is not None:
        where.append(consent_clause(consent))
    return where


def sort_expression(key: SortKey) -> ColumnElement[object]:
    """A scalar per resource to order by; missing values sort last in either direction."""
    if key.code == "_lastUpdated":
        return R.last_updated
    if key.code == "_id":
        return R.res_id
    table = _TABLE[key.param_type]
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
    after: Sequence[object] | None,
    backwards: bool,
    limit: int,
) -> Select[tuple[object, ...]]:
    """Keyset page: rows strictly after (or, backwards, before) the cursor ``after`` = sort values + rid."""
    exprs = [sort_expression(k) for k in sort]
    descending = [k.descending for k in sort] + [False]
    keys: list[ColumnElement[object]] = [*exprs, R.rid]
    if backwards:
        descending = [not d for d in descending]
    stmt = select(R.rid, *exprs).where(*where)
    if after is not None:
        stmt = stmt.where(_keyset_after(keys, descending, after))
    order = [k.desc() if d else k.asc() for k, d in zip(keys, descending, strict=True)]
    return stmt.order_by(*order).limit(limit)


def _keyset_after(
    keys: Sequence[ColumnElement[object]], descending: Sequence[bool], values: Sequence[object]
) -> ColumnElement[bool]:
    """(k1, k2, …) strictly after (v1, v2, …) in the mixed-direction order."""
    clauses: list[ColumnElement[bool]] = []
    for i, (key, desc) in enumerate(zip(keys, descending, strict=True)):
        equal_prefix = [keys[j] == values[j] for j in range(i)]
        beyond = key < values[i] if desc else key > values[i]
        clauses.append(and_(*equal_prefix, beyond))
    return or_(*clauses)


def count_query(where: Sequence[ColumnElement[bool]]) -> Select[tuple[int]]:
    return select(func.count()).select_from(resource).where(*where)
