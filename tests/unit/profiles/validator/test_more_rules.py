"""QuestionnaireResponse answers, extension contexts, IG global profiles, quantity ranges, documents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from profiles.validator import ProfileValidator
from tests.unit.profiles.conftest import errors, ids
from tests.unit.profiles.validator.profiles_fixture import extension, profile

Build = Callable[..., ProfileValidator]
Q = {
    "resourceType": "Questionnaire",
    "url": "http://t/Questionnaire/q",
    "status": "active",
    "item": [
        {"linkId": "name", "type": "string", "required": True, "maxLength": 5},
        {
            "linkId": "age",
            "type": "integer",
            "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": 120}],
        },
        {
            "linkId": "colour",
            "type": "choice",
            "answerOption": [{"valueCoding": {"system": "http://t/cs", "code": "red"}}],
        },
        {"linkId": "grp", "type": "group", "item": [{"linkId": "inner", "type": "boolean"}]},
    ],
}


def _response(*items: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": Q["url"],
        "item": list(items),
    }


def _answer(link: str, **value: Any) -> dict[str, Any]:
    return {"linkId": link, "answer": [value]}


@pytest.fixture
def questionnaires(fresh_validator: Build) -> ProfileValidator:
    return fresh_validator(Q)


def test_conforming_response(questionnaires: ProfileValidator) -> None:
    response = _response(
        _answer("name", valueString="Ann"),
        _answer("age", valueInteger=40),
        {"linkId": "grp", "item": [_answer("inner", valueBoolean=True)]},
    )
    assert errors(questionnaires.validate(response)) == []


@pytest.mark.parametrize(
    ("items", "text"),
    [
        ((_answer("age", valueInteger=4),), "required item"),
        ((_answer("name", valueString="Ann"), _answer("nope", valueString="x")), "LinkId 'nope' not found"),
        ((_answer("name", valueInteger=3),), "must be of the type string"),
        ((_answer("name", valueString="Anna-Maria"),), "longer than 5"),
        (
            (_answer("name", valueString="Ann"), _answer("age", valueInteger=200)),
            "greater than the allowed maximum",
        ),
        (
            (
                _answer("name", valueString="Ann"),
                _answer("colour", valueCoding={"system": "http://t/cs", "code": "blue"}),
            ),
            "not in the set of permitted values",
        ),
        ((_answer("name", valueString="Ann"), _answer("grp", valueString="x")), "should not have answers"),
    ],
)
def test_answer_problems(
    questionnaires: ProfileValidator, items: tuple[dict[str, Any], ...], text: str
) -> None:
    found = [i.diagnostics for i in errors(questionnaires.validate(_response(*items)))]
    assert any(text in f for f in found), found


def test_unknown_questionnaire_is_a_warning(core_validator: ProfileValidator) -> None:
    issues = core_validator.validate(_response(_answer("x", valueString="y")))
    assert errors(issues) == [] and any(i.message_id == "VAL_QUESTIONNAIRE" for i in issues)


def test_extension_context(fresh_validator: Build) -> None:
    on_name = extension("http://t/ext/nick", "string", context="Patient.name")
    validator = fresh_validator(on_name)
    good = {
        "resourceType": "Patient",
        "name": [{"family": "F", "extension": [{"url": on_name["url"], "valueString": "n"}]}],
    }
    bad = {"resourceType": "Patient", "extension": [{"url": on_name["url"], "valueString": "n"}]}
    assert errors(validator.validate(good)) == []
    assert "VAL_EXTENSION_CONTEXT" in ids(validator.validate(bad))


def test_implementation_guide_global_profiles(fresh_validator: Build) -> None:
    needs_name = profile("http://t/named", "Patient", [{"path": "Patient.name", "min": 1}])
    guide = {
        "resourceType": "ImplementationGuide",
        "url": "http://t/ig",
        "name": "T",
        "status": "active",
        "packageId": "t",
        "fhirVersion": ["4.0.1"],
        "global": [{"type": "Patient", "profile": "http://t/named"}],
    }
    validator = fresh_validator(needs_name, guide)
    assert "VAL_CARDINALITY_MIN" in ids(validator.validate({"resourceType": "Patient"}))


def test_quantity_ranges_after_unit_conversion(fresh_validator: Build) -> None:
    sd = profile(
        "http://t/weight",
        "Observation",
        [
            {
                "path": "Observation.valueQuantity",
                "minValueQuantity": {"value": 1, "system": "http://unitsofmeasure.org", "code": "kg"},
            }
        ],
    )
    validator = fresh_validator(sd)
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "w"}}
    light = dict(obs, valueQuantity={"value": 500, "system": "http://unitsofmeasure.org", "code": "g"})
    heavy = dict(obs, valueQuantity={"value": 1500, "system": "http://unitsofmeasure.org", "code": "g"})
    assert "VAL_MIN_VALUE" in ids(validator.validate(light, [sd["url"]]))
    assert "VAL_MIN_VALUE" not in ids(validator.validate(heavy, [sd["url"]]))


def test_document_bundle_reference_rules(core_validator: ProfileValidator) -> None:
    composition = {
        "resourceType": "Composition",
        "id": "c",
        "status": "final",
        "type": {"text": "t"},
        "date": "2024-01-01",
        "author": [{"reference": "Organization/o"}],
        "title": "T",
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "document",
        "identifier": {
            "system": "urn:ietf:rfc:3986",
            "value": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0",
        },
        "timestamp": "2024-01-01T00:00:00Z",
        "entry": [
            {"fullUrl": "http://h/fhir/Composition/c", "resource": composition},
            {
                "fullUrl": "http://h/fhir/Organization/o",
                "resource": {"resourceType": "Organization", "id": "o", "name": "X"},
            },
            {"fullUrl": "http://h/fhir/Patient/p", "resource": {"resourceType": "Patient", "id": "p"}},
        ],
    }
    found = [i.diagnostics for i in errors(core_validator.validate(bundle))]
    assert any("isn't reachable" in f and "Patient/p" in f for f in found) and len(found) == 1
    moved = dict(
        bundle,
        entry=[
            dict(bundle["entry"][0], fullUrl="urn:uuid:7a6e4b0c-7f0c-4b7a-9d8e-1f2a3b4c5d6e"),
            *bundle["entry"][1:],
        ],
    )
    assert any("Can't find 'Organization/o'" in i.diagnostics for i in errors(core_validator.validate(moved)))
