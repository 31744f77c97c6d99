"""Validator options: REST references, reference policy, security checks, publication, Bundle rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from profiles.validator import BundleRule, ProfileValidator, ReferencePolicy, ValidationOptions
from tests.unit.profiles.conftest import errors, ids
from tests.unit.profiles.validator.profiles_fixture import BASE, profile

Build = Callable[..., ProfileValidator]
SUBJECT_PATIENT_ONLY = profile(
    "http://t/StructureDefinition/obs-patient",
    "Observation",
    [{"path": "Observation.subject", "type": [{"code": "Reference", "targetProfile": [BASE + "Patient"]}]}],
)
NAMED_PATIENT = profile(
    "http://t/StructureDefinition/named-patient", "Patient", [{"path": "Patient.name", "min": 1}]
)


def _observation(subject: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "subject": {"reference": subject},
    }


def test_rest_references_are_typed_by_default(fresh_validator: Build) -> None:
    validator = fresh_validator(SUBJECT_PATIENT_ONLY)
    issues = validator.validate(_observation("Group/1"), [SUBJECT_PATIENT_ONLY["url"]])
    assert "VAL_REFERENCE_TARGET_TYPE" in ids(issues)
    assert errors(validator.validate(_observation("Patient/1"), [SUBJECT_PATIENT_ONLY["url"]])) == []


def test_without_assuming_rest_references_the_url_type_is_not_held_against_the_element(
    fresh_validator: Build,
) -> None:
    validator = fresh_validator(SUBJECT_PATIENT_ONLY)
    options = ValidationOptions(assume_valid_rest_references=False)
    issues = validator.validate(_observation("Group/1"), [SUBJECT_PATIENT_ONLY["url"]], options=options)
    assert errors(issues) == []
    # a contained target is at hand, so its type still counts
    contained = _observation("#g")
    contained["contained"] = [{"resourceType": "Group", "id": "g", "type": "person", "actual": True}]
    issues = validator.validate(contained, [SUBJECT_PATIENT_ONLY["url"]], options=options)
    assert "VAL_REFERENCE_TARGET_TYPE" in ids(issues)


def _member_match(beneficiary: str) -> dict[str, Any]:
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "MemberPatient", "resource": {"resourceType": "Patient", "id": "1"}},
            {
                "name": "Coverage",
                "resource": {
                    "resourceType": "Coverage",
                    "id": "c1",
                    "status": "active",
                    "beneficiary": {"reference": beneficiary},
                    "payor": [{"display": "Payer"}],
                },
            },
        ],
    }


def test_references_between_parameters_resources(core_validator: ProfileValidator) -> None:
    checked = ValidationOptions(reference_policy=ReferencePolicy.CHECK_EXISTS_AND_TYPE)
    assert errors(core_validator.validate(_member_match("Patient/1"), options=checked)) == []
    assert "VAL_REFERENCE_UNRESOLVED" in ids(
        core_validator.validate(_member_match("Patient/2"), options=checked)
    )
    # the default policy does not follow references
    assert errors(core_validator.validate(_member_match("Patient/2"))) == []
    # a standalone resource's targets are on some server: not reported without a store to ask
    assert errors(core_validator.validate(_observation("Patient/404"), options=checked)) == []


def _patient_named(text: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "name": [{"text": text}]}


def test_html_in_strings(core_validator: ProfileValidator) -> None:
    hostile = _patient_named("Standard <script>alert(1)</script>")
    relaxed = core_validator.validate(hostile)
    assert errors(relaxed) == []
    assert any(i.message_id == "VAL_STRING_HTML" for i in relaxed)
    strict = ValidationOptions(security_checks=True)
    assert ids(core_validator.validate(hostile, options=strict)) == ["VAL_STRING_HTML"]
    assert ids(core_validator.validate(_patient_named('<img src="x" onerror="y">'), options=strict)) == [
        "VAL_STRING_HTML"
    ]
    # a less-than sign is not markup
    assert ids(core_validator.validate(_patient_named("a < b and c > d"), options=strict)) == []


def _code_system(url: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "CodeSystem", "url": url, "status": "draft", "content": "complete", **extra}


def test_publication_needs_a_work_group(core_validator: ProfileValidator) -> None:
    publishing = ValidationOptions(for_publication=True)
    hl7 = _code_system("http://hl7.org/fhir/test-status")
    assert ids(core_validator.validate(hl7, options=publishing)) == ["VAL_PUBLICATION_WG"]
    assert errors(core_validator.validate(hl7)) == []
    owned = _code_system(
        "http://hl7.org/fhir/test-status",
        extension=[
            {"url": "http://hl7.org/fhir/StructureDefinition/structuredefinition-wg", "valueCode": "fhir"}
        ],
    )
    assert errors(core_validator.validate(owned, options=publishing)) == []
    assert errors(core_validator.validate(_code_system("http://telehub.dk/cs"), options=publishing)) == []


def test_bundle_rules_apply_a_profile_to_chosen_entries(fresh_validator: Build) -> None:
    validator = fresh_validator(NAMED_PATIENT)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "http://t/Patient/a", "resource": {"resourceType": "Patient", "id": "a"}},
            {
                "fullUrl": "http://t/Patient/b",
                "resource": {"resourceType": "Patient", "id": "b", "name": [{"text": "B"}]},
            },
        ],
    }
    assert errors(validator.validate(bundle)) == []
    first = ValidationOptions(bundle_rules=(BundleRule("Patient:0", NAMED_PATIENT["url"]),))
    issues = errors(validator.validate(bundle, options=first))
    assert [i.expression[0] for i in issues] == ["Bundle.entry[0].resource"]
    second = ValidationOptions(bundle_rules=(BundleRule("Patient:1", NAMED_PATIENT["url"]),))
    assert errors(validator.validate(bundle, options=second)) == []
    every = ValidationOptions(bundle_rules=(BundleRule("Patient", NAMED_PATIENT["url"]),))
    assert len(errors(validator.validate(bundle, options=every))) == 1
    assert not BundleRule("Patient:x", "u").matches("Patient", 0)


def test_validator_wide_options(core_registry: Any) -> None:
    strict = ProfileValidator(core_registry, options=ValidationOptions(security_checks=True))
    assert strict.options.security_checks
    assert ids(strict.validate(_patient_named("<b>bold</b>"))) == ["VAL_STRING_HTML"]


AGGREGATED = profile(
    "http://t/StructureDefinition/enc-bundled",
    "Encounter",
    [
        {
            "path": "Encounter.subject",
            "type": [{"code": "Reference", "targetProfile": [BASE + "Patient"], "aggregation": ["bundled"]}],
        }
    ],
)


def _encounter(subject: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": "e1",
        "meta": {"profile": [AGGREGATED["url"]]},
        "status": "planned",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": subject},
    }


def test_aggregation_modes(fresh_validator: Build) -> None:
    validator = fresh_validator(AGGREGATED)

    def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": f"http://t/fhir/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
            ],
        }

    patient = {"resourceType": "Patient", "id": "p1"}
    assert errors(validator.validate(bundle(_encounter("Patient/p1"), patient))) == []
    outside = validator.validate(bundle(_encounter("Patient/p2"), patient))
    assert ids(outside) == ["VAL_REFERENCE_AGGREGATION"]
    # standalone, the resource may be bundled later: its references are not judged
    assert ids(validator.validate(_encounter("Patient/p1"))) == []
    contained = _encounter("#p")
    contained["contained"] = [{"resourceType": "Patient", "id": "p"}]
    assert ids(validator.validate(contained)) == ["VAL_REFERENCE_AGGREGATION"]
