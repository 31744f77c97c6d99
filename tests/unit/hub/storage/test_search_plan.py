"""Search SQL reaches a resource's index rows by (rid, param_hash), on every engine's planner.

Without statistics SQLite once chose the value index (param_hash, start_us) for a ``date=lt…`` EXISTS and
scanned millions of index rows per resource: a 1 M-Observation search took 4-9 s instead of 10 ms.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import Select
from sqlalchemy.dialects import postgresql, sqlite

from hub.core.search import Criterion, DateQuery, Modifier, Prefix, SearchParamType, TokenQuery
from hub.storage.search_statements import page_statement, search_shape

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


def _statement() -> Select[tuple[object, ...]]:
    shape, params = search_shape(
        "Observation", CRITERIA, patient_key="0101011234", patient_ref_keys=(), consent=None
    )
    return page_statement(shape, (), False, False, 51).params(params)


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
