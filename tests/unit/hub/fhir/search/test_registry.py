"""The SearchParameter registry (hub.fhir.search.registry)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from hub.core.errors import ConfigurationError
from hub.core.search import SearchParamType
from hub.fhir.search import (
    SUPPORTED_RESOURCE_TYPES,
    SearchParameterDef,
    SearchParameterRegistry,
    default_registry,
)
from hub.fhir.search.expressions import CompiledExpression

CPR = "urn:oid:1.2.208.176.1.2"
_SKIPPED_FROM_CORE = {  # defined on extension pages rather than in the core registry (see r4_parameters)
    ("Patient", "age"),
    ("Patient", "birthOrderBoolean"),
    ("Patient", "mothersMaidenName"),
    ("Patient", "part-agree"),
    ("Device", "din"),
    ("Observation", "amino-acid-change"),
    ("Observation", "dna-variant"),
    ("Observation", "gene-amino-acid-change"),
    ("Observation", "gene-dnavariant"),
    ("Observation", "gene-identifier"),
}


def test_covers_every_served_type() -> None:
    registry = default_registry()
    assert registry.resource_types == SUPPORTED_RESOURCE_TYPES
    assert len(SUPPORTED_RESOURCE_TYPES) == 16
    for resource_type in SUPPORTED_RESOURCE_TYPES:
        codes = {d.code for d in registry.for_type(resource_type)}
        assert {"_id", "_lastUpdated", "_profile", "_security", "_source", "_tag"} <= codes


def test_lookups() -> None:
    registry = default_registry()
    code = registry.get("Observation", "code")
    assert code is not None
    assert code.type is SearchParamType.TOKEN
    assert code.expression == "Observation.code"
    assert code.url == "http://hl7.org/fhir/SearchParameter/clinical-code"
    assert registry.by_hash(code.hash) is code
    patient = registry.get("Observation", "patient")
    assert patient is not None and patient.targets == ("Patient",)
    assert patient.allows_target("Patient") and not patient.allows_target("Group")
    focus = registry.get("Observation", "focus")
    assert focus is not None and focus.allows_target("Anything")  # no targets: any type
    assert registry.get("Observation", "nope") is None
    assert registry.get("Encounter", "date") is None
    assert [d.code for d in registry.for_type("Bundle")] == sorted(
        d.code for d in registry.for_type("Bundle")
    )


def test_every_builtin_expression_compiles_and_nearly_all_are_fast() -> None:
    registry = default_registry()
    slow = []
    for resource_type in registry.resource_types:
        for definition in registry.for_type(resource_type):
            compiled = CompiledExpression(definition.expression)
            if not compiled.fast:
                slow.append(f"{resource_type}.{definition.code}")
            for branch_root, _ in compiled.fast_branches:
                assert branch_root == resource_type  # a type's expressions only start at that type
    assert sorted(slow) == ["Bundle.composition", "Bundle.message"]  # Bundle.entry[0] needs an indexer


def test_matches_the_official_r4_definitions(core_search_parameters: list[dict[str, Any]]) -> None:
    """Codes and types agree with hl7.fhir.r4.core for every supported type (read in place)."""
    registry = default_registry()
    official: dict[tuple[str, str], str] = {}
    for resource in core_search_parameters:
        if resource.get("type") in ("composite", "special") or not resource.get("expression"):
            continue
        for base in resource.get("base", []):
            targets = SUPPORTED_RESOURCE_TYPES if base in ("Resource", "DomainResource") else {base}
            for resource_type in targets & SUPPORTED_RESOURCE_TYPES:
                official[(resource_type, resource["code"])] = resource["type"]
    ours = {(t, d.code): d.type.value for t in registry.resource_types for d in registry.for_type(t)}
    assert {k: v for k, v in official.items() if k not in _SKIPPED_FROM_CORE} == ours


def test_duplicates_are_configuration_errors() -> None:
    definition = SearchParameterDef("Observation", "x", SearchParamType.TOKEN, "Observation.status")
    registry = SearchParameterRegistry([definition])
    generation = registry.generation
    with pytest.raises(ConfigurationError, match="defined twice"):
        registry.add(definition)
    assert registry.generation == generation


def test_extend_from_the_core_package(core_search_parameters: list[dict[str, Any]], caplog: Any) -> None:
    registry = default_registry()
    before = {(t, d.code) for t in registry.resource_types for d in registry.for_type(t)}
    with caplog.at_level(logging.INFO, logger="telehub.search"):
        result = registry.extend_from_package(core_search_parameters)
    added = {(d.resource_type, d.code) for d in result.added}
    # built-ins are never replaced; what is added is exactly what the built-in table leaves out on purpose
    assert added == {
        k
        for k in _SKIPPED_FROM_CORE
        if k not in {("Patient", "age"), ("Patient", "birthOrderBoolean"), ("Patient", "part-agree")}
    }
    assert not added & before
    maiden = registry.get("Patient", "mothersMaidenName")
    assert maiden is not None
    assert maiden.expression.startswith("Patient.extension(")
    reasons = {s.reason for s in result.skipped}
    assert "composite parameters are not indexed" in reasons
    assert "no supported base resource type" in reasons
    assert "Observation.code is already defined" in reasons
    assert any("search parameters from package" in r.message for r in caplog.records)


def test_extend_with_hand_written_parameters() -> None:
    registry = default_registry()
    result = registry.extend_from_package(
        [
            {
                "resourceType": "SearchParameter",
                "url": "http://telehub.example/sp/dk-cpr",
                "code": "dk-cpr",
                "type": "token",
                "base": ["Patient", "Encounter"],
                "expression": f"Patient.identifier.where(system='{CPR}') | Encounter.identifier",
            },
            {
                "resourceType": "SearchParameter",
                "url": "u2",
                "code": "everywhere",
                "type": "uri",
                "base": ["Resource"],
                "expression": "Resource.implicitRules",
            },
            {
                "resourceType": "SearchParameter",
                "url": "u3",
                "code": "broken",
                "type": "string",
                "base": ["Patient"],
                "expression": "Patient.name.where(",
            },
            {
                "resourceType": "SearchParameter",
                "url": "u3b",
                "code": "unknown-fn",
                "type": "string",
                "base": ["Patient"],
                "expression": "Patient.name.frobnicate()",
            },
            {
                "resourceType": "SearchParameter",
                "url": "u4",
                "code": "c",
                "type": "composite",
                "base": ["Patient"],
                "expression": "Patient",
            },
            {
                "resourceType": "SearchParameter",
                "url": "u5",
                "code": "t",
                "type": "bogus",
                "base": ["Patient"],
                "expression": "Patient",
            },
            {
                "resourceType": "SearchParameter",
                "url": "u6",
                "code": "n",
                "type": "string",
                "base": ["Patient"],
            },
            {"resourceType": "Patient", "id": "not-a-search-parameter"},
            {
                "resourceType": "SearchParameter",
                "url": "u7",
                "code": "other",
                "type": "string",
                "base": ["Patient"],
                "expression": "Encounter.status",
            },
        ]
    )
    cpr = registry.get("Patient", "dk-cpr")
    assert cpr is not None
    assert cpr.expression == f"Patient.identifier.where(system='{CPR}')"
    assert registry.get("Encounter", "dk-cpr") is None
    assert {d.resource_type for d in result.added if d.code == "everywhere"} == SUPPORTED_RESOURCE_TYPES
    everywhere = registry.get("Consent", "everywhere")
    assert everywhere is not None and everywhere.expression == "Consent.implicitRules"
    reasons = {s.code: s.reason for s in result.skipped}
    assert reasons["broken"].startswith("expression does not compile: FHIRPath syntax error at column 20")
    assert "frobnicate" in reasons["unknown-fn"]
    assert reasons["c"] == "composite parameters are not indexed"
    assert reasons["t"] == "unknown type 'bogus'"
    assert reasons["n"] == "no FHIRPath expression"
    assert reasons[""].startswith("not a SearchParameter")
    assert reasons["other"] == "no expression branch applies to Patient"
