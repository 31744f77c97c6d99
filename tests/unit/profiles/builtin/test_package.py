"""The built-in package ``telehub.dk.tm``: manifest, canonical URLs, differentials, terminology links."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fhirpathpy import compile as fhirpath_compile
from fhirpathpy.models import models

import profiles.builtin as builtin
from profiles.builtin import CANONICAL_BASE, PACKAGE_ID, PACKAGE_VERSION, BuiltinProfile, package_files

_RESOURCE_TYPES = {"StructureDefinition", "ValueSet", "CodeSystem", "OperationDefinition"}
# Code systems the package's value sets may name without defining them (external terminologies).
_EXTERNAL_SYSTEMS = {
    "urn:oid:1.2.208.176.2.1",  # NPU
    "urn:oid:1.2.208.184.100.8",  # MedCom analysis codes (MCS)
    "urn:oid:1.2.208.184.100.9",  # DK XDS class codes
    "urn:oid:1.2.208.184.100.10",  # DK IHE format codes
    "http://snomed.info/sct",
    "http://loinc.org",
    "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",  # in hl7.fhir.r4.core
}


def test_manifest_loads_through_importlib_resources() -> None:
    manifest = json.loads(package_files().joinpath("package.json").read_text(encoding="utf-8"))
    assert manifest["name"] == PACKAGE_ID == "telehub.dk.tm"
    assert manifest["version"] == PACKAGE_VERSION == "0.1.0"
    assert manifest["fhirVersions"] == ["4.0.1"]
    assert manifest["dependencies"] == {"hl7.fhir.r4.core": "4.0.1"}
    assert manifest["canonical"] == CANONICAL_BASE == "http://telehub.dk/fhir"


def test_every_resource_is_named_and_addressed_consistently(
    builtin_resources: dict[str, dict[str, Any]],
) -> None:
    assert len(builtin_resources) >= 19
    for name, resource in builtin_resources.items():
        kind = resource["resourceType"]
        assert kind in _RESOURCE_TYPES
        assert name == f"{kind}-{resource['id']}.json"
        assert resource["version"] == PACKAGE_VERSION and resource["status"] == "active"
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", resource["name"])
        if resource["url"].startswith("urn:oid:"):
            assert kind == "CodeSystem" and resource["content"] == "fragment"  # someone else's code system
        else:
            assert resource["url"] == f"{CANONICAL_BASE}/{kind}/{resource['id']}"


def test_the_seven_profiles_exist_with_the_agreed_urls(
    structure_definitions: dict[str, dict[str, Any]],
) -> None:
    urls = {sd["url"] for sd in structure_definitions.values()}
    assert urls == {p.value for p in BuiltinProfile}
    # the PHMR extraction (xds) claims exactly this URL in meta.profile
    assert BuiltinProfile.OBSERVATION.value == "http://telehub.dk/fhir/StructureDefinition/dk-tm-observation"


def test_profiles_are_differentials_on_core_types(structure_definitions: dict[str, dict[str, Any]]) -> None:
    for sd in structure_definitions.values():
        assert "snapshot" not in sd
        assert sd["derivation"] == "constraint" and sd["fhirVersion"] == "4.0.1" and sd["kind"] == "resource"
        assert sd["baseDefinition"] == "http://hl7.org/fhir/StructureDefinition/" + sd["type"]
        elements = sd["differential"]["element"]
        ids = [e["id"] for e in elements]
        assert len(ids) == len(set(ids))
        for element in elements:
            assert element["id"].split(".")[0] == sd["type"]
            assert element["path"] == ".".join(p.split(":")[0] for p in element["id"].split("."))
            if ":" in element["id"].rsplit(".", 1)[-1]:
                assert element["sliceName"] == element["id"].rsplit(":", 1)[-1]


def test_bindings_and_target_profiles_resolve_inside_the_package(
    builtin_resources: dict[str, dict[str, Any]], structure_definitions: dict[str, dict[str, Any]]
) -> None:
    value_sets = {r["url"] for r in builtin_resources.values() if r["resourceType"] == "ValueSet"}
    profiles = {sd["url"] for sd in structure_definitions.values()}
    bound: set[str] = set()
    for sd in structure_definitions.values():
        for element in sd["differential"]["element"]:
            if "binding" in element:
                assert element["binding"]["valueSet"] in value_sets
                bound.add(element["binding"]["valueSet"])
            for type_ref in element.get("type", []):
                assert set(type_ref.get("targetProfile", [])) <= profiles
    unbound = value_sets - bound
    assert unbound == {f"{CANONICAL_BASE}/ValueSet/dk-consent-category"}  # the consent category is a pattern


def test_value_sets_include_known_code_systems(builtin_resources: dict[str, dict[str, Any]]) -> None:
    code_systems = {r["url"]: r for r in builtin_resources.values() if r["resourceType"] == "CodeSystem"}
    for resource in builtin_resources.values():
        if resource["resourceType"] != "ValueSet":
            continue
        for include in resource["compose"]["include"]:
            system = include["system"]
            assert system in code_systems or system in _EXTERNAL_SYSTEMS, system
            if system in code_systems:
                defined = {c["code"] for c in code_systems[system]["concept"]}
                assert {c["code"] for c in include.get("concept", [])} <= defined
    for cs in code_systems.values():
        assert cs["count"] == len(cs["concept"])


def test_xds_value_sets_hold_the_fact_sheet_codes(builtin_resources: dict[str, dict[str, Any]]) -> None:
    def codes(vs_id: str) -> set[str]:
        vs = builtin_resources[f"ValueSet-{vs_id}.json"]
        return {c["code"] for inc in vs["compose"]["include"] for c in inc.get("concept", [])}

    assert codes("dk-tm-xds-confidentiality") == {"N"}
    assert "001" in codes("dk-tm-xds-class-code")
    assert {"53576-5", "74465-6", "74468-0", "HCOM"} <= codes("dk-tm-xds-type-code")
    assert {"urn:ad:dk:medcom:phmr-v1.3:full", "urn:ad:dk:medcom:qrd-v1.3:full"} <= codes(
        "dk-tm-xds-format-code"
    )
    assert {"550621000005101", "22232009"} <= codes("dk-tm-xds-healthcare-facility-type")
    assert {"408443003", "658161000005107"} <= codes("dk-tm-xds-practice-setting")
    assert codes("dk-tm-measurement-context") == {"POT", "PNT", "AUT", "TPD"}
    assert codes("dk-tm-reference-range-alarm") == {"RAL", "GAL"}


def test_every_invariant_compiles_with_fhirpathpy(structure_definitions: dict[str, dict[str, Any]]) -> None:
    keys: list[str] = []
    for sd in structure_definitions.values():
        for element in sd["differential"]["element"]:
            for constraint in element.get("constraint", []):
                assert constraint["severity"] in ("error", "warning") and constraint["human"]
                fhirpath_compile(constraint["expression"], model=models["r4"])
                keys.append(constraint["key"])
    assert len(keys) == len(set(keys))
    assert {"dk-tm-cpr-1", "dk-tm-cpr-2", "dk-tm-cpr-3", "dk-tm-obs-2", "dk-tm-consent-2"} <= set(keys)


def test_public_api_is_exactly_all() -> None:
    assert len(set(builtin.__all__)) == len(builtin.__all__)
    public = {
        n
        for n in vars(builtin)
        if not n.startswith("_") and not isinstance(getattr(builtin, n), type(builtin))
    }
    assert public - {"annotations", "TYPE_CHECKING"} == set(builtin.__all__)


@pytest.mark.parametrize("profile", list(BuiltinProfile))
def test_profile_enum_points_at_a_packaged_file(profile: BuiltinProfile) -> None:
    resource_id = profile.value.rsplit("/", 1)[-1]
    assert package_files().joinpath(f"StructureDefinition-{resource_id}.json").is_file()
