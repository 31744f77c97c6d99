"""FHIR search criteria (hub.core.search) as SQL clauses over the typed index tables, in two halves.

:func:`criterion_shape` splits a criterion into its *shape* (parameter, type, modifier, prefixes, which parts
are present) and its *values*, in order; :func:`shape_clause` builds the clause of a shape with the values as
named bind parameters.  A statement therefore depends only on the shapes of its criteria and is built once
per shape (hub.storage.search_statements): building the SQLAlchemy expression and its cache key was about a
third of a search's CPU time, and GPs' searches repeat a handful of shapes with different patients and dates.

Semantics follow https://hl7.org/fhir/R4/search.html: values of one parameter are OR-ed, repeated parameters
AND-ed; each criterion is an ``EXISTS`` over its index table, so a resource matches once however many index
rows it has.  Ranges: a date, number or quantity is indexed as a closed range and compared by the prefix
rules of §3.1.1.4.1 (e.g. ``ge``: the resource range reaches at least the start of the search range).

Each value kind below has its two halves side by side: the values :func:`criterion_shape` appends are
consumed, in the same order, by the clause built from that value's shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    String,
    Table,
    and_,
    bindparam,
    exists,
    false,
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
    StringQuery,
    TokenQuery,
    UriQuery,
)
from hub.storage.engines import RowValue
from hub.storage.schema import (
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
TABLES = {
    SearchParamType.TOKEN: idx_token,
    SearchParamType.STRING: idx_string,
    SearchParamType.DATE: idx_date,
    SearchParamType.NUMBER: idx_number,
    SearchParamType.QUANTITY: idx_quantity,
    SearchParamType.REFERENCE: idx_reference,
    SearchParamType.URI: idx_uri,
}

ValueShape = tuple[object, ...]
"""What one value's clause depends on: its kind first, then prefix and which optional parts it has."""


@dataclass(frozen=True, slots=True)
class CriterionShape:
    """A criterion without its values: equal shapes give the same clause (different bind values)."""

    code: str
    param_type: SearchParamType
    param_hash: int
    modifier: Modifier
    values: tuple[ValueShape, ...]
    chain: CriterionShape | None = None
    chain_type: str | None = None


def like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def criterion_shape(c: Criterion, out: list[object]) -> CriterionShape:
    """The shape of ``c``; its values are appended to ``out`` in the order the clause names them."""
    if c.code in ("_id", "_lastUpdated"):
        values = tuple(_special_shape(c.code, q, out) for q in c.values)
    elif c.chain is not None:
        values = ()  # a chained criterion's values are those of its chain
    else:
        values = tuple(_value_shape(c, q, out) for q in c.values)
    chain = criterion_shape(c.chain, out) if c.chain is not None else None
    return CriterionShape(
        c.code,
        c.param_type,
        c.hash,
        c.modifier,
        values,
        chain,
        c.chain.resource_type if c.chain is not None else None,
    )


Names = Iterator[str]
"""The bind parameter names of a statement's values, in the order :func:`criterion_shape` appended them."""


def shape_clause(shape: CriterionShape, names: Names, rid: ColumnElement[int] = R.rid) -> ColumnElement[bool]:
    """The WHERE clause of a criterion of ``shape`` against resource rows ``rid``."""
    if shape.code in ("_id", "_lastUpdated"):
        specials = [m for v in shape.values if (m := _special_clause(v, names)) is not None]
        clause = or_(false(), *specials)
        return not_(clause) if shape.modifier is Modifier.NOT else clause
    t = TABLES[shape.param_type].c
    if len(shape.values) == 1 and shape.values[0][0] == "missing":
        present = exists().where(t.rid == rid, t.param_hash == shape.param_hash)
        return not_(present) if shape.values[0][1] else present
    if shape.chain is not None:
        inner = resource.alias("chained")
        targets = select(inner.c.res_id).where(
            inner.c.res_type == shape.chain_type,
            inner.c.deleted.is_(False),
            shape_clause(shape.chain, names, inner.c.rid),
        )
        return exists().where(
            t.rid == rid,
            t.param_hash == shape.param_hash,
            t.target_type == shape.chain_type,
            t.target_id.in_(targets),
        )
    match = or_(false(), *(_value_clause(shape, v, names) for v in shape.values))
    if shape.modifier is Modifier.NOT:
        return not_(exists().where(t.rid == rid, t.param_hash == shape.param_hash, match))
    return exists().where(t.rid == rid, t.param_hash == shape.param_hash, match)


def _param(names: Names, type_: Any = None) -> BindParameter[Any]:
    return bindparam(next(names), type_=type_)


def _equals(column: ColumnElement[Any], present: object, names: Names) -> ColumnElement[bool]:
    """``column = :value``, or ``IS NULL`` for a value that was None (shape flag ``present`` false)."""
    return column == _param(names) if present else column.is_(None)


def _present(value: object, out: list[object]) -> bool:
    if value is not None:
        out.append(value)
    return value is not None


# -- dates, numbers and quantities: which of the range ends (low, high) a prefix compares --------------
_DATE_ENDS = {
    Prefix.EQ: "lh",
    Prefix.NE: "lh",
    Prefix.GT: "h",
    Prefix.LT: "l",
    Prefix.GE: "l",
    Prefix.LE: "h",
    Prefix.SA: "h",
    Prefix.EB: "l",
    Prefix.AP: "lh",
}
_AP_DATE_MARGIN_MIN_US = 86_400_000_000  # ap: 10 % of the range, at least a day


def _date_values(q: DateQuery, out: list[object]) -> None:
    low, high = q.start, q.end
    if q.prefix is Prefix.AP:
        margin = max((high - low) // 10, _AP_DATE_MARGIN_MIN_US)
        low, high = low - margin, high + margin
    ends = _DATE_ENDS[q.prefix]
    out.extend(v for end, v in (("l", low), ("h", high)) if end in ends)


def _date_match(start: ColumnElement[int], end: ColumnElement[int], prefix: object, names: Names) -> Any:
    ends = _DATE_ENDS[prefix]  # type: ignore[index]
    low = _param(names) if "l" in ends else None
    high = _param(names) if "h" in ends else None
    match prefix:
        case Prefix.EQ:
            return and_(start >= low, end <= high)
        case Prefix.NE:
            return not_(and_(start >= low, end <= high))
        case Prefix.GT:
            return end > high
        case Prefix.LT:
            return start < low
        case Prefix.GE:
            return end >= low
        case Prefix.LE:
            return start <= high
        case Prefix.SA:
            return start > high
        case Prefix.EB:
            return end < low
        case Prefix.AP:
            return and_(end >= low, start <= high)
    raise AssertionError(prefix)


def _ordered_values(q: NumberQuery | QuantityQuery, out: list[object]) -> None:
    match q.prefix:
        case Prefix.EQ | Prefix.NE:
            out.extend((float(q.low), float(q.high)))
        case Prefix.AP:
            v = float(q.value)
            margin = abs(v) * 0.1
            out.extend((v - margin, v + margin))
        case _:
            out.append(float(q.value))


def _ordered_match(value: ColumnElement[float], prefix: object, names: Names) -> ColumnElement[bool]:
    match prefix:
        case Prefix.EQ:
            return and_(value >= _param(names), value < _param(names))
        case Prefix.NE:
            return or_(value < _param(names), value >= _param(names))
        case Prefix.GT | Prefix.SA:
            return value > _param(names)
        case Prefix.LT | Prefix.EB:
            return value < _param(names)
        case Prefix.GE:
            return value >= _param(names)
        case Prefix.LE:
            return value <= _param(names)
        case Prefix.AP:
            return and_(value >= _param(names), value <= _param(names))
    raise AssertionError(prefix)


# -- every value kind: shape and values, then the clause ---------------------------------------------
def _value_shape(c: Criterion, q: QueryValue, out: list[object]) -> ValueShape:
    match q:
        case TokenQuery():
            if c.modifier is Modifier.TEXT and q.text is not None:
                out.append(f"%{like_escape(q.text)}%")
                return ("text",)
            system = "any" if q.system is None else "none" if q.system == "" else "eq"
            has_code = _present(q.code, out)
            if system == "eq":
                out.append(q.system)
            return ("token", has_code, system)
        case StringQuery():
            if c.modifier is Modifier.EXACT:
                out.append(q.value)
                return ("exact",)
            pattern = like_escape(q.value) + "%"
            out.append("%" + pattern if c.modifier is Modifier.CONTAINS else pattern)
            return ("like",)
        case DateQuery():
            _date_values(q, out)
            return ("date", q.prefix)
        case NumberQuery():
            _ordered_values(q, out)
            return ("number", q.prefix)
        case QuantityQuery():
            _ordered_values(q, out)
            return ("quantity", q.prefix, _present(q.code, out), _present(q.system, out))
        case ReferenceQuery():
            if c.modifier is Modifier.IDENTIFIER:
                has_value = _present(q.identifier_value, out)
                has_system = bool(q.identifier_system)
                if has_system:
                    out.append(q.identifier_system)
                return ("identifier", has_value, has_system)
            if q.url is not None:
                out.append(q.url)
                return ("url",)
            has_id = _present(q.target_id, out)
            has_type = bool(q.target_type)
            if has_type:
                out.append(q.target_type)
            return ("reference", has_id, has_type)
        case UriQuery():
            if c.modifier is Modifier.BELOW:
                out.append(like_escape(q.uri) + "%")
                return ("below",)
            out.append(q.uri)
            return ("above",) if c.modifier is Modifier.ABOVE else ("uri",)
        case MissingQuery():
            return ("missing", q.missing)
    raise AssertionError(q)


class _RowValues:
    """``table.c`` whose columns come wrapped in :class:`~hub.storage.engines.RowValue` (index rows are
    reached by ``(rid, param_hash)`` inside correlated ``EXISTS``, never through the value index)."""

    def __init__(self, table: Table) -> None:
        self._columns = table.c

    def __getattr__(self, name: str) -> ColumnElement[Any]:
        return RowValue(self._columns[name])


def _value_clause(shape: CriterionShape, v: ValueShape, names: Names) -> ColumnElement[bool]:
    t = _RowValues(TABLES[shape.param_type])
    kind = v[0]
    build = _CLAUSES.get(str(kind))
    if build is None:
        raise AssertionError(v)
    return build(t, v, names)


def _token(t: _RowValues, v: ValueShape, names: Names) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if v[1]:
        parts.append(t.code == _param(names))
    if v[2] == "none":
        parts.append(t.system.is_(None))
    elif v[2] == "eq":
        parts.append(t.system == _param(names))
    return and_(true(), *parts)


def _quantity(t: _RowValues, v: ValueShape, names: Names) -> ColumnElement[bool]:
    parts = [_ordered_match(t.value, v[1], names)]
    if v[2]:
        code = _param(names)
        parts.append(t.code == code if v[3] else or_(t.code == code, t.unit == code))
    if v[3]:
        parts.append(t.system == _param(names))
    return and_(*parts)


def _identifier(t: _RowValues, v: ValueShape, names: Names) -> ColumnElement[bool]:
    parts = [_equals(t.ident_value, v[1], names)]
    if v[2]:
        parts.append(t.ident_system == _param(names))
    return and_(*parts)


def _reference(t: _RowValues, v: ValueShape, names: Names) -> ColumnElement[bool]:
    parts = [_equals(t.target_id, v[1], names)]
    if v[2]:
        parts.append(t.target_type == _param(names))
    return and_(*parts)


_CLAUSES: dict[str, Callable[[_RowValues, ValueShape, Names], ColumnElement[bool]]] = {
    "text": lambda t, v, n: t.text.like(_param(n), escape="\\"),
    "token": _token,
    "exact": lambda t, v, n: t.exact == _param(n),
    "like": lambda t, v, n: t.norm.like(_param(n), escape="\\"),
    "date": lambda t, v, n: _date_match(t.start_us, t.end_us, v[1], n),
    "number": lambda t, v, n: _ordered_match(t.value, v[1], n),
    "quantity": _quantity,
    "identifier": _identifier,
    "url": lambda t, v, n: t.url == _param(n),
    "reference": _reference,
    "below": lambda t, v, n: t.uri.like(_param(n), escape="\\"),
    "above": lambda t, v, n: _param(n, String()).like(t.uri + "%"),
    "uri": lambda t, v, n: t.uri == _param(n),
}


# -- _id and _lastUpdated live on the resource row itself ---------------------------------------------
def _special_shape(code: str, q: QueryValue, out: list[object]) -> ValueShape:
    if code == "_id" and isinstance(q, TokenQuery):
        return ("id", _present(q.code, out))
    if code == "_lastUpdated" and isinstance(q, DateQuery):
        _date_values(q, out)
        return ("lastUpdated", q.prefix)
    return ("none",)


def _special_clause(v: ValueShape, names: Names) -> ColumnElement[bool] | None:
    if v[0] == "id":
        return _equals(R.res_id, v[1], names)
    if v[0] == "lastUpdated":
        return _date_match(R.last_updated, R.last_updated, v[1], names)  # type: ignore[no-any-return]
    return None


__all__ = ["TABLES", "CriterionShape", "Names", "criterion_shape", "like_escape", "shape_clause"]
