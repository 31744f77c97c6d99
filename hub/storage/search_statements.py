"""A search's statements (page, count, "did consent withhold any?"), built once per shape.

A search is split into its :class:`SearchShape` (type, criterion shapes, which patient and consent filters
apply) and a dict of named parameter values (criterion values ``v0…``, ``own_patient``, ``ref_keys``, the
consent parameters, the cursor ``k0…``).  The statements of a shape are remembered (LRU), so a repeated
shape costs neither building the SQLAlchemy expression nor its cache key: SQLAlchemy memoises the key on the
statement object, and the compiled SQL is then found in its compiled cache.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, not_, select

from hub.core.search import Criterion, SortKey
from hub.storage.schema import resource
from hub.storage.search_criteria import CriterionShape, criterion_shape, shape_clause
from hub.storage.search_sql import ConsentBlock, consent_clause, consent_params, count_query, page_query

R = resource.c
_STATEMENTS = 256  # shapes whose statements are remembered (per kind)


@dataclass(frozen=True, slots=True)
class SearchShape:
    res_type: str | None
    criteria: tuple[CriterionShape, ...]
    own_patient: bool  # rows must belong to one patient (a citizen's own compartment)
    ref_keys: bool  # rows must carry one of the keys of the Patient the criteria name
    consent: bool  # rows of patients who block the requester are left out


def search_shape(
    res_type: str | None,
    criteria: Sequence[Criterion],
    *,
    patient_key: str | None,
    patient_ref_keys: Sequence[str],
    consent: ConsentBlock | None,
) -> tuple[SearchShape, dict[str, Any]]:
    """The shape of a search and the values of its named parameters."""
    values: list[object] = []
    shapes = tuple(criterion_shape(c, values) for c in criteria)
    params: dict[str, Any] = {f"v{i}": value for i, value in enumerate(values)}
    if patient_key is not None:
        params["own_patient"] = patient_key
    if patient_ref_keys:
        params["ref_keys"] = list(patient_ref_keys)
    if consent is not None:
        params.update(consent_params(consent))
    shape = SearchShape(
        res_type, shapes, patient_key is not None, bool(patient_ref_keys), consent is not None
    )
    return shape, params


@functools.lru_cache(maxsize=_STATEMENTS)
def _where(shape: SearchShape) -> tuple[ColumnElement[bool], ...]:
    names = (f"v{i}" for i in itertools.count())
    where: list[ColumnElement[bool]] = [R.deleted.is_(False)]
    if shape.res_type is not None:
        where.append(R.res_type == shape.res_type)
    if shape.own_patient:
        where.append(R.patient_key == bindparam("own_patient"))
    where.extend(shape_clause(c, names) for c in shape.criteria)
    if shape.consent:
        where.append(consent_clause())
    if shape.ref_keys:
        where.append(R.patient_key.in_(bindparam("ref_keys", expanding=True)))
    return tuple(where)


@functools.lru_cache(maxsize=_STATEMENTS)
def page_statement(
    shape: SearchShape, sort: tuple[SortKey, ...], keyset: bool, backwards: bool, limit: int
) -> Select[tuple[object, ...]]:
    """rid + sort values of one page (``limit`` rows; after the cursor ``k0…`` with ``keyset``)."""
    return page_query(_where(shape), sort, keyset=keyset, backwards=backwards, limit=limit)


@functools.lru_cache(maxsize=_STATEMENTS)
def count_statement(shape: SearchShape) -> Select[tuple[int]]:
    return count_query(_where(shape))


@functools.lru_cache(maxsize=_STATEMENTS)
def withheld_statement(shape: SearchShape) -> Select[tuple[int]]:
    """A matching row that consent leaves out (``shape`` with consent; the statement drops the filter)."""
    where = _where(replace(shape, consent=False))
    return select(R.rid).where(*where, not_(consent_clause())).limit(1)


__all__ = ["SearchShape", "count_statement", "page_statement", "search_shape", "withheld_statement"]
