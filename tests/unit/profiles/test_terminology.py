"""Local terminology: ValueSet expansion (concepts, filters, imports, excludes) and code checks."""

from __future__ import annotations

from typing import Any

import pytest

from profiles import CanonicalRegistry
from profiles.code_systems import CodeValidity
from profiles.terminology import TerminologyService

CS: dict[str, Any] = {
    "resourceType": "CodeSystem",
    "url": "http://t/cs",
    "content": "complete",
    "concept": [
        {"code": "animal", "concept": [{"code": "dog", "concept": [{"code": "puppy"}]}, {"code": "cat"}]},
        {"code": "plant", "property": [{"code": "colour", "valueCode": "green"}]},
    ],
}


def _vs(url: str, compose: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "url": url, "compose": compose}


@pytest.fixture
def terminology() -> TerminologyService:
    registry = CanonicalRegistry()
    registry.add(CS)
    registry.add(_vs("http://t/all", {"include": [{"system": "http://t/cs"}]}))
    registry.add(
        _vs(
            "http://t/isa",
            {
                "include": [
                    {
                        "system": "http://t/cs",
                        "filter": [{"property": "concept", "op": "is-a", "value": "dog"}],
                    }
                ]
            },
        )
    )
    registry.add(
        _vs(
            "http://t/desc",
            {
                "include": [
                    {
                        "system": "http://t/cs",
                        "filter": [{"property": "concept", "op": "descendent-of", "value": "animal"}],
                    }
                ]
            },
        )
    )
    registry.add(
        _vs(
            "http://t/green",
            {
                "include": [
                    {"system": "http://t/cs", "filter": [{"property": "colour", "op": "=", "value": "green"}]}
                ]
            },
        )
    )
    registry.add(
        _vs(
            "http://t/listed",
            {"include": [{"system": "http://snomed.info/sct", "concept": [{"code": "123"}]}]},
        )
    )
    registry.add(_vs("http://t/snomed", {"include": [{"system": "http://snomed.info/sct"}]}))
    registry.add(
        _vs(
            "http://t/import",
            {
                "include": [{"valueSet": ["http://t/all"]}],
                "exclude": [{"system": "http://t/cs", "concept": [{"code": "cat"}]}],
            },
        )
    )
    return TerminologyService(registry)


@pytest.mark.parametrize(
    ("value_set", "code", "validity"),
    [
        ("http://t/all", "puppy", CodeValidity.VALID),
        ("http://t/all", "fish", CodeValidity.INVALID),
        ("http://t/isa", "dog", CodeValidity.VALID),
        ("http://t/isa", "puppy", CodeValidity.VALID),
        ("http://t/isa", "cat", CodeValidity.INVALID),
        ("http://t/desc", "animal", CodeValidity.INVALID),
        ("http://t/desc", "puppy", CodeValidity.VALID),
        ("http://t/green", "plant", CodeValidity.VALID),
        ("http://t/green", "dog", CodeValidity.INVALID),
        ("http://t/import", "dog", CodeValidity.VALID),
        ("http://t/import", "cat", CodeValidity.INVALID),
    ],
)
def test_membership(
    terminology: TerminologyService, value_set: str, code: str, validity: CodeValidity
) -> None:
    assert terminology.check_in_value_set(value_set, "http://t/cs", code).validity is validity


def test_systems_the_hub_cannot_enumerate_are_unknown_not_valid(terminology: TerminologyService) -> None:
    assert (
        terminology.check_in_value_set("http://t/snomed", "http://snomed.info/sct", "1").validity
        is CodeValidity.UNKNOWN
    )
    assert (
        terminology.check_in_value_set("http://t/listed", "http://snomed.info/sct", "123").validity
        is CodeValidity.VALID
    )
    assert (
        terminology.check_in_value_set("http://t/listed", "http://snomed.info/sct", "9").validity
        is CodeValidity.INVALID
    )
    assert (
        terminology.check_in_value_set("http://t/nope", "http://t/cs", "dog").validity is CodeValidity.UNKNOWN
    )
    assert terminology.check_system_code("http://loinc.org", "1-8").validity is CodeValidity.UNKNOWN
    assert terminology.member_of("http://t/snomed", [("http://snomed.info/sct", "1")]) is None


def test_code_system_checks_and_grammars(terminology: TerminologyService) -> None:
    assert terminology.check_system_code("http://t/cs", "puppy").validity is CodeValidity.VALID
    assert terminology.check_system_code("http://t/cs", "kitten").validity is CodeValidity.INVALID
    assert terminology.check_system_code("urn:ietf:bcp:47", "da-DK").validity is CodeValidity.VALID
    assert terminology.check_system_code("urn:ietf:bcp:47", "not a tag").validity is CodeValidity.INVALID
    assert (
        terminology.check_system_code("urn:ietf:bcp:13", "application/fhir+json").validity
        is CodeValidity.VALID
    )


def test_expansion_follows_registry_changes(terminology: TerminologyService) -> None:
    assert (
        terminology.check_in_value_set("http://t/all", "http://t/cs", "fish").validity is CodeValidity.INVALID
    )
    changed = dict(CS, concept=[*CS["concept"], {"code": "fish"}])
    terminology.registry.add(changed)
    assert (
        terminology.check_in_value_set("http://t/all", "http://t/cs", "fish").validity is CodeValidity.VALID
    )


def test_core_required_value_set(core_registry: CanonicalRegistry) -> None:
    service = TerminologyService(core_registry)
    gender = "http://hl7.org/fhir/ValueSet/administrative-gender"
    assert service.check_in_value_set(gender, None, "female").validity is CodeValidity.VALID
    assert service.check_in_value_set(gender, None, "f").validity is CodeValidity.INVALID
