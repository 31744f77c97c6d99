"""Core vital signs profiles applied because of an Observation's code (observation-vitalsigns.html)."""

from __future__ import annotations

from typing import Any

from profiles.validator import ProfileValidator
from profiles.validator.vital_signs import VitalSign, required_profile
from tests.unit.profiles.conftest import errors, ids

VITAL = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}
    ]
}


def _temperature(*codings: dict[str, str], **changes: Any) -> dict[str, Any]:
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [VITAL],
        "code": {"coding": list(codings)},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-05-01T08:30:00+02:00",
        "valueQuantity": {"value": 36.9, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel"},
    }
    observation.update(changes)
    return observation


LOINC_TEMP = {"system": "http://loinc.org", "code": "8310-5"}
SNOMED_TEMP = {"system": "http://snomed.info/sct", "code": "276885007"}


def test_table_prefers_loinc() -> None:
    found = required_profile(_temperature(SNOMED_TEMP, LOINC_TEMP))
    assert found == (VitalSign.BODY_TEMPERATURE, "LOINC", "8310-5")
    assert VitalSign.BODY_TEMPERATURE.url == "http://hl7.org/fhir/StructureDefinition/bodytemp"
    assert (
        required_profile({"code": {"coding": [{"system": "urn:oid:1.2.208.176.2.1", "code": "NPU03804"}]}})
        is None
    )
    assert required_profile({"code": "not a concept"}) is None


def test_conforming_temperature(core_validator: ProfileValidator) -> None:
    issues = core_validator.validate(_temperature(LOINC_TEMP))
    assert errors(issues) == []
    assert any(i.message_id == "VAL_VITAL_SIGNS" for i in issues)


def test_snomed_temperature_needs_the_loinc_code(core_validator: ProfileValidator) -> None:
    issues = core_validator.validate(_temperature(SNOMED_TEMP))
    assert errors(issues), "bodytemp requires the LOINC code 8310-5"
    assert any(i.message_id == "VAL_VITAL_SIGNS" and "SNOMED CT" in i.diagnostics for i in issues)


def test_vital_sign_rules_apply_in_bundles(core_validator: ProfileValidator) -> None:
    bad = _temperature(
        LOINC_TEMP,
        valueQuantity={"value": 36.9, "unit": "C", "system": "http://unitsofmeasure.org", "code": "C"},
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:1", "resource": bad}],
    }
    assert errors(core_validator.validate(bad))
    assert errors(core_validator.validate(bundle))


def test_component_units_are_extensible(core_validator: ProfileValidator) -> None:
    oxygen = _temperature(
        {"system": "http://loinc.org", "code": "2708-6"},
        valueQuantity={"value": 98, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
        component=[
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "3151-8"}]},
                "valueQuantity": {
                    "value": 2,
                    "unit": "L/min",
                    "system": "http://unitsofmeasure.org",
                    "code": "L/min",
                },
            }
        ],
    )
    issues = core_validator.validate(oxygen)
    assert errors(issues) == []
    assert "VAL_BINDING_EXTENSIBLE" in [i.message_id for i in issues]
    assert ids(issues) == []
