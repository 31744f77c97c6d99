"""Search-request parsing: every prefix and modifier, result parameters, unknown and hostile input."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hub.core.errors import InvalidInputError
from hub.core.search import (
    Criterion,
    DateQuery,
    MissingQuery,
    Modifier,
    NumberQuery,
    Prefix,
    QuantityQuery,
    ReferenceQuery,
    SearchParamType,
    SortKey,
    StringQuery,
    TokenQuery,
    UriQuery,
)
from hub.fhir.search import (
    Include,
    SearchParameterDef,
    SearchRequest,
    SummaryMode,
    TotalMode,
    default_registry,
    parse_search_request,
)

D = Decimal
REGISTRY = default_registry()
REGISTRY.add(
    SearchParameterDef("Observation", "test-number", SearchParamType.NUMBER, "Observation.extension.value")
)


def parse(resource_type: str, *pairs: tuple[str, str], base: str | None = None) -> SearchRequest:
    return parse_search_request(REGISTRY, resource_type, list(pairs), local_base=base)


def one(resource_type: str, name: str, value: str) -> Criterion:
    request = parse(resource_type, (name, value))
    assert request.unknown == ()
    assert len(request.criteria) == 1
    return request.criteria[0]


def utc_us(
    year: int, month: int = 1, day: int = 1, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> int:
    moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1_000_000 + moment.microsecond


# ---------------------------------------------------------------- token


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("29463-7", TokenQuery(None, "29463-7")),
        ("http://loinc.org|29463-7", TokenQuery("http://loinc.org", "29463-7")),
        ("|29463-7", TokenQuery("", "29463-7")),  # explicitly no system
        ("http://loinc.org|", TokenQuery("http://loinc.org", None)),  # any code in the system
        (r"urn:x|a\|b", TokenQuery("urn:x", "a|b")),
        (r"a\,b", TokenQuery(None, "a,b")),
    ],
)
def test_token_forms(value: str, expected: TokenQuery) -> None:
    criterion = one("Observation", "code", value)
    assert criterion == Criterion("Observation", "code", SearchParamType.TOKEN, Modifier.NONE, (expected,))
    assert criterion.hash == REGISTRY.get("Observation", "code").hash  # type: ignore[union-attr]


def test_token_or_and_and() -> None:
    request = parse("Observation", ("code", "a,http://loinc.org|b"), ("code", "c"), ("status", "final"))
    assert [c.values for c in request.criteria] == [
        (TokenQuery(None, "a"), TokenQuery("http://loinc.org", "b")),
        (TokenQuery(None, "c"),),
        (TokenQuery(None, "final"),),
    ]


def test_token_modifiers() -> None:
    assert one("Observation", "code:not", "x") == Criterion(
        "Observation", "code", SearchParamType.TOKEN, Modifier.NOT, (TokenQuery(None, "x"),)
    )
    assert one("Observation", "code:text", "Body  WEIGHT|é").values == (
        TokenQuery(None, None, "body weight|e"),
    )
    assert one("Observation", "code:missing", "true").values == (MissingQuery(True),)
    assert one("Observation", "_id", "example").values == (TokenQuery(None, "example"),)


def test_malformed_tokens() -> None:
    with pytest.raises(InvalidInputError, match="more than one unescaped"):
        parse("Observation", ("code", "a|b|c"))
    with pytest.raises(InvalidInputError, match="'code'"):
        parse("Observation", ("code", "|"))


# ---------------------------------------------------------------- string


def test_string_modifiers() -> None:
    assert one("Patient", "name", "  Bénédicte ").values == (StringQuery("benedicte"),)
    assert one("Patient", "name:contains", "MARCH").modifier is Modifier.CONTAINS
    assert one("Patient", "name:contains", "MARCH").values == (StringQuery("march"),)
    exact = one("Patient", "name:exact", "du Marché")
    assert (exact.modifier, exact.values) == (Modifier.EXACT, (StringQuery("du Marché"),))
    assert one("Patient", "family:missing", "false").values == (MissingQuery(False),)
    assert parse("Patient", ("name", "   ")).criteria == ()  # normalises to nothing: no criterion


# ---------------------------------------------------------------- date


@pytest.mark.parametrize("prefix", list(Prefix))
def test_every_date_prefix(prefix: Prefix) -> None:
    criterion = one("Observation", "date", f"{prefix.value}2024-03")
    assert criterion.values == (DateQuery(prefix, utc_us(2024, 3, 1), utc_us(2024, 4, 1) - 1),)


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("2024", utc_us(2024, 1, 1), utc_us(2025, 1, 1) - 1),
        ("2024-03-05", utc_us(2024, 3, 5), utc_us(2024, 3, 6) - 1),
        ("ge2024-03-05T10:00", utc_us(2024, 3, 5, 10), utc_us(2024, 3, 5, 10, 1) - 1),
        ("2024-03-05T10:00:00Z", utc_us(2024, 3, 5, 10), utc_us(2024, 3, 5, 10, 0, 1) - 1),
        ("2024-03-05T10:00:00+01:00", utc_us(2024, 3, 5, 9), utc_us(2024, 3, 5, 9, 0, 1) - 1),
        (
            "2024-03-05T10:00:00 01:00",
            utc_us(2024, 3, 5, 9),
            utc_us(2024, 3, 5, 9, 0, 1) - 1,
        ),  # unencoded '+'
        (
            "lt2024-03-05T10:00:00.5-02:00",
            utc_us(2024, 3, 5, 12, 0, 0, 500_000),
            utc_us(2024, 3, 5, 12, 0, 0, 600_000) - 1,
        ),
    ],
)
def test_partial_dates_and_zones(value: str, start: int, end: int) -> None:
    (query,) = one("Observation", "date", value).values
    assert isinstance(query, DateQuery)
    assert (query.start, query.end) == (start, end)


def test_last_updated_is_a_date() -> None:
    assert one("Patient", "_lastUpdated", "gt2024").values == (
        DateQuery(Prefix.GT, utc_us(2024, 1, 1), utc_us(2025, 1, 1) - 1),
    )


@pytest.mark.parametrize(
    "value",
    [
        "2024-13",
        "2024-02-30",
        "xx2024",
        "ge",
        "2024-03-05T25:00",
        "2024-03-05T10:00:00+15:00",
        "today",
        "2024-03-05'; DROP TABLE resource; --",
        "9" * 5000,
        "eq 2024",
    ],
)
def test_malformed_dates_name_the_parameter(value: str) -> None:
    with pytest.raises(InvalidInputError, match="search parameter 'date'") as caught:
        parse("Observation", ("date", value))
    assert len(caught.value.message) < 400  # the hostile value is quoted, cut short


# ---------------------------------------------------------------- number and quantity


@pytest.mark.parametrize("prefix", list(Prefix))
def test_every_number_prefix(prefix: Prefix) -> None:
    assert one("Observation", "test-number", f"{prefix.value}100").values == (
        NumberQuery(prefix, D(100), D("99.5"), D("100.5")),
    )


def test_number_precision() -> None:
    assert one("Observation", "test-number", "5.4").values == (
        NumberQuery(Prefix.EQ, D("5.4"), D("5.35"), D("5.45")),
    )
    assert one("Observation", "test-number", "ap-1e2").values == (
        NumberQuery(Prefix.AP, D("-1e2"), D("-150"), D("-50")),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5.4", QuantityQuery(Prefix.EQ, D("5.4"), D("5.35"), D("5.45"), None, None)),
        (
            "le5.4|http://unitsofmeasure.org|mg",
            QuantityQuery(Prefix.LE, D("5.4"), D("5.35"), D("5.45"), "http://unitsofmeasure.org", "mg"),
        ),
        ("gt140||mm[Hg]", QuantityQuery(Prefix.GT, D(140), D("139.5"), D("140.5"), None, "mm[Hg]")),
        (
            "sa0.5|http://unitsofmeasure.org|",
            QuantityQuery(Prefix.SA, D("0.5"), D("0.45"), D("0.55"), "http://unitsofmeasure.org", None),
        ),
    ],
)
def test_quantities(value: str, expected: QuantityQuery) -> None:
    assert one("Observation", "value-quantity", value).values == (expected,)


@pytest.mark.parametrize(
    "value", ["5.4|mg", "abc", "1e999999", "1" * 300, "NaN", "Infinity", "5.4|a|b|c", "--5", "0x10", "5,4e"]
)
def test_bad_numbers(value: str) -> None:
    with pytest.raises(InvalidInputError, match="value-quantity"):
        parse("Observation", ("value-quantity", value))


# ---------------------------------------------------------------- reference and chains


@pytest.mark.parametrize(
    ("name", "value", "modifier", "expected"),
    [
        ("subject", "Patient/123", Modifier.NONE, ReferenceQuery("Patient", "123")),
        ("subject", "123", Modifier.NONE, ReferenceQuery(None, "123")),
        ("subject:Patient", "123", Modifier.TYPE, ReferenceQuery("Patient", "123")),
        ("subject", "Patient/123/_history/2", Modifier.NONE, ReferenceQuery("Patient", "123")),
        (
            "subject",
            "https://other.example/fhir/Patient/9",
            Modifier.NONE,
            ReferenceQuery(None, None, "https://other.example/fhir/Patient/9"),
        ),
        ("subject", "https://telehub.example/fhir/Patient/9", Modifier.NONE, ReferenceQuery("Patient", "9")),
        (
            "subject",
            "urn:uuid:3c8fd7ef-5a56-4ac5-9cb3-3e5fbc4cc3e8",
            Modifier.NONE,
            ReferenceQuery(None, None, "urn:uuid:3c8fd7ef-5a56-4ac5-9cb3-3e5fbc4cc3e8"),
        ),
        (
            "subject:identifier",
            "urn:oid:1.2.208.176.1.2|0101011234",
            Modifier.IDENTIFIER,
            ReferenceQuery(None, None, None, "urn:oid:1.2.208.176.1.2", "0101011234"),
        ),
        (
            "subject:identifier",
            "0101011234",
            Modifier.IDENTIFIER,
            ReferenceQuery(None, None, None, None, "0101011234"),
        ),
        ("subject:missing", "true", Modifier.MISSING, MissingQuery(True)),
    ],
)
def test_references(name: str, value: str, modifier: Modifier, expected: object) -> None:
    request = parse("Observation", (name, value), base="https://telehub.example/fhir")
    (criterion,) = request.criteria
    assert (criterion.code, criterion.modifier, criterion.values) == ("subject", modifier, (expected,))


def test_canonical_references_drop_the_version() -> None:
    assert one(
        "StructureDefinition", "base", "http://hl7.org/fhir/StructureDefinition/Observation|4.0.1"
    ).values == (ReferenceQuery(None, None, "http://hl7.org/fhir/StructureDefinition/Observation"),)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("subject:Organization", "1", "not a target of subject"),
        ("subject:Patient", "Device/1", "contradicts the :Patient modifier"),
        ("subject", "not a reference", "neither an id"),
        ("subject", "' OR '1'='1", "neither an id"),
        ("subject:exact", "1", "modifier :exact is not supported on reference"),
        ("subject:missing", "maybe", ":missing takes true or false"),
        ("subject:Patient.name.family", "x", "one level of chaining"),
        ("code.display", "x", "only a reference parameter"),
    ],
)
def test_reference_errors(name: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse("Observation", (name, value))


def test_chains() -> None:
    criterion = one("Observation", "subject:Patient.identifier", "urn:oid:1.2.208.176.1.2|0101011234")
    assert criterion == Criterion(
        "Observation",
        "subject",
        SearchParamType.REFERENCE,
        Modifier.TYPE,
        (),
        chain=Criterion(
            "Patient",
            "identifier",
            SearchParamType.TOKEN,
            Modifier.NONE,
            (TokenQuery("urn:oid:1.2.208.176.1.2", "0101011234"),),
        ),
    )
    # without a type: the only served target type that has the parameter
    untyped = one("Observation", "subject.name:exact", "Peter")
    assert untyped.modifier is Modifier.NONE
    assert untyped.chain == Criterion(
        "Patient", "name", SearchParamType.STRING, Modifier.EXACT, (StringQuery("Peter"),)
    )
    assert one("Observation", "patient.birthdate", "ge1974").chain.code == "birthdate"  # type: ignore[union-attr]


def test_ambiguous_and_unknown_chains() -> None:
    with pytest.raises(InvalidInputError, match="several targets of performer"):
        parse("Observation", ("performer.identifier", "x"))
    assert parse("Observation", ("performer:Practitioner.identifier", "x")).criteria[0].chain is not None
    assert parse("Observation", ("subject.no-such-param", "x")).unknown == ("subject.no-such-param",)


# ---------------------------------------------------------------- uri


def test_uri_modifiers() -> None:
    assert one("Device", "url", "http://x/y").values == (UriQuery("http://x/y"),)
    assert one("ValueSet", "url:below", "http://hl7.org/fhir/").modifier is Modifier.BELOW
    assert one("ValueSet", "url:above", "http://hl7.org/fhir/ValueSet/x").modifier is Modifier.ABOVE
    with pytest.raises(InvalidInputError, match="modifier :contains is not supported on uri"):
        parse("ValueSet", ("url:contains", "x"))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("code:contains", "supported: :missing, :not, :text"),
        ("code:below", "not supported on token"),
        ("code:in", "not supported on token"),
        ("date:exact", "not supported on date"),
        ("value-quantity:not", "not supported on quantity"),
        ("name:text", "not supported on string"),
        ("code:type", "not supported on token"),
    ],
)
def test_unsupported_modifiers_are_rejected(name: str, message: str) -> None:
    resource_type = "Patient" if name.startswith("name") else "Observation"
    with pytest.raises(InvalidInputError, match=message):
        parse(resource_type, (name, "x"))


# ---------------------------------------------------------------- result parameters


def test_result_parameters() -> None:
    request = parse(
        "Observation",
        ("patient", "Patient/1"),
        ("_count", "20"),
        ("_sort", "-date,status"),
        ("_include", "Observation:subject:Patient"),
        ("_include:iterate", "Observation:performer"),
        ("_revinclude", "Provenance:target"),
        ("_summary", "count"),
        ("_total", "accurate"),
        ("_elements", "status,Observation.code, valueQuantity"),
        ("_format", "json"),
        ("_pretty", "true"),
    )
    assert request.count == 20
    assert request.sort == (
        SortKey("date", SearchParamType.DATE, True, "Observation"),
        SortKey("status", SearchParamType.TOKEN, False, "Observation"),
    )
    assert request.includes == (
        Include("Observation", "subject", "Patient"),
        Include("Observation", "performer", None, iterate=True),
    )
    assert request.includes[0].param_hash == REGISTRY.get("Observation", "subject").hash  # type: ignore[union-attr]
    assert request.revincludes == (Include("Provenance", "target"),)
    assert request.summary is SummaryMode.COUNT and request.summary_count
    assert request.total is TotalMode.ACCURATE and request.total != "none"  # type: ignore[comparison-overlap]
    assert request.elements == ("status", "code", "valueQuantity")
    assert request.unknown == ()
    assert len(request.criteria) == 1


def test_defaults() -> None:
    request = parse("Observation")
    assert request == SearchRequest("Observation")
    assert not request.summary_count
    assert parse("Observation", ("_total", "none")).total == "none"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("_count", "-1", "_count"),
        ("_count", "ten", "_count"),
        ("_count", "99999999999999999999", "_count"),
        ("_count", "١٢", "_count"),
        ("_sort", "nope", "not a search parameter of Observation"),
        ("_include", "Patient:organization", "must start with Observation"),
        ("_include", "Observation:status", "not a reference parameter"),
        ("_include", "Observation:subject:Organization", "not a target of subject"),
        ("_include", "*", "wildcards are not supported"),
        ("_include:recursive", "Observation:subject", "modifier :recursive"),
        ("_revinclude", "Provenance:target:Patient", "the target must be Observation"),
        ("_revinclude", "Patient:organization", "cannot point at Observation"),
        ("_summary", "maybe", "_summary 'maybe' is not one of true, text, data, count, false"),
        ("_total", "exact", "not one of none, estimate, accurate"),
        ("_elements", "code,<script>", "not an element name"),
    ],
)
def test_bad_result_parameters(name: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse("Observation", (name, value))


def test_repeated_single_valued_result_parameters() -> None:
    with pytest.raises(InvalidInputError, match="_count may be given only once"):
        parse("Observation", ("_count", "1"), ("_count", "2"))


# ---------------------------------------------------------------- unknown and empty


def test_unknown_parameters_are_collected_not_raised() -> None:
    request = parse(
        "Observation",
        ("foo", "1"),
        ("_has:Observation:patient:code", "x"),
        ("_text", "x"),
        ("foo", "2"),
        ("code", "x"),
    )
    assert request.unknown == ("foo", "_has:Observation:patient:code", "_text")
    assert [c.code for c in request.criteria] == ["code"]
    assert parse("Encounter", ("date", "2024")).unknown == ("date",)


def test_empty_values_are_ignored() -> None:
    assert parse(
        "Observation", ("code", ""), ("date", ""), ("code", ",,"), ("_sort", ""), ("_count", "")
    ) == SearchRequest("Observation")


def test_hostile_parameter_names() -> None:
    with pytest.raises(InvalidInputError, match="modifier :' OR 1=1 --"):
        parse("Observation", ("code:' OR 1=1 --", "x"))
    request = parse("Observation", ("x'; DROP TABLE resource; --", "1"), ("\x00", "1"), ("код", "1"))
    assert request.unknown == ("x'; DROP TABLE resource; --", "\x00", "код")
    assert request.criteria == ()


def test_many_values_stay_or_ed_in_one_criterion() -> None:
    values = ",".join(f"http://loinc.org|{n}" for n in range(500))
    (criterion,) = parse("Observation", ("code", values)).criteria
    assert len(criterion.values) == 500
