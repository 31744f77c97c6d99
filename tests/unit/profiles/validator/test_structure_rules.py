"""Base-definition checks: unknown elements, cardinality, JSON arrays, choice types, primitives."""

from __future__ import annotations

from typing import Any

import pytest

from profiles.validator import ProfileValidator
from tests.unit.profiles.conftest import errors, ids


def test_official_example_is_clean(core_validator: ProfileValidator) -> None:
    patient = {
        "resourceType": "Patient",
        "id": "example",
        "active": True,
        "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}],
        "gender": "male",
        "birthDate": "1974-12-25",
        "managingOrganization": {"reference": "Organization/1"},
    }
    assert errors(core_validator.validate(patient)) == []


@pytest.mark.parametrize(
    ("resource", "message_id", "expression"),
    [
        ({"resourceType": "Patient", "foo": 1}, "VAL_UNKNOWN_ELEMENT", "Patient.foo"),
        ({"resourceType": "Patient", "gender": ["male"]}, "VAL_JSON_ARRAY_UNEXPECTED", "Patient.gender"),
        ({"resourceType": "Patient", "name": {"family": "x"}}, "VAL_JSON_ARRAY_EXPECTED", "Patient.name"),
        ({"resourceType": "Patient", "name": []}, "VAL_JSON_EMPTY", "Patient.name"),
        ({"resourceType": "Patient", "active": "yes"}, "VAL_PRIMITIVE_FORMAT", "Patient.active"),
        ({"resourceType": "Patient", "birthDate": "1974-02-30"}, "VAL_PRIMITIVE_FORMAT", "Patient.birthDate"),
        ({"resourceType": "Patient", "birthDate": "25-12-1974"}, "VAL_PRIMITIVE_FORMAT", "Patient.birthDate"),
        (
            {"resourceType": "Patient", "multipleBirthInteger": 1.5},
            "VAL_PRIMITIVE_FORMAT",
            "Patient.multipleBirth.ofType(integer)",
        ),
        ({"resourceType": "Patient", "id": "has space"}, "VAL_RESOURCE_ID", "Patient.id"),
        ({"resourceType": "Patient", "maritalStatus": {}}, "VAL_ELE_1", "Patient.maritalStatus"),
        ({"resourceType": "Patient", "gender": None}, "VAL_JSON_NULL", "Patient.gender"),
        (
            {"resourceType": "Patient", "deceasedBoolean": True, "deceasedDateTime": "2020"},
            "VAL_CHOICE_MULTIPLE",
            "Patient",
        ),
        ({"resourceType": "Patient", "deceasedString": "x"}, "VAL_UNKNOWN_ELEMENT", "Patient.deceasedString"),
        (
            {"resourceType": "Patient", "link": [{"type": "seealso"}]},
            "VAL_CARDINALITY_MIN",
            "Patient.link[0]",
        ),
        (
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "x"},
                "effectiveInstant": "2020-01-01",
            },
            "VAL_PRIMITIVE_FORMAT",
            "Observation.effective.ofType(instant)",
        ),
    ],
)
def test_structural_errors(
    core_validator: ProfileValidator, resource: dict[str, Any], message_id: str, expression: str
) -> None:
    issues = errors(core_validator.validate(resource))
    matching = [i for i in issues if i.message_id == message_id]
    assert matching, [(i.message_id, i.expression, i.diagnostics) for i in issues]
    assert expression in matching[0].expression


def test_all_problems_are_collected_not_just_the_first(core_validator: ProfileValidator) -> None:
    resource = {
        "resourceType": "Observation",
        "bogus": 1,
        "status": "nonsense",
        "valueQuantity": {"value": "x"},
    }
    found = set(ids(core_validator.validate(resource)))
    assert {
        "VAL_UNKNOWN_ELEMENT",
        "VAL_CARDINALITY_MIN",
        "VAL_BINDING_REQUIRED",
        "VAL_PRIMITIVE_FORMAT",
    } <= found


def test_primitive_extensions(core_validator: ProfileValidator) -> None:
    ok = {
        "resourceType": "Patient",
        "_birthDate": {
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                    "valueDateTime": "1974-12-25T14:35:45-05:00",
                }
            ]
        },
    }
    assert errors(core_validator.validate(ok)) == []
    bad = {"resourceType": "Patient", "_birthDate": {"nope": 1}}
    assert "VAL_UNKNOWN_ELEMENT" in ids(core_validator.validate(bad))
    arrays = {
        "resourceType": "Patient",
        "name": [
            {
                "given": ["A", None],
                "_given": [None, {"extension": [{"url": "http://example.org/x", "valueCode": "y"}]}],
            }
        ],
    }
    assert errors(core_validator.validate(arrays)) == []
    # an id alone is neither a value nor children (ele-1)
    id_only = {"resourceType": "Patient", "name": [{"given": ["A", None], "_given": [None, {"id": "g2"}]}]}
    assert ids(core_validator.validate(id_only)) == ["VAL_ELE_1"]


def test_unknown_and_abstract_resource_types(core_validator: ProfileValidator) -> None:
    assert ids(core_validator.validate({"resourceType": "Patientt"})) == ["VAL_RESOURCE_TYPE_UNKNOWN"]
    assert ids(core_validator.validate({"resourceType": "DomainResource"})) == ["VAL_RESOURCE_ABSTRACT"]
    assert ids(core_validator.validate({"id": "x"})) == ["VAL_RESOURCE_TYPE_MISSING"]
    assert ids(core_validator.validate(["not", "an", "object"])) == ["VAL_JSON_NOT_OBJECT"]


def test_element_ids_are_unique_within_a_resource(core_validator: ProfileValidator) -> None:
    def patient(*name_ids: str) -> dict[str, Any]:
        return {"resourceType": "Patient", "name": [{"id": i, "family": f"F{i}"} for i in name_ids]}

    assert ids(core_validator.validate(patient("n1", "n2"))) == []
    assert ids(core_validator.validate(patient("n1", "n1"))) == ["VAL_DUPLICATE_ID"]
    # contained resources keep their own id space; the same id in a profile's snapshot and
    # differential is by design
    contained = patient("n1")
    contained["contained"] = [
        {"resourceType": "Organization", "id": "o", "name": "x", "telecom": [{"id": "n1"}]}
    ]
    assert "VAL_DUPLICATE_ID" not in ids(core_validator.validate(contained))


def test_an_element_walked_again_is_not_a_duplicate(fresh_validator: Any) -> None:
    from tests.unit.profiles.validator.profiles_fixture import profile

    simple = profile(
        "http://t/StructureDefinition/obs-simple",
        "Observation",
        [
            {
                "path": "Observation.value[x]",
                "type": [
                    {
                        "code": "Quantity",
                        "profile": ["http://hl7.org/fhir/StructureDefinition/SimpleQuantity"],
                    }
                ],
            }
        ],
    )
    validator = fresh_validator(simple)
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "valueQuantity": {
            "id": "q1",
            "value": 1,
            "unit": "kg",
            "system": "http://unitsofmeasure.org",
            "code": "kg",
        },
    }
    assert "VAL_DUPLICATE_ID" not in ids(validator.validate(observation, [simple["url"]]))
