"""Rules profiles state with extensions on ElementDefinition: minLength, mustHaveValue, valueAlternatives,
additional bindings, narrative language and source control; and ele-1 for elements with only an id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from profiles.narrative import language_sections, unsourced_parts
from profiles.validator import ProfileValidator
from profiles.validator.element_rules import RuleKind, compile_rules
from tests.unit.profiles.conftest import errors, ids
from tests.unit.profiles.validator.profiles_fixture import profile

Build = Callable[..., ProfileValidator]
R5 = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition."
DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
NULL_FLAVOR = "http://hl7.org/fhir/StructureDefinition/iso21090-nullFlavor"
XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'


def _patient_profile(name: str, element: dict[str, Any]) -> dict[str, Any]:
    return profile(f"http://t/StructureDefinition/{name}", "Patient", [element])


def _ext(url: str, **value: Any) -> dict[str, Any]:
    return {"url": url, **value}


def test_min_length(fresh_validator: Build) -> None:
    sd = _patient_profile(
        "min-length",
        {
            "path": "Patient.id",
            "extension": [_ext("http://hl7.org/fhir/StructureDefinition/minLength", valueInteger=5)],
        },
    )
    validator = fresh_validator(sd)
    assert ids(validator.validate({"resourceType": "Patient", "id": "abc"}, [sd["url"]])) == [
        "VAL_MIN_LENGTH"
    ]
    assert errors(validator.validate({"resourceType": "Patient", "id": "abcdef"}, [sd["url"]])) == []
    # the base definition has no such rule
    assert errors(validator.validate({"resourceType": "Patient", "id": "abc"})) == []


def test_must_have_value(fresh_validator: Build) -> None:
    sd = _patient_profile(
        "must-value", {"path": "Patient.active", "extension": [_ext(R5 + "mustHaveValue", valueBoolean=True)]}
    )
    validator = fresh_validator(sd)
    absent = {"resourceType": "Patient", "_active": {"extension": [_ext(DAR, valueCode="unknown")]}}
    assert ids(validator.validate(absent, [sd["url"]])) == ["VAL_VALUE_REQUIRED"]
    assert errors(validator.validate({"resourceType": "Patient", "active": True}, [sd["url"]])) == []


def test_value_alternatives(fresh_validator: Build) -> None:
    sd = _patient_profile(
        "alternatives",
        {"path": "Patient.active", "extension": [_ext(R5 + "valueAlternatives", valueCanonical=DAR)]},
    )
    validator = fresh_validator(sd)
    wrong = {"resourceType": "Patient", "_active": {"extension": [_ext(NULL_FLAVOR, valueCode="MSK")]}}
    assert ids(validator.validate(wrong, [sd["url"]])) == ["VAL_VALUE_REQUIRED"]
    allowed = {"resourceType": "Patient", "_active": {"extension": [_ext(DAR, valueCode="masked")]}}
    assert errors(validator.validate(allowed, [sd["url"]])) == []
    assert errors(validator.validate({"resourceType": "Patient", "active": False}, [sd["url"]])) == []


def test_additional_required_binding(fresh_validator: Build) -> None:
    value_set = {
        "resourceType": "ValueSet",
        "url": "http://t/ValueSet/internal",
        "status": "active",
        "compose": {
            "include": [
                {"system": "http://t/cs", "concept": [{"code": "in"}]},
                {"system": "http://loinc.org"},
            ]
        },
    }
    code_system = {
        "resourceType": "CodeSystem",
        "url": "http://t/cs",
        "status": "active",
        "content": "complete",
        "concept": [{"code": "in"}, {"code": "out"}],
    }
    additional = _ext(
        R5 + "binding.additional",
        extension=[_ext("purpose", valueCode="required"), _ext("valueSet", valueCanonical=value_set["url"])],
    )
    sd = profile(
        "http://t/StructureDefinition/obs-additional",
        "Observation",
        [
            {
                "path": "Observation.code",
                "binding": {
                    "strength": "example",
                    "valueSet": "http://hl7.org/fhir/ValueSet/observation-codes",
                    "extension": [additional],
                },
            }
        ],
    )
    validator = fresh_validator(value_set, code_system, sd)

    def obs(code: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://t/cs", "code": code}]},
        }

    assert ids(validator.validate(obs("out"), [sd["url"]])) == ["VAL_BINDING_ADDITIONAL"]
    assert errors(validator.validate(obs("in"), [sd["url"]])) == []
    # a code the hub cannot check (all of LOINC is included, LOINC is not loaded) is not called wrong
    unknown = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "1-8"}]},
    }
    assert errors(validator.validate(unknown, [sd["url"]])) == []


def _narrative_patient(div: str, language: str | None = None) -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient", "text": {"status": "generated", "div": div}}
    if language:
        patient["language"] = language
    return patient


TWO_LANGUAGES = (
    f'<div {XHTML}><div lang="en" xml:lang="en">Hello</div><div lang="de" xml:lang="de">Hallo</div></div>'
)
NO_SECTIONS = f"<div {XHTML}>Just text</div>"


@pytest.mark.parametrize(
    ("control", "div", "language", "expected"),
    [
        ("_no", TWO_LANGUAGES, None, ["VAL_NARRATIVE_LANGUAGE"]),
        ("_no", NO_SECTIONS, None, []),
        ("_yes", NO_SECTIONS, None, ["VAL_NARRATIVE_LANGUAGE"]),
        ("_yes", TWO_LANGUAGES, None, []),
        ("_resource", TWO_LANGUAGES, "en", []),
        ("_resource", TWO_LANGUAGES, "fr", ["VAL_NARRATIVE_LANGUAGE"]),
        ("de", TWO_LANGUAGES, None, []),
        ("da", TWO_LANGUAGES, None, ["VAL_NARRATIVE_LANGUAGE"]),
    ],
)
def test_narrative_language_control(
    fresh_validator: Build, control: str, div: str, language: str | None, expected: list[str]
) -> None:
    sd = _patient_profile(
        "lang-" + control.strip("_"),
        {
            "path": "Patient.text",
            "extension": [
                _ext("http://hl7.org/fhir/StructureDefinition/narrative-language-control", valueCode=control)
            ],
        },
    )
    validator = fresh_validator(sd)
    assert ids(validator.validate(_narrative_patient(div, language), [sd["url"]])) == expected


def test_narrative_source_control(fresh_validator: Build) -> None:
    def source_profile(level: str) -> dict[str, Any]:
        return _patient_profile(
            "source-" + level,
            {
                "path": "Patient.text",
                "extension": [
                    _ext("http://hl7.org/fhir/StructureDefinition/narrative-source-control", valueCode=level)
                ],
            },
        )

    strict, lenient = source_profile("error"), source_profile("warning")
    validator = fresh_validator(strict, lenient)
    div = (
        f'<div {XHTML}>Loose text<h1 class="boilerplate">Head</h1><p>no source</p>'
        '<p class="generated x">ok</p></div>'
    )
    issues = validator.validate(_narrative_patient(div), [strict["url"]])
    assert ids(issues) == ["VAL_NARRATIVE_SOURCE", "VAL_NARRATIVE_SOURCE"]
    warned = validator.validate(_narrative_patient(div), [lenient["url"]])
    assert errors(warned) == [] and sum(i.message_id == "VAL_NARRATIVE_SOURCE" for i in warned) == 2
    sourced = f'<div {XHTML}><p class="original">all labelled</p></div>'
    assert errors(validator.validate(_narrative_patient(sourced), [strict["url"]])) == []


def test_narrative_helpers_survive_bad_xhtml() -> None:
    assert language_sections("<div") is None
    assert unsourced_parts("<div") == []
    assert language_sections(TWO_LANGUAGES) == ["en", "de"]
    assert unsourced_parts(f"<div {XHTML}><p>a <b>b</b></p> tail</div>") == ["a b", "tail"]


def test_compile_rules_ignores_unrelated_or_malformed_extensions() -> None:
    element = {
        "path": "Patient.id",
        "extension": [
            _ext("http://hl7.org/fhir/StructureDefinition/minLength", valueInteger=-1),
            _ext("http://hl7.org/fhir/StructureDefinition/minLength", valueBoolean=True),
            _ext("http://example.org/other", valueString="x"),
            "not an extension",
        ],
        "binding": {
            "extension": [_ext(R5 + "binding.additional", extension=[_ext("purpose", valueCode="ui")])]
        },
    }
    assert compile_rules(element, "http://t/p", "Patient.id") == ()
    rules = compile_rules(
        {"extension": [_ext("http://hl7.org/fhir/StructureDefinition/minLength", valueInteger=3)]}, "u", "e"
    )
    assert [r.kind for r in rules] == [RuleKind.MIN_LENGTH]


def test_an_id_alone_is_not_content(core_validator: ProfileValidator) -> None:
    primitive = {"resourceType": "Patient", "_implicitRules": {"id": "i1"}}
    assert ids(core_validator.validate(primitive)) == ["VAL_ELE_1"]
    complex_value = {"resourceType": "Patient", "maritalStatus": {"id": "m1"}}
    assert ids(core_validator.validate(complex_value)) == ["VAL_ELE_1"]
    extended = {
        "resourceType": "Patient",
        "_birthDate": {"id": "b", "extension": [_ext(DAR, valueCode="unknown")]},
    }
    assert errors(core_validator.validate(extended)) == []


def test_date_limits_relative_to_now(fresh_validator: Build) -> None:
    years = {"system": "http://unitsofmeasure.org", "code": "a", "unit": "a"}
    sd = _patient_profile(
        "birth-window",
        {
            "path": "Patient.birthDate",
            "minValueDuration": {"value": 100, **years},
            "maxValueDuration": {"value": 1, **years},
        },
    )
    validator = fresh_validator(sd)

    def born(date: str) -> list[str | None]:
        return ids(validator.validate({"resourceType": "Patient", "birthDate": date}, [sd["url"]]))

    assert born("1850-01-01") == ["VAL_MIN_VALUE"]
    assert born("2999-01-01") == ["VAL_MIN_VALUE"]
    assert born("1990-06-15") == []
    assert born("1990") == []
    # the base definition states no limits
    assert ids(validator.validate({"resourceType": "Patient", "birthDate": "1850-01-01"})) == []


def test_r5_interface_types_as_extension_contexts(fresh_validator: Build) -> None:
    ext = {
        "resourceType": "StructureDefinition",
        "url": "http://t/StructureDefinition/canonical-note",
        "name": "CanonicalNote",
        "status": "draft",
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": "CanonicalResource"}],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {
            "element": [
                {"path": "Extension.extension", "max": "0"},
                {"path": "Extension.url", "fixedUri": "http://t/StructureDefinition/canonical-note"},
                {"path": "Extension.value[x]", "type": [{"code": "string"}]},
            ]
        },
    }
    validator = fresh_validator(ext)
    note = [{"url": ext["url"], "valueString": "x"}]
    code_system = {
        "resourceType": "CodeSystem",
        "url": "http://t/cs",
        "status": "draft",
        "content": "complete",
    }
    assert errors(validator.validate({**code_system, "extension": note})) == []
    assert ids(validator.validate({"resourceType": "Patient", "extension": note})) == [
        "VAL_EXTENSION_CONTEXT"
    ]
