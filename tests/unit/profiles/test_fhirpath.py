"""The hub's FHIRPath engine: compile once, strict syntax, the functions FHIR invariants need."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from profiles.fhirpath import FhirPathEngine, FhirPathEvaluationError, FhirPathSyntaxError

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p1",
    "contained": [{"resourceType": "Organization", "id": "org1", "name": "Clinic"}],
    "managingOrganization": {"reference": "#org1"},
    "birthDate": "1974-12-25",
    "_birthDate": {"extension": [{"url": "http://x", "valueString": "y"}]},
    "_active": {"extension": [{"url": "http://x", "valueString": "only an extension"}]},
    "name": [{"given": ["Peter", "James"], "family": "Chalmers"}],
}


@pytest.fixture(scope="module")
def engine() -> FhirPathEngine:
    return FhirPathEngine()


def test_compile_is_cached_and_strict(engine: FhirPathEngine) -> None:
    assert engine.compile("name.given") is engine.compile("name.given")
    for bad in ("name.given(", "1 +", "name given", "'open"):
        with pytest.raises(FhirPathSyntaxError):
            engine.compile(bad)
    with pytest.raises(FhirPathSyntaxError, match="not supported: frobnicate"):
        engine.compile("name.frobnicate()")


def test_navigation_and_primitive_extensions(engine: FhirPathEngine) -> None:
    assert engine.evaluate("name.given", PATIENT) == ["Peter", "James"]
    assert engine.evaluate("birthDate", PATIENT) == ["1974-12-25"]  # the _birthDate object is not a value
    assert engine.evaluate("birthDate.hasValue()", PATIENT) == [True]
    assert engine.evaluate("active.hasValue()", PATIENT) == [False]
    assert engine.evaluate("active.extension.count()", PATIENT) == [1]


def test_resource_variables_and_resolve(engine: FhirPathEngine) -> None:
    name = PATIENT["name"][0]
    assert engine.evaluate("%resource.id", name, base_type="HumanName", resource=PATIENT) == ["p1"]
    assert engine.evaluate(
        "%rootResource.id", name, base_type="HumanName", resource={}, root_resource=PATIENT
    ) == ["p1"]
    assert engine.evaluate("managingOrganization.resolve().name", PATIENT) == ["Clinic"]
    assert engine.evaluate("%`vs-administrative-gender`", PATIENT) == [
        "http://hl7.org/fhir/ValueSet/administrative-gender"
    ]


def test_resolve_in_a_bundle(engine: FhirPathEngine) -> None:
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient", "id": "a", "gender": "male"}},
            {
                "fullUrl": "http://h/Observation/o",
                "resource": {"resourceType": "Observation", "subject": {"reference": "urn:uuid:1"}},
            },
        ],
    }
    obs = bundle["entry"][1]["resource"]  # type: ignore[index]
    assert engine.evaluate("subject.resolve().gender", obs, resource=obs, root_resource=bundle) == ["male"]


class _Hooks:
    def conforms_to(self, data: Any, url: str) -> bool:
        return url.endswith("/yes")

    def member_of(self, data: Any, value_set: str) -> bool | None:
        return None if value_set.endswith("/unknown") else data == "male"

    def resolve(self, reference: str) -> dict[str, Any] | None:
        return {"resourceType": "Patient", "id": reference}


def test_hooks_for_conforms_to_member_of_and_resolve(engine: FhirPathEngine) -> None:
    hooks = _Hooks()
    patient = {"resourceType": "Patient", "gender": "male", "link": [{"other": {"reference": "X"}}]}
    assert engine.evaluate("conformsTo('http://p/yes')", patient, hooks=hooks) == [True]
    assert engine.evaluate("conformsTo('http://p/no')", patient, hooks=hooks) == [False]
    assert engine.evaluate("gender.memberOf('http://vs')", patient, hooks=hooks) == [True]
    assert engine.evaluate("gender.memberOf('http://vs/unknown')", patient, hooks=hooks) == []
    assert engine.evaluate("link.other.resolve().id", patient, hooks=hooks) == ["X"]


def test_html_checks_approximation(engine: FhirPathEngine) -> None:
    good = {
        "resourceType": "Patient",
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Hi</p></div>'},
    }
    script = {
        "resourceType": "Patient",
        "text": {
            "status": "generated",
            "div": '<div xmlns="http://www.w3.org/1999/xhtml"><script>x()</script></div>',
        },
    }
    empty = {
        "resourceType": "Patient",
        "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">  </div>'},
    }
    assert engine.evaluate("text.`div`.htmlChecks()", good) == [True]
    assert engine.evaluate("text.`div`.htmlChecks()", script) == [False]
    assert engine.evaluate("text.`div`.htmlChecks()", empty) == [False]


def test_invariant_semantics(engine: FhirPathEngine) -> None:
    assert engine.is_true("name.exists()", PATIENT)
    assert not engine.is_true("gender.exists()", PATIENT)
    assert engine.is_true(
        "gender.contains('x').not()", PATIENT
    )  # empty result passes, as in the HL7 validator


def test_runtime_errors_are_wrapped(engine: FhirPathEngine, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(FhirPathEvaluationError):
        engine.evaluate("'abc'.substring('x')", PATIENT)
    assert engine.evaluate("name.given.trace('g').count()", PATIENT) == [2]
    assert capsys.readouterr().out == ""  # trace() never prints


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1.587.lowBoundary(2)", "1.58"),
        ("1.587.highBoundary()", "1.58750000"),
        ("1.58700.precision()", "5"),
        ("(3 | 1 | 2).sort()", "1"),
        ("'a<b'.escape('html')", "a&lt;b"),
        ("'abc'.matchesFull('b')", "False"),
        ("@2014.lowBoundary(6)", "2014-01"),
    ],
)
def test_added_fhirpath_functions(engine: FhirPathEngine, expression: str, expected: str) -> None:
    assert str(engine.evaluate(expression, {})[0]) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1.round()", [Decimal(1)]),
        ("2.5.round()", [Decimal(3)]),
        ("3.14159.round(3)", [Decimal("3.142")]),
        ("true.toString()", ["true"]),
        ("false.toString() + 'x'", ["falsex"]),
        ("'abc'.indexOf('c')", [2]),
        ("'abc'.indexOf({}).empty()", [True]),
        ("'123'.replace('2', {}).empty()", [True]),
        ("'abc'.replace('', 'x')", ["xaxbxcx"]),
    ],
)
def test_functions_fhirpathpy_gets_wrong(expression: str, expected: list[Any]) -> None:
    assert FhirPathEngine().evaluate(expression, {}) == expected
