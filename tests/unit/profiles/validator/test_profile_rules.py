"""Profile rules: meta.profile, fixed/pattern, cardinality, ranges, maxLength, invariants, references."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from profiles.validator import ProfileValidator
from tests.unit.profiles.conftest import errors, ids
from tests.unit.profiles.validator.profiles_fixture import OBS_PROFILE, home_obs, profile

Build = Callable[..., ProfileValidator]


@pytest.fixture
def validator(fresh_validator: Build) -> ProfileValidator:
    return fresh_validator(OBS_PROFILE)


def test_conforming_instance(validator: ProfileValidator) -> None:
    assert errors(validator.validate(home_obs())) == []
    assert validator.conforms(home_obs(), OBS_PROFILE["url"])


@pytest.mark.parametrize(
    ("changes", "message_id"),
    [
        ({"status": "preliminary"}, "VAL_FIXED"),
        (
            {
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "laboratory",
                            }
                        ]
                    }
                ]
            },
            "VAL_PATTERN",
        ),
        ({"subject": None}, "VAL_CARDINALITY_MIN"),
        ({"subject": {"reference": "Group/g1"}}, "VAL_REFERENCE_TARGET_TYPE"),
        (
            {"valueQuantity": {"value": 500, "unit": "kg", "system": "http://unitsofmeasure.org"}},
            "VAL_MIN_VALUE",
        ),
        (
            {"valueQuantity": {"value": 5, "unit": "kilogram", "system": "http://unitsofmeasure.org"}},
            "VAL_MAX_LENGTH",
        ),
        ({"valueQuantity": {"value": 5, "system": "http://other"}}, "VAL_FIXED"),
        ({"valueQuantity": None, "valueString": "x"}, "VAL_CARDINALITY_MIN"),
        ({"effectiveDateTime": "2024-01-02T10:00:00"}, "VAL_PRIMITIVE_FORMAT"),
    ],
)
def test_profile_violations(validator: ProfileValidator, changes: dict[str, object], message_id: str) -> None:
    found = ids(validator.validate(home_obs(**changes)))
    assert message_id in found, found


def test_explicit_profile_and_unknown_profiles(validator: ProfileValidator) -> None:
    plain = home_obs(meta=None, status="amended")
    assert errors(validator.validate(plain)) == []
    assert "VAL_FIXED" in ids(validator.validate(plain, [OBS_PROFILE["url"]]))
    unknown = home_obs(meta={"profile": ["http://nowhere/profile"]})
    issues = validator.validate(unknown)
    assert [i.message_id for i in issues if i.message_id == "VAL_PROFILE_UNKNOWN"] and errors(issues) == []
    assert ids(validator.validate(plain, ["http://nowhere/profile"])) == ["VAL_PROFILE_UNKNOWN"]


def test_invariants_and_bad_fhirpath_reported_at_load(fresh_validator: Build) -> None:
    sd = profile(
        "http://t/inv",
        "Patient",
        [
            {
                "path": "Patient",
                "constraint": [
                    {
                        "key": "inv-ok",
                        "severity": "error",
                        "human": "needs a name",
                        "expression": "name.exists()",
                    },
                    {
                        "key": "inv-warn",
                        "severity": "warning",
                        "human": "gender advised",
                        "expression": "gender.exists()",
                    },
                    {"key": "inv-bad", "severity": "error", "human": "broken", "expression": "name.where(("},
                ],
            },
        ],
    )
    validator = fresh_validator(sd)
    load = validator.profile_issues("http://t/inv")
    assert [i.message_id for i in load] == ["VAL_PROFILE_BAD_FHIRPATH"] and "inv-bad" in load[0].diagnostics
    issues = validator.validate({"resourceType": "Patient"}, ["http://t/inv"])
    texts = [i.diagnostics for i in issues]
    assert any("inv-ok" in t for t in texts) and any("inv-warn" in t for t in texts)
    assert any(i.message_id == "VAL_PROFILE_BAD_FHIRPATH" for i in issues)
    assert [i.severity.value for i in issues if "inv-warn" in i.diagnostics] == ["warning"]


def test_core_invariants(core_validator: ProfileValidator) -> None:
    bad_period = {
        "resourceType": "Patient",
        "name": [{"family": "x", "period": {"start": "2020-01-02", "end": "2020-01-01"}}],
    }
    assert any("per-1" in i.diagnostics for i in errors(core_validator.validate(bad_period)))
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "valueString": "v",
        "dataAbsentReason": {"text": "y"},
    }
    assert any("obs-6" in i.diagnostics for i in errors(core_validator.validate(obs)))
    bundle_total = {"resourceType": "Bundle", "type": "collection", "total": 3}
    assert any("bdl-1" in i.diagnostics for i in errors(core_validator.validate(bundle_total)))


def test_registry_changes_apply_immediately(fresh_validator: Build) -> None:
    validator = fresh_validator()
    patient = {"resourceType": "Patient", "gender": "male"}
    assert ids(validator.validate(patient, ["http://t/live"])) == ["VAL_PROFILE_UNKNOWN"]
    validator.registry.add(
        profile("http://t/live", "Patient", [{"path": "Patient.gender", "fixedCode": "female"}])
    )
    assert ids(validator.validate(patient, ["http://t/live"])) == ["VAL_FIXED"]
    validator.registry.add(
        profile("http://t/live", "Patient", [{"path": "Patient.gender", "fixedCode": "male"}])
    )
    assert ids(validator.validate(patient, ["http://t/live"])) == []


def test_cyclic_profile_base_is_an_issue(fresh_validator: Build) -> None:
    a = profile("http://t/a", "Patient", [], base="http://t/b")
    b = profile("http://t/b", "Patient", [], base="http://t/a")
    validator = fresh_validator(a, b)
    issues = validator.validate({"resourceType": "Patient"}, ["http://t/a"])
    assert any(i.message_id == "SNAPSHOT_CYCLIC_BASE" for i in issues)
