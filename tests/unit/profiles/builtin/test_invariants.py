"""The profiles' FHIRPath invariants, evaluated with fhirpathpy (model r4) on good and broken instances."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fhirpathpy import evaluate
from fhirpathpy.models import models

from tests.unit.profiles.builtin.instances import CPR, MSG, PROFILE_IDS, good


def failing_invariants(
    structure_definitions: dict[str, dict[str, Any]], profile_id: str, resource: dict[str, Any]
) -> set[str]:
    """Keys of the root-level invariants of ``profile_id`` that ``resource`` violates."""
    failed: set[str] = set()
    for element in structure_definitions[profile_id]["differential"]["element"]:
        for constraint in element.get("constraint", []):
            assert (
                element["id"] == structure_definitions[profile_id]["type"]
            )  # all invariants sit on the root
            result = evaluate(resource, constraint["expression"], model=models["r4"])
            if result != [True]:
                failed.add(constraint["key"])
    return failed


@pytest.mark.parametrize("profile_id", PROFILE_IDS)
def test_conforming_instances_pass_every_invariant(
    structure_definitions: dict[str, dict[str, Any]], profile_id: str
) -> None:
    assert failing_invariants(structure_definitions, profile_id, good(profile_id)) == set()


def _cpr(value: str) -> Callable[[dict[str, Any]], None]:
    def change(r: dict[str, Any]) -> None:
        r["identifier"] = [{"system": CPR, "value": value}, {"system": "urn:other", "value": "x"}]

    return change


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(r: dict[str, Any]) -> None:
        target = r
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


CASES: list[tuple[str, Callable[[dict[str, Any]], None], set[str]]] = [
    ("dk-tm-patient", _cpr("123456789"), {"dk-tm-cpr-1"}),
    ("dk-tm-patient", _cpr("25124899A6"), {"dk-tm-cpr-1"}),
    ("dk-tm-patient", _cpr("3213000003"), {"dk-tm-cpr-2"}),  # day 32, month 13, modulus 11 fine
    ("dk-tm-patient", _cpr("0013000018"), {"dk-tm-cpr-2"}),
    ("dk-tm-patient", _cpr("2512489996"), {"dk-tm-cpr-3"}),  # fails modulus 11: the warning invariant
    (
        "dk-tm-practitioner",
        _set(("identifier",), [{"system": "https://autregweb.sst.dk", "value": "0A4XQ"}]),
        {"dk-tm-auth-1"},
    ),
    (
        "dk-tm-organization",
        _set(("identifier",), [{"system": "urn:oid:1.2.208.176.1.1", "value": "1234567890"}]),
        {"dk-tm-sor-1"},
    ),
    (
        "dk-tm-observation",
        _set(("code",), {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]}),
        {"dk-tm-obs-1"},
    ),
    ("dk-tm-observation", _set(("effectiveDateTime",), "2024-05-01"), {"dk-tm-obs-2"}),
    ("dk-tm-observation", _set(("effectiveDateTime",), "2024-05-01T08:30:00"), {"dk-tm-obs-2"}),
    ("dk-tm-observation", _set(("subject",), {"display": "someone"}), {"dk-tm-obs-3"}),
    (
        "dk-tm-observation",
        _set(("method",), {"coding": [{"system": MSG, "code": "POT"}, {"system": MSG, "code": "PNT"}]}),
        {"dk-tm-obs-4"},
    ),
    ("dk-tm-observation", _set(("valueQuantity",), {"value": 72.5, "unit": "kg"}), {"dk-tm-obs-5"}),
    ("dk-tm-consent", _set(("patient",), {"display": "Ane"}), {"dk-tm-consent-1"}),
    (
        "dk-tm-consent",
        _set(("provision", "actor"), [{"role": {"text": "x"}, "reference": {"reference": "Practitioner/1"}}]),
        {"dk-tm-consent-2"},
    ),
]


@pytest.mark.parametrize(("profile_id", "change", "expected"), CASES)
def test_broken_instances_fail_exactly_the_intended_invariant(
    structure_definitions: dict[str, dict[str, Any]],
    profile_id: str,
    change: Callable[[dict[str, Any]], None],
    expected: set[str],
) -> None:
    resource = good(profile_id)
    change(resource)
    assert failing_invariants(structure_definitions, profile_id, resource) == expected


def test_warning_only_invariant_is_modulus_11(structure_definitions: dict[str, dict[str, Any]]) -> None:
    severities = {
        c["key"]: c["severity"]
        for sd in structure_definitions.values()
        for e in sd["differential"]["element"]
        for c in e.get("constraint", [])
    }
    assert {k for k, s in severities.items() if s == "warning"} == {"dk-tm-cpr-3"}


def test_blocking_everyone_needs_no_actor(structure_definitions: dict[str, dict[str, Any]]) -> None:
    consent = good("dk-tm-consent")
    del consent["provision"]["actor"]
    assert failing_invariants(structure_definitions, "dk-tm-consent", consent) == set()
