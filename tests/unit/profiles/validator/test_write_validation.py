"""Validation on write: levels per type, required profiles, conformance resources written through the API."""

from __future__ import annotations

from collections.abc import Callable

from hub.core.settings import ValidationLevel
from profiles.validator import ProfileValidator, WriteValidationService
from tests.unit.profiles.conftest import ids
from tests.unit.profiles.validator.profiles_fixture import profile

Build = Callable[..., ProfileValidator]
FEMALE = profile("http://t/female", "Patient", [{"path": "Patient.gender", "min": 1, "fixedCode": "female"}])


def test_levels_per_type(fresh_validator: Build) -> None:
    service = WriteValidationService(
        fresh_validator(FEMALE),
        default_level=ValidationLevel.BASE,
        levels={"Patient": ValidationLevel.PROFILES, "Basic": ValidationLevel.OFF},
        required_profiles={"Patient": ["http://t/female"]},
    )
    assert service.validate_for_write({"resourceType": "Basic", "bogus": 1}) == []
    assert ids(service.validate_for_write({"resourceType": "Observation", "bogus": 1})) != []
    declared = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "meta": {"profile": ["http://t/nowhere"]},
    }
    assert not any(i.message_id == "VAL_PROFILE_UNKNOWN" for i in service.validate_for_write(declared))
    assert "VAL_CARDINALITY_MIN" in ids(service.validate_for_write({"resourceType": "Patient"}))
    assert "VAL_FIXED" in ids(service.validate({"resourceType": "Patient", "gender": "male"}))


def test_conformance_resources_written_through_the_api(fresh_validator: Build) -> None:
    service = WriteValidationService(fresh_validator())
    patient = {"resourceType": "Patient", "gender": "male"}
    assert ids(service.validate(patient, ["http://t/female"])) == ["VAL_PROFILE_UNKNOWN"]
    service.conformance_resource_changed(FEMALE, deleted=False)
    assert ids(service.validate(patient, ["http://t/female"])) == ["VAL_FIXED"]
    service.conformance_resource_changed(FEMALE, deleted=True)
    assert ids(service.validate(patient, ["http://t/female"])) == ["VAL_PROFILE_UNKNOWN"]
    service.conformance_resource_changed({"resourceType": "Patient", "id": "x"}, deleted=False)
    assert service.validator.registry.resolve("http://t/female") is None
