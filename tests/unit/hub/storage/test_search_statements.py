"""Search statements are built once per shape; the values travel as named parameters, each to its column."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy.dialects import postgresql

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
from hub.storage.search_sql import ConsentBlock, keyset_params
from hub.storage.search_statements import count_statement, page_statement, search_shape, withheld_statement

T = SearchParamType
DAY = 86_400_000_000
OURS = re.compile(r"v\d+|k\d+|own_patient|ref_keys|consent_auth|consent_sor|consent_now")
CONSENT = ConsentBlock((("authorisation-id", "ABC12"), ("organisation-sor", "123456789012345")), 5)


def crit(
    code: str, kind: SearchParamType, *values: QueryValue, modifier: Modifier = Modifier.NONE
) -> Criterion:
    return Criterion("Observation", code, kind, modifier, values)


def rendered(criteria: tuple[Criterion, ...], **options: object) -> str:
    """The page statement of ``criteria`` with its parameter values written in (PostgreSQL dialect)."""
    shape, params = search_shape("Observation", criteria, patient_key=None, patient_ref_keys=(), consent=None)
    statement = page_statement(shape, (), False, False, 11).params(params)
    compiled = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})  # type: ignore[no-untyped-call]
    return " ".join(str(compiled).split())


# every value kind, prefix and modifier the clause builder knows; each must bind exactly its own values
MATRIX: list[Criterion] = [
    crit("code", T.TOKEN, TokenQuery("sys", "C1")),
    crit("code", T.TOKEN, TokenQuery(None, "C1"), TokenQuery("", "C2"), TokenQuery("sys", None)),
    crit("code", T.TOKEN, TokenQuery(None, None, "weight"), modifier=Modifier.TEXT),
    crit("code", T.TOKEN, TokenQuery("sys", "C1"), modifier=Modifier.NOT),
    crit("name", T.STRING, StringQuery("ber")),
    crit("name", T.STRING, StringQuery("erg"), modifier=Modifier.CONTAINS),
    crit("name", T.STRING, StringQuery("Berggren"), modifier=Modifier.EXACT),
    *(crit("date", T.DATE, DateQuery(prefix, 10 * DAY, 11 * DAY - 1)) for prefix in Prefix),
    *(
        crit("value", T.NUMBER, NumberQuery(prefix, Decimal("5.5"), Decimal("5.45"), Decimal("5.55")))
        for prefix in Prefix
    ),
    crit(
        "value-quantity",
        T.QUANTITY,
        QuantityQuery(Prefix.GE, Decimal(80), Decimal("79.5"), Decimal("80.5"), None, None),
    ),
    crit(
        "value-quantity",
        T.QUANTITY,
        QuantityQuery(Prefix.EQ, Decimal(80), Decimal("79.5"), Decimal("80.5"), None, "kg"),
    ),
    crit(
        "value-quantity",
        T.QUANTITY,
        QuantityQuery(
            Prefix.LT, Decimal(80), Decimal("79.5"), Decimal("80.5"), "http://unitsofmeasure.org", "kg"
        ),
    ),
    crit("subject", T.REFERENCE, ReferenceQuery("Patient", "p1")),
    crit(
        "subject", T.REFERENCE, ReferenceQuery(None, "p1"), ReferenceQuery(None, None, "http://x/Patient/9")
    ),
    crit(
        "subject",
        T.REFERENCE,
        ReferenceQuery(None, None, None, "urn:oid:1.2.208.176.1.2", "0101011234"),
        modifier=Modifier.IDENTIFIER,
    ),
    crit(
        "subject",
        T.REFERENCE,
        ReferenceQuery(None, None, None, None, "0101011234"),
        modifier=Modifier.IDENTIFIER,
    ),
    crit("url", T.URI, UriQuery("http://x/a")),
    crit("url", T.URI, UriQuery("http://x/"), modifier=Modifier.BELOW),
    crit("url", T.URI, UriQuery("http://x/a/b"), modifier=Modifier.ABOVE),
    crit("code", T.TOKEN, MissingQuery(True), modifier=Modifier.MISSING),
    crit("_id", T.TOKEN, TokenQuery(None, "abc"), TokenQuery(None, "def")),
    crit("_lastUpdated", T.DATE, DateQuery(Prefix.GE, 3 * DAY, 4 * DAY - 1)),
    Criterion(
        "Observation",
        "subject",
        T.REFERENCE,
        Modifier.NONE,
        (),
        chain=Criterion("Patient", "name", T.STRING, Modifier.NONE, (StringQuery("ber"),)),
    ),
]


@pytest.mark.parametrize("criterion", MATRIX, ids=lambda c: f"{c.code}-{c.modifier.value}")
def test_every_value_is_one_named_parameter_of_the_statement(criterion: Criterion) -> None:
    shape, params = search_shape(
        "Observation", (criterion,), patient_key="own", patient_ref_keys=("k1", "k2"), consent=CONSENT
    )
    compiled = page_statement(shape, (), False, False, 11).compile()
    named = {name for name in compiled.params if OURS.fullmatch(name)}  # the rest: literals of the shape
    assert named == set(params), (compiled.params, params)
    assert all(compiled.params[name] is None for name in named)  # no value is baked into the statement


def test_the_same_shape_reuses_the_statement_with_other_values() -> None:
    first = (crit("code", T.TOKEN, TokenQuery("sys", "C1")), crit("date", T.DATE, DateQuery(Prefix.GE, 1, 2)))
    second = (
        crit("code", T.TOKEN, TokenQuery("sys", "C2")),
        crit("date", T.DATE, DateQuery(Prefix.GE, 7, 9)),
    )
    shape1, params1 = search_shape(
        "Observation", first, patient_key=None, patient_ref_keys=(), consent=CONSENT
    )
    shape2, params2 = search_shape(
        "Observation", second, patient_key=None, patient_ref_keys=(), consent=CONSENT
    )
    assert shape1 == shape2 and params1 != params2
    assert page_statement(shape1, (), False, False, 51) is page_statement(shape2, (), False, False, 51)
    assert count_statement(shape1) is count_statement(shape2)
    assert withheld_statement(shape1) is withheld_statement(shape2)
    other_prefix = (first[0], crit("date", T.DATE, DateQuery(Prefix.LT, 1, 2)))
    shape3, _ = search_shape(
        "Observation", other_prefix, patient_key=None, patient_ref_keys=(), consent=CONSENT
    )
    assert shape3 != shape1


def test_values_reach_their_own_columns() -> None:
    token = rendered((crit("code", T.TOKEN, TokenQuery("urn:sys", "N1")),))
    assert "idx_token.code = 'N1' AND idx_token.system = 'urn:sys'" in token
    quantity = rendered(
        (
            crit(
                "v",
                T.QUANTITY,
                QuantityQuery(Prefix.EQ, Decimal(80), Decimal("79.5"), Decimal("80.5"), "urn:u", "kg"),
            ),
        )
    )
    assert "idx_quantity.value >= 79.5 AND idx_quantity.value < 80.5" in quantity
    assert "idx_quantity.code = 'kg' AND idx_quantity.system = 'urn:u'" in quantity
    reference = rendered(
        (
            crit(
                "subject",
                T.REFERENCE,
                ReferenceQuery(None, None, None, "urn:cpr", "0101011234"),
                modifier=Modifier.IDENTIFIER,
            ),
        )
    )
    assert "idx_reference.ident_value = '0101011234' AND idx_reference.ident_system = 'urn:cpr'" in reference
    typed = rendered((crit("subject", T.REFERENCE, ReferenceQuery("Patient", "p1")),))
    assert "idx_reference.target_id = 'p1' AND idx_reference.target_type = 'Patient'" in typed
    date = rendered((crit("date", T.DATE, DateQuery(Prefix.EQ, 100, 199)),))
    assert "idx_date.start_us >= 100 AND idx_date.end_us <= 199" in date
    approximately = rendered((crit("date", T.DATE, DateQuery(Prefix.AP, 10 * DAY, 20 * DAY)),))
    assert f"idx_date.end_us >= {9 * DAY} AND idx_date.start_us <= {21 * DAY}" in approximately
    _, params = search_shape(
        "Observation",
        (crit("name", T.STRING, StringQuery("50%_off\\")),),
        patient_key=None,
        patient_ref_keys=(),
        consent=None,
    )
    assert params == {"v0": "50\\%\\_off\\\\%"}  # LIKE wildcards in a value are escaped


def test_cursor_values_are_parameters_too() -> None:
    sort = (SortKey("date", T.DATE, True, "Observation"),)
    shape, _ = search_shape("Observation", (), patient_key=None, patient_ref_keys=(), consent=None)
    statement = page_statement(shape, sort, True, False, 11)
    assert statement is page_statement(shape, sort, True, False, 11)
    compiled = statement.compile()
    assert {name for name in compiled.params if OURS.fullmatch(name)} == set(keyset_params([5, 9]))
