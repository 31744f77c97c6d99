"""Bindings (required/extensible/preferred, unknown systems) and slicing (discriminators and rules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hub.core.issues import IssueSeverity
from profiles.validator import ProfileValidator
from tests.unit.profiles.conftest import errors, ids
from tests.unit.profiles.validator.profiles_fixture import profile

Build = Callable[..., ProfileValidator]
CS = {
    "resourceType": "CodeSystem",
    "url": "http://t/cs",
    "content": "complete",
    "concept": [{"code": "a", "concept": [{"code": "a1"}]}, {"code": "b"}],
}
VS = {
    "resourceType": "ValueSet",
    "url": "http://t/vs",
    "compose": {
        "include": [
            {"system": "http://t/cs", "filter": [{"property": "concept", "op": "is-a", "value": "a"}]}
        ]
    },
}
SCT = {
    "resourceType": "ValueSet",
    "url": "http://t/sct",
    "compose": {"include": [{"system": "http://snomed.info/sct"}]},
}


def _bound(strength: str, value_set: str = "http://t/vs") -> dict[str, Any]:
    return profile(
        f"http://t/bound-{strength}-{value_set.rsplit('/', 1)[-1]}",
        "Observation",
        [{"path": "Observation.code", "binding": {"strength": strength, "valueSet": value_set}}],
    )


def _obs(system: str, code: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
    }


@pytest.mark.parametrize(
    ("strength", "code", "severity"),
    [
        ("required", "a1", None),
        ("required", "b", IssueSeverity.ERROR),
        ("extensible", "b", IssueSeverity.WARNING),
        ("preferred", "b", IssueSeverity.INFORMATION),
        ("example", "b", None),
    ],
)
def test_binding_strengths(
    fresh_validator: Build, strength: str, code: str, severity: IssueSeverity | None
) -> None:
    sd = _bound(strength)
    issues = fresh_validator(CS, VS, sd).validate(_obs("http://t/cs", code), [sd["url"]])
    binding = [i for i in issues if (i.message_id or "").startswith("VAL_BINDING")]
    assert [i.severity for i in binding] == ([severity] if severity else [])


def test_codes_the_hub_cannot_check_are_never_silent(fresh_validator: Build) -> None:
    sd = _bound("required", "http://t/sct")
    issues = fresh_validator(SCT, sd).validate(_obs("http://snomed.info/sct", "271649006"), [sd["url"]])
    unchecked = [i for i in issues if i.message_id == "VAL_BINDING_UNCHECKED"]
    assert [i.severity for i in unchecked] == [IssueSeverity.WARNING]
    assert errors(issues) == []
    missing_vs = _bound("required", "http://t/unknown-vs")
    issues = fresh_validator(missing_vs).validate(_obs("http://t/cs", "a"), [missing_vs["url"]])
    assert any(i.message_id == "VAL_BINDING_UNCHECKED" for i in issues)


def test_unknown_code_in_a_known_code_system(fresh_validator: Build) -> None:
    issues = fresh_validator(CS).validate(_obs("http://t/cs", "zzz"))
    assert "VAL_CODE_UNKNOWN" in ids(issues)
    assert "VAL_CODE_SYSTEM_RELATIVE" in ids(fresh_validator().validate(_obs("local-system", "x")))


def test_core_required_binding(core_validator: ProfileValidator) -> None:
    assert "VAL_BINDING_REQUIRED" in ids(core_validator.validate({"resourceType": "Patient", "gender": "m"}))


SLICED = profile(
    "http://t/sliced",
    "Patient",
    [
        {
            "path": "Patient.identifier",
            "slicing": {
                "discriminator": [{"type": "value", "path": "system"}],
                "rules": "closed",
                "ordered": True,
            },
            "min": 1,
        },
        {"path": "Patient.identifier", "sliceName": "cpr", "min": 1, "max": "1"},
        {"path": "Patient.identifier.system", "fixedUri": "urn:oid:1.2.208.176.1.2"},
        {"path": "Patient.identifier.value", "min": 1},
        {"path": "Patient.identifier", "sliceName": "mrn", "max": "2"},
        {"path": "Patient.identifier.system", "fixedUri": "http://t/mrn"},
        {
            "path": "Patient.telecom",
            "slicing": {"discriminator": [{"type": "exists", "path": "period"}], "rules": "openAtEnd"},
        },
        {"path": "Patient.telecom", "sliceName": "timed", "max": "1"},
        {"path": "Patient.telecom.period", "min": 1},
        {
            "path": "Patient.name",
            "slicing": {"discriminator": [{"type": "pattern", "path": "$this"}], "rules": "open"},
        },
        {"path": "Patient.name", "sliceName": "official", "min": 1, "patternHumanName": {"use": "official"}},
        {
            "path": "Patient.deceased[x]",
            "slicing": {"discriminator": [{"type": "type", "path": "$this"}], "rules": "closed"},
        },
        {"path": "Patient.deceasedBoolean", "sliceName": "deceasedBoolean"},
    ],
)


def _patient(**changes: Any) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [
            {"system": "urn:oid:1.2.208.176.1.2", "value": "0101011234"},
            {"system": "http://t/mrn", "value": "9"},
        ],
        "name": [{"use": "official", "family": "F"}],
        "telecom": [
            {"system": "phone", "value": "1", "period": {"start": "2020"}},
            {"system": "email", "value": "x@y"},
        ],
    }
    patient.update(changes)
    return {k: v for k, v in patient.items() if v is not None}


@pytest.fixture
def sliced(fresh_validator: Build) -> ProfileValidator:
    return fresh_validator(SLICED)


def test_slices_match(sliced: ProfileValidator) -> None:
    assert errors(sliced.validate(_patient(), [SLICED["url"]])) == []


@pytest.mark.parametrize(
    ("changes", "message_id"),
    [
        ({"identifier": [{"system": "http://t/mrn", "value": "9"}]}, "VAL_SLICE_MIN"),
        (
            {
                "identifier": [
                    {"system": "urn:oid:1.2.208.176.1.2", "value": "1"},
                    {"system": "urn:oid:1.2.208.176.1.2", "value": "2"},
                ]
            },
            "VAL_SLICE_MAX",
        ),
        (
            {
                "identifier": [
                    {"system": "urn:oid:1.2.208.176.1.2", "value": "1"},
                    {"system": "http://other", "value": "2"},
                ]
            },
            "VAL_SLICE_CLOSED",
        ),
        (
            {
                "identifier": [
                    {"system": "http://t/mrn", "value": "9"},
                    {"system": "urn:oid:1.2.208.176.1.2", "value": "1"},
                ]
            },
            "VAL_SLICE_ORDER",
        ),
        ({"identifier": [{"system": "urn:oid:1.2.208.176.1.2"}]}, "VAL_CARDINALITY_MIN"),
        (
            {
                "telecom": [
                    {"system": "email", "value": "x@y"},
                    {"system": "phone", "value": "1", "period": {"start": "2020"}},
                ]
            },
            "VAL_SLICE_ORDER",
        ),
        ({"name": [{"use": "usual", "family": "F"}]}, "VAL_SLICE_MIN"),
        ({"deceasedDateTime": "2020"}, "VAL_SLICE_CLOSED"),
    ],
)
def test_slice_rules(sliced: ProfileValidator, changes: dict[str, Any], message_id: str) -> None:
    found = ids(sliced.validate(_patient(**changes), [SLICED["url"]]))
    assert message_id in found, found


def test_profile_discriminator_on_bundle_entries(fresh_validator: Build) -> None:
    female = profile(
        "http://t/female", "Patient", [{"path": "Patient.gender", "min": 1, "fixedCode": "female"}]
    )
    bundle_profile = profile(
        "http://t/bundle",
        "Bundle",
        [
            {
                "path": "Bundle.entry",
                "slicing": {"discriminator": [{"type": "profile", "path": "resource"}], "rules": "open"},
            },
            {"path": "Bundle.entry", "sliceName": "women", "min": 1},
            {"path": "Bundle.entry.resource", "type": [{"code": "Patient", "profile": ["http://t/female"]}]},
        ],
    )
    validator = fresh_validator(female, bundle_profile)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0",
                "resource": {"resourceType": "Patient", "gender": "male"},
            }
        ],
    }
    assert "VAL_SLICE_MIN" in ids(validator.validate(bundle, ["http://t/bundle"]))
    bundle["entry"][0]["resource"]["gender"] = "female"
    assert errors(validator.validate(bundle, ["http://t/bundle"])) == []
