"""The Patient compartment key (hub.fhir.search.compartment)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hub.fhir.search import patient_compartment_key

Loader = Callable[[str], dict[str, Any]]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Patient-example.json", "example"),
        ("Observation-example.json", "example"),  # subject Patient/example
        ("Consent-consent-example-notTime.json", "f001"),  # patient Patient/f001
        ("DocumentReference-example.json", "xcda"),  # subject Patient/xcda
        ("AuditEvent-example.json", None),  # agents and entity only by identifier
        ("Provenance-example.json", None),  # targets a Procedure
        ("Device-example.json", None),  # no patient
        ("Practitioner-example.json", None),  # not in the Patient compartment
        ("Organization-1.json", None),
    ],
)
def test_official_examples(example: Loader, name: str, key: str | None) -> None:
    assert patient_compartment_key(example(name)) == key


def test_rules() -> None:
    # subject wins over performer; a Group subject falls through to a Patient performer
    assert (
        patient_compartment_key(
            {
                "resourceType": "Observation",
                "subject": {"reference": "Patient/a"},
                "performer": [{"reference": "Patient/b"}],
            }
        )
        == "a"
    )
    assert (
        patient_compartment_key(
            {
                "resourceType": "Observation",
                "subject": {"reference": "Group/g"},
                "performer": [{"reference": "Practitioner/x"}, {"reference": "Patient/b"}],
            }
        )
        == "b"
    )
    assert (
        patient_compartment_key(
            {"resourceType": "Observation", "subject": {"reference": "Patient/a/_history/3"}}
        )
        == "a"
    )
    # a CPR only by identifier: no key (the caller may resolve it first)
    assert (
        patient_compartment_key(
            {
                "resourceType": "Observation",
                "subject": {"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": "0101011234"}},
            }
        )
        is None
    )
    assert patient_compartment_key({"resourceType": "Device", "patient": {"reference": "Patient/d"}}) == "d"
    assert (
        patient_compartment_key(
            {"resourceType": "AuditEvent", "entity": [{"what": {"reference": "Patient/e"}}]}
        )
        == "e"
    )
    assert (
        patient_compartment_key({"resourceType": "Provenance", "target": [{"reference": "Patient/p"}]}) == "p"
    )


def test_base_url_and_foreign_servers() -> None:
    base = "https://telehub.example/fhir"
    local = {"resourceType": "Consent", "patient": {"reference": f"{base}/Patient/c"}}
    assert patient_compartment_key(local, base) == "c"
    assert patient_compartment_key(local) is None  # without knowing the base it is someone else's server
    foreign = {"resourceType": "Consent", "patient": {"reference": "https://elsewhere/fhir/Patient/c"}}
    assert patient_compartment_key(foreign, base) is None


def test_hostile_shapes() -> None:
    assert patient_compartment_key({"resourceType": "Patient", "id": 5}) is None
    assert patient_compartment_key({"resourceType": "Patient"}) is None
    assert patient_compartment_key({"resourceType": "Observation", "subject": "Patient/a"}) is None
    assert (
        patient_compartment_key({"resourceType": "Observation", "subject": [{"reference": ["Patient/a"]}]})
        is None
    )
    assert patient_compartment_key({"resourceType": ["Observation"]}) is None
