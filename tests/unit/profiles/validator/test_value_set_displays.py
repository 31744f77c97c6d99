"""Bindings to ValueSets contained in the profile, and displays a bound ValueSet gives its codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from profiles.validator import ProfileValidator
from tests.unit.profiles.conftest import errors, ids
from tests.unit.profiles.validator.profiles_fixture import profile

Build = Callable[..., ProfileValidator]
V2_0131 = "http://terminology.hl7.org/CodeSystem/v2-0131"


def _relationship_profile(value_set: dict[str, Any]) -> dict[str, Any]:
    sd = profile(
        "http://t/StructureDefinition/translated",
        "Patient",
        [{"path": "Patient.contact.relationship", "binding": {"strength": "required", "valueSet": "#rel"}}],
    )
    sd["contained"] = [value_set]
    return sd


EXPANDED = {
    "resourceType": "ValueSet",
    "id": "rel",
    "status": "draft",
    "expansion": {
        "timestamp": "2024-01-01T00:00:00Z",
        "contains": [
            {"system": V2_0131, "code": "C", "display": "alt-display"},
            {"system": V2_0131, "code": "N", "designation": [{"value": "alt-designation"}]},
        ],
    },
}


def _patient(*codes: tuple[str, str]) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "contact": [
            {
                "relationship": [
                    {"coding": [{"system": V2_0131, "code": c, "display": d}]} for c, d in codes
                ],
                "name": {"text": "Someone"},
            }
        ],
    }


def test_contained_value_set_binding_and_its_displays(fresh_validator: Build) -> None:
    sd = _relationship_profile(EXPANDED)
    validator = fresh_validator(sd)
    translated = _patient(("C", "alt-display"), ("N", "alt-designation"))
    # against the base definition, the CodeSystem's displays are the only right ones
    assert ids(validator.validate(translated)) == ["VAL_CODE_DISPLAY", "VAL_CODE_DISPLAY"]
    assert errors(validator.validate(translated, [sd["url"]])) == []
    # a display neither the CodeSystem nor the ValueSet gives is still wrong
    assert ids(validator.validate(_patient(("C", "made up")), [sd["url"]])) == ["VAL_CODE_DISPLAY"]
    # a code outside the contained ValueSet breaks the required binding
    assert ids(validator.validate(_patient(("E", "Employer")), [sd["url"]])) == ["VAL_BINDING_REQUIRED"]


def test_compose_concept_designations_count_too(fresh_validator: Build) -> None:
    composed = {
        "resourceType": "ValueSet",
        "id": "rel",
        "status": "draft",
        "compose": {
            "include": [
                {
                    "system": V2_0131,
                    "concept": [{"code": "C", "designation": [{"language": "da", "value": "Nødkontakt"}]}],
                }
            ]
        },
    }
    validator = fresh_validator(_relationship_profile(composed))
    assert (
        errors(validator.validate(_patient(("C", "Nødkontakt")), ["http://t/StructureDefinition/translated"]))
        == []
    )


def test_unknown_contained_value_set(fresh_validator: Build) -> None:
    sd = _relationship_profile(
        {"resourceType": "CodeSystem", "id": "rel", "status": "draft", "content": "complete"}
    )
    validator = fresh_validator(sd)
    issues = validator.validate(_patient(("C", "Emergency Contact")), [sd["url"]])
    assert errors(issues) == [] and "VAL_BINDING_UNCHECKED" in [i.message_id for i in issues]
