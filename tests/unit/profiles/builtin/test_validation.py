"""The built-in profiles through the hub's own snapshot generator and profile validator (helper H3's).

Imports happen inside the fixtures so this module skips, with a reason, where those parts are absent.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hub.core.issues import Issue
from profiles.builtin import BuiltinProfile
from profiles.danish import danish_checks
from tests.conftest import testdata_path as data_path
from tests.unit.profiles.builtin.instances import AUTH, CPR, PROFILE_IDS, good

pytestmark = pytest.mark.needs_testdata


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:  # pragma: no cover - only while the validator is being written
        pytest.skip(f"{name} is not importable yet: {exc}")


@pytest.fixture(scope="module")
def loader() -> Any:
    packages = _module("profiles.packages")
    return packages.load_registry([Path(data_path("fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz"))])


@pytest.fixture(scope="module")
def validate(loader: Any) -> Callable[[dict[str, Any], str], list[Issue]]:
    validator_module = _module("profiles.validator")
    validator = validator_module.ProfileValidator(loader.registry, custom_checks=danish_checks())

    def run(resource: dict[str, Any], profile_id: str) -> list[Issue]:
        issues: list[Issue] = validator.validate(
            resource, [f"http://telehub.dk/fhir/StructureDefinition/{profile_id}"]
        )
        return issues

    return run


def errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.is_error]


def test_package_loads_without_failures(loader: Any) -> None:
    builtin = loader.loaded["telehub.dk.tm#0.1.0"]
    assert builtin.failures == () and builtin.missing_dependencies == ()
    assert builtin.resource_count >= 19


def test_snapshots_generate_cleanly_and_hold_the_custom_check_elements(loader: Any) -> None:
    snapshot_module = _module("profiles.snapshot")
    generator = snapshot_module.SnapshotGenerator(loader.registry)
    element_ids: dict[str, set[str]] = {}
    for profile in BuiltinProfile:
        result = generator.snapshot(loader.registry.resolve(profile.value))
        assert result.issues == ()
        element_ids[profile.value] = {e["id"] for e in result.structure["snapshot"]["element"]}
    for url, element_id in danish_checks():
        assert element_id in element_ids[url], (url, element_id)


@pytest.mark.parametrize("profile_id", PROFILE_IDS)
def test_conforming_instances_have_no_errors(validate: Callable[..., list[Issue]], profile_id: str) -> None:
    issues = validate(good(profile_id), profile_id)
    assert errors(issues) == []


def _has_error(issues: list[Issue], fragment: str) -> bool:
    return any(i.is_error and any(fragment in e for e in (*i.expression, i.diagnostics)) for i in issues)


def test_patient_without_cpr_is_rejected(validate: Callable[..., list[Issue]]) -> None:
    patient = good("dk-tm-patient")
    patient["identifier"] = [{"system": "urn:oid:1.2.208.176.1.6.1.1", "value": "0703921VJ4"}]
    assert _has_error(validate(patient, "dk-tm-patient"), "cpr")


def test_cpr_calendar_date_is_a_custom_check_error(validate: Callable[..., list[Issue]]) -> None:
    patient = good("dk-tm-patient")
    patient["identifier"][0]["value"] = "3102001235"
    issues = validate(patient, "dk-tm-patient")
    assert [(i.message_id, i.expression) for i in errors(issues)] == [
        ("DK-CPR-DATE", ("Patient.identifier[0].value",))
    ]


def test_modulus_11_failure_is_only_a_warning(validate: Callable[..., list[Issue]]) -> None:
    patient = good("dk-tm-patient")
    patient["identifier"][0]["value"] = "2512489996"
    issues = validate(patient, "dk-tm-patient")
    assert errors(issues) == []
    assert any("dk-tm-cpr-3" in i.diagnostics for i in issues)


def test_observation_rules(validate: Callable[..., list[Issue]]) -> None:
    observation = good("dk-tm-observation")
    observation["effectiveDateTime"] = "2024-05-01"
    observation["valueQuantity"] = {"value": 1, "unit": "kg"}
    observation["subject"] = {"identifier": {"system": CPR, "value": "12345"}}
    issues = validate(observation, "dk-tm-observation")
    assert _has_error(issues, "dk-tm-obs-2") and _has_error(issues, "dk-tm-obs-5")
    assert ("DK-CPR-FORMAT", ("Observation.subject.identifier.value",)) in [
        (i.message_id, i.expression) for i in issues
    ]
    observation = good("dk-tm-observation")
    del observation["valueQuantity"]
    observation["valueString"] = "72"
    assert _has_error(validate(observation, "dk-tm-observation"), "valueString")


def test_consent_shape_is_enforced(validate: Callable[..., list[Issue]]) -> None:
    consent = good("dk-tm-consent")
    consent["status"] = "inactive"
    consent["provision"]["data"] = [{"meaning": "instance", "reference": {"reference": "Observation/1"}}]
    consent["provision"]["actor"][0]["reference"]["identifier"] = {"system": AUTH, "value": "AAAAA"}
    issues = validate(consent, "dk-tm-consent")
    assert _has_error(issues, "Consent.status")
    assert _has_error(issues, "Consent.provision.data")
    assert "DK-AUTH-FORMAT" in {i.message_id for i in errors(issues)}
    consent = good("dk-tm-consent")
    consent["provision"]["type"] = "permit"
    assert _has_error(validate(consent, "dk-tm-consent"), "Consent.provision.type")


def test_document_reference_value_sets(validate: Callable[..., list[Issue]]) -> None:
    reference = good("dk-tm-documentreference")
    reference["securityLabel"][0]["coding"][0]["code"] = "R"
    reference["category"][0]["coding"][0]["code"] = "999"
    reference["content"][0]["format"]["code"] = "urn:ad:dk:medcom:unknown:full"
    issues = validate(reference, "dk-tm-documentreference")
    for where in ("securityLabel", "category", "format"):
        assert _has_error(issues, where), where
    del reference["context"]
    assert _has_error(validate(reference, "dk-tm-documentreference"), "context")
