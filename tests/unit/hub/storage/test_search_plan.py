"""Search SQL reaches a resource's index rows by (rid, param_hash), on every engine's planner.

Without statistics SQLite once chose the value index (param_hash, start_us) for a ``date=lt…`` EXISTS and
scanned millions of index rows per resource: a 1 M-Observation search took 4-9 s instead of 10 ms.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql, sqlite

from hub.core.search import Criterion, DateQuery, Modifier, Prefix, SearchParamType, TokenQuery
from hub.storage.schema import resource
from hub.storage.search_sql import base_query, criterion_clause

CRITERIA = (
    Criterion(
        "Observation",
        "code",
        SearchParamType.TOKEN,
        Modifier.NONE,
        (TokenQuery("urn:oid:1.2.208.176.2.1", "N"),),
    ),
    Criterion("Observation", "date", SearchParamType.DATE, Modifier.NONE, (DateQuery(Prefix.GE, 1, 2),)),
    Criterion("Observation", "date", SearchParamType.DATE, Modifier.NONE, (DateQuery(Prefix.LT, 3, 4),)),
)


def _statement() -> Select[tuple[int]]:
    where = base_query("Observation", CRITERIA, patient_key="0101011234")
    return select(resource.c.rid).where(*where).order_by(resource.c.rid).limit(51)


def test_sqlite_plan_uses_the_rid_index_for_every_criterion(
    migrated_templates: dict[str, str],
) -> None:
    compiled = _statement().compile(dialect=sqlite.dialect())
    sql = str(compiled)
    assert "+idx_date.start_us < ?" in sql and "+idx_token.code = ?" in sql
    with sqlite3.connect(migrated_templates["sqlite"]) as conn:
        params = [compiled.params[name] for name in compiled.positiontup or ()]
        plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "_value" not in plan, plan
    assert plan.count("_rid (rid=? AND param_hash=?)") == 3, plan


def test_other_databases_get_the_plain_columns() -> None:
    sql = str(_statement().compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]
    assert "idx_date.start_us <" in sql and "+idx_" not in sql


def _sql(criterion: Criterion) -> str:
    compiled = criterion_clause(criterion).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


def test_clauses_of_recurring_criteria_are_remembered_and_stay_correct() -> None:
    """The same criterion (a code, a date range) recurs across searches: its clause is built once."""
    code = CRITERIA[0]
    again = Criterion(code.resource_type, code.code, code.param_type, code.modifier, code.values)
    assert criterion_clause(again) is criterion_clause(code)
    other = Criterion("Observation", "code", SearchParamType.TOKEN, Modifier.NONE, (TokenQuery("s", "M"),))
    assert criterion_clause(other) is not criterion_clause(code)
    assert "'M'" in _sql(other) and "'N'" in _sql(code)


def test_criteria_with_long_values_are_built_each_time() -> None:
    long_code = "x" * 300
    criterion = Criterion(
        "Observation", "code", SearchParamType.TOKEN, Modifier.NONE, (TokenQuery("s", long_code),)
    )
    assert criterion_clause(criterion) is not criterion_clause(criterion)
    assert long_code in _sql(criterion)
