"""Extensions, modifier extensions, references, contained resources and Bundle entries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from profiles import CanonicalRegistry
from profiles.validator import CORE_MISSING, ProfileValidator
from tests.unit.profiles.conftest import errors, ids
from tests.unit.profiles.validator.profiles_fixture import extension, profile

Build = Callable[..., ProfileValidator]
EXT = extension("http://t/ext/shoe-size", "integer")


def _patient_with(*exts: dict[str, Any], modifier: bool = False) -> dict[str, Any]:
    return {"resourceType": "Patient", ("modifierExtension" if modifier else "extension"): list(exts)}


def test_extension_validated_against_its_definition(fresh_validator: Build) -> None:
    validator = fresh_validator(EXT)
    assert errors(validator.validate(_patient_with({"url": EXT["url"], "valueInteger": 42}))) == []
    assert "VAL_UNKNOWN_ELEMENT" in ids(
        validator.validate(_patient_with({"url": EXT["url"], "valueString": "42"}))
    )
    assert "VAL_CARDINALITY_MIN" in ids(
        validator.validate(
            _patient_with({"url": EXT["url"], "extension": [{"url": "x", "valueString": "y"}]})
        )
    )


def test_unknown_extensions(core_validator: ProfileValidator) -> None:
    assert "VAL_EXTENSION_UNKNOWN" in ids(
        core_validator.validate(_patient_with({"url": "http://elsewhere.dk/ext", "valueString": "x"}))
    )
    issues = core_validator.validate(_patient_with({"url": "http://example.org/ext", "valueString": "x"}))
    assert errors(issues) == [] and any(i.message_id == "VAL_EXTENSION_UNCHECKED" for i in issues)
    modifier = core_validator.validate(
        _patient_with({"url": "http://elsewhere.dk/ext", "valueString": "x"}, modifier=True)
    )
    assert "VAL_MODIFIER_EXTENSION_UNKNOWN" in ids(modifier)
    assert "VAL_EXTENSION_NO_URL" in ids(core_validator.validate(_patient_with({"valueString": "x"})))
    both = {
        "url": "http://example.org/ext",
        "valueString": "x",
        "extension": [{"url": "a", "valueString": "b"}],
    }
    assert "VAL_EXT_1" in ids(core_validator.validate(_patient_with(both)))


def test_core_extension_definitions_apply(core_validator: ProfileValidator) -> None:
    birth_time = "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
    good = {
        "resourceType": "Patient",
        "_birthDate": {"extension": [{"url": birth_time, "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
    }
    bad = {
        "resourceType": "Patient",
        "_birthDate": {"extension": [{"url": birth_time, "valueString": "noon"}]},
    }
    assert errors(core_validator.validate(good)) == []
    assert errors(core_validator.validate(bad)) != []


def test_extension_slices_in_a_profile(fresh_validator: Build) -> None:
    sd = profile(
        "http://t/with-ext",
        "Patient",
        [
            {
                "path": "Patient.extension",
                "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "open"},
            },
            {
                "path": "Patient.extension",
                "sliceName": "shoe",
                "min": 1,
                "max": "1",
                "type": [{"code": "Extension", "profile": [EXT["url"]]}],
            },
        ],
    )
    validator = fresh_validator(EXT, sd)
    assert "VAL_SLICE_MIN" in ids(validator.validate({"resourceType": "Patient"}, [sd["url"]]))
    ok = _patient_with({"url": EXT["url"], "valueInteger": 44})
    assert errors(validator.validate(ok, [sd["url"]])) == []


def test_contained_resources_and_references(core_validator: ProfileValidator) -> None:
    good = {
        "resourceType": "Patient",
        "contained": [{"resourceType": "Organization", "id": "o1", "name": "X"}],
        "managingOrganization": {"reference": "#o1"},
    }
    assert errors(core_validator.validate(good)) == []
    dangling = dict(good, managingOrganization={"reference": "#o2"})
    assert any("ref-1" in i.diagnostics for i in errors(core_validator.validate(dangling)))
    unreferenced = dict(good, managingOrganization=None)
    del unreferenced["managingOrganization"]
    assert any("dom-3" in i.diagnostics for i in errors(core_validator.validate(unreferenced)))
    nested = dict(
        good,
        contained=[
            {
                "resourceType": "Organization",
                "id": "o1",
                "contained": [{"resourceType": "Organization", "id": "x"}],
            }
        ],
    )
    assert "VAL_CONTAINED_NESTED" in ids(core_validator.validate(nested))
    wrong_target = {"resourceType": "Patient", "managingOrganization": {"reference": "Practitioner/1"}}
    assert "VAL_REFERENCE_TARGET_TYPE" in ids(core_validator.validate(wrong_target))
    bad_contained = {
        "resourceType": "Patient",
        "contained": [{"resourceType": "Organization", "id": "o1", "bogus": 1}],
        "managingOrganization": {"reference": "#o1"},
    }
    found = [
        i for i in errors(core_validator.validate(bad_contained)) if i.message_id == "VAL_UNKNOWN_ELEMENT"
    ]
    assert found and found[0].expression == ("Patient.contained[0].bogus",)


def test_bundle_entries_are_validated_as_resources(core_validator: ProfileValidator) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:1",
                "resource": {"resourceType": "Patient", "gender": "x"},
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "fullUrl": "http://h/fhir/Observation/2",
                "resource": {
                    "resourceType": "Observation",
                    "id": "3",
                    "status": "final",
                    "code": {"text": "t"},
                    "subject": {"reference": "urn:uuid:1"},
                },
                "request": {"method": "PUT", "url": "Observation/3"},
            },
            {
                "fullUrl": "Patient/5",
                "resource": {"resourceType": "Patient"},
                "request": {"method": "POST", "url": "Patient"},
            },
        ],
    }
    found = errors(core_validator.validate(bundle))
    assert ("Bundle.entry[0].resource.gender",) in [i.expression for i in found]
    assert [i.expression for i in found if i.message_id == "VAL_BUNDLE_FULLURL"] == [
        ("Bundle.entry[1]",),
        ("Bundle.entry[2]",),
    ]


def test_without_core_package(core_registry: CanonicalRegistry) -> None:
    registry = CanonicalRegistry()
    validator = ProfileValidator(registry)
    issues = validator.validate({"resourceType": "Patient", "name": [], "gender": "male"})
    assert issues[0].diagnostics == CORE_MISSING and issues[0].message_id == "VAL_CORE_NOT_INSTALLED"
    assert ids(issues) == ["VAL_JSON_EMPTY"]
    registry.add(
        profile(
            "http://t/diff-only", "Patient", [{"path": "Patient.gender", "min": 1, "fixedCode": "female"}]
        )
    )
    found = validator.validate(
        {"resourceType": "Patient", "gender": "male", "anything": 1}, ["http://t/diff-only"]
    )
    assert "VAL_FIXED" in ids(found) and "VAL_UNKNOWN_ELEMENT" not in ids(found)
    assert any(i.message_id == "SNAPSHOT_UNKNOWN_BASE" for i in found)


@pytest.mark.parametrize(
    "reference",
    ["Patient/1", "http://server/fhir/Patient/1/_history/2", "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"],
)
def test_reference_forms(core_validator: ProfileValidator, reference: str) -> None:
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "subject": {"reference": reference},
    }
    assert errors(core_validator.validate(obs)) == []
