"""hub.fhir.validation: the hub's validation service over the built-in package (no core needed here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.core.settings import Settings, ValidationLevel
from hub.fhir import DefinitionSources, ValidationService, build_validation, load_definitions
from hub.fhir.pipeline import NullWriteValidator
from hub.fhir.search import default_registry
from profiles import PackageLoader
from tests.conftest import testdata_path

PROFILE = "http://example.org/fhir/StructureDefinition/p"
DK_OBSERVATION = "http://telehub.dk/fhir/StructureDefinition/dk-tm-observation"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        validation={"fhir_package_cache": str(tmp_path / "cache"), "levels": {"Observation": "profiles"}},
    )


@pytest.fixture
def service(settings: Settings) -> ValidationService:
    return build_validation(settings, default_registry())


def profile(url: str = PROFILE, version: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "StructureDefinition",
        "id": "p",
        "url": url,
        "name": "P",
        "status": "active",
        "kind": "resource",
        "abstract": False,
        "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint",
        "differential": {"element": [{"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1}]},
    }
    if version:
        body["version"] = version
    body.update(extra)
    return body


def test_built_from_settings(service: ValidationService) -> None:
    assert service.level_for("Observation") is ValidationLevel.PROFILES
    assert service.level_for("Patient") is ValidationLevel.BASE
    assert not service.has_core()
    assert service.xml_codec() is None  # FHIR XML needs the core definitions
    assert service.supported_profiles("Observation") == [DK_OBSERVATION]
    assert service.unknown_profiles([DK_OBSERVATION, PROFILE]) == [PROFILE]


def test_definitions_are_loaded_once_per_process_and_copied_per_hub(settings: Settings) -> None:
    sources = DefinitionSources.from_settings(settings)
    first = load_definitions(sources)
    assert isinstance(first, PackageLoader) and load_definitions(sources) is first
    one, two = build_validation(settings), build_validation(settings)
    one.conformance_resource_changed(profile(), deleted=False)
    assert PROFILE in one.registry and PROFILE not in two.registry and PROFILE not in first.registry


def test_installing_a_package_changes_the_key(settings: Settings) -> None:
    sources = DefinitionSources.from_settings(settings)
    before = sources.key()
    (settings.packages_dir / "example#1.0.0").mkdir(parents=True)
    assert sources.key() != before


def test_api_definitions_come_and_go_by_resource_id(service: ValidationService) -> None:
    service.conformance_resource_changed(profile(), deleted=False)
    assert service.validator.compiled(PROFILE) is not None
    assert PROFILE in service.supported_profiles("Patient")
    # an update that changes the url removes the old one
    service.conformance_resource_changed(profile(url=PROFILE + "2"), deleted=False)
    assert PROFILE not in service.registry and PROFILE + "2" in service.registry
    # a delete names only the type and id
    service.conformance_resource_changed({"resourceType": "StructureDefinition", "id": "p"}, deleted=True)
    assert PROFILE + "2" not in service.registry
    assert service.supported_profiles("Patient") == [
        "http://telehub.dk/fhir/StructureDefinition/dk-tm-patient"
    ]
    # non-definitions and definitions without url are ignored
    service.conformance_resource_changed({"resourceType": "Patient", "id": "x"}, deleted=False)
    service.conformance_resource_changed({"resourceType": "ValueSet", "id": "v"}, deleted=False)
    assert service.registry.resolve(PROFILE) is None


def test_a_deleted_api_definition_gives_back_what_it_shadowed(service: ValidationService) -> None:
    package = service.registry.entry(DK_OBSERVATION)
    assert package is not None and package.source != "api"
    shadow = {**package.resource, "id": "mine", "description": "changed through the API"}
    service.conformance_resource_changed(shadow, deleted=False)
    entry = service.registry.entry(DK_OBSERVATION)
    assert entry is not None and entry.source == "api"
    twin = {**shadow, "id": "twin"}
    service.conformance_resource_changed(twin, deleted=False)
    service.conformance_resource_changed({"resourceType": "StructureDefinition", "id": "mine"}, deleted=True)
    entry = service.registry.entry(DK_OBSERVATION)
    assert entry is not None and entry.source == "api" and entry.resource["id"] == "twin"
    service.conformance_resource_changed({"resourceType": "StructureDefinition", "id": "twin"}, deleted=True)
    entry = service.registry.entry(DK_OBSERVATION)
    assert entry is not None and entry.source == package.source  # the package's own again


def test_search_parameters_extend_the_search_registry(service: ValidationService) -> None:
    assert service.search is not None
    assert service.search.get("Patient", "colour") is None
    parameter = {
        "resourceType": "SearchParameter",
        "id": "colour",
        "url": "http://example.org/fhir/SearchParameter/colour",
        "code": "colour",
        "base": ["Patient"],
        "type": "token",
        "expression": "Patient.extension.where(url = 'http://example.org/colour').value",
    }
    service.conformance_resource_changed(parameter, deleted=False)
    added = service.search.get("Patient", "colour")
    assert added is not None and added.url == parameter["url"]
    broken = {**parameter, "id": "b", "url": "http://example.org/b", "code": "b", "expression": "Patient.(("}
    service.conformance_resource_changed(broken, deleted=False)  # skipped with a log line, not raised
    assert service.search.get("Patient", "b") is None


def test_write_levels(tmp_path: Path) -> None:
    off = Settings(data_dir=tmp_path / "var", validation={"default_level": "off"})
    service = build_validation(off)
    assert service.validate_for_write({"resourceType": "Patient", "colour": "blue"}) == []
    assert service.validate({"resourceType": "Patient", "colour": "blue"})  # $validate always checks
    required = Settings(
        data_dir=tmp_path / "var",
        validation={"levels": {"Observation": "profiles"}, "required_profiles": {"Observation": [PROFILE]}},
    )
    strict = build_validation(required)
    assert strict.required_profiles("Observation") == (PROFILE,)
    assert any(
        i.message_id == "VAL_PROFILE_UNKNOWN"
        for i in strict.validate_for_write({"resourceType": "Observation"})
    )


def test_checks_structure_needs_the_core_package_and_a_level(tmp_path: Path) -> None:
    """Only a validator that walks the whole base definition stands in for the hub's structure check."""
    core = testdata_path("fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz")
    with_core = build_validation(
        Settings(
            data_dir=tmp_path / "var",
            validation={"packages": [str(core)], "levels": {"Patient": "off", "Observation": "profiles"}},
        )
    )
    assert with_core.checks_structure("Device") and with_core.checks_structure("Observation")
    assert not with_core.checks_structure("Patient")  # level off: nothing is walked
    assert not build_validation(Settings(data_dir=tmp_path / "bare")).checks_structure("Device")
    assert not NullWriteValidator().checks_structure("Device")
