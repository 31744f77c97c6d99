"""Reference splitting (hub.fhir.search.references)."""

from __future__ import annotations

import pytest

from hub.fhir.search.references import ParsedReference, parse_reference, reference_type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Patient/example", ParsedReference("Patient", "example", None)),
        ("Procedure/example/_history/1", ParsedReference("Procedure", "example", None)),
        (" Patient/0101011234 ", ParsedReference("Patient", "0101011234", None)),
        (
            "https://other.example/fhir/Patient/7",
            ParsedReference("Patient", None, "https://other.example/fhir/Patient/7"),
        ),
        (
            "http://other.example/fhir/Patient/7/_history/3",
            ParsedReference("Patient", None, "http://other.example/fhir/Patient/7"),
        ),
        (
            "urn:uuid:187e0c12-8dd2-67e2-99b2-bf273c878281",
            ParsedReference(None, None, "urn:uuid:187e0c12-8dd2-67e2-99b2-bf273c878281"),
        ),
        (
            "http://hl7.org/fhir/StructureDefinition/vitalsigns|4.0.1",
            ParsedReference(None, None, "http://hl7.org/fhir/StructureDefinition/vitalsigns|4.0.1"),
        ),
    ],
)
def test_parse(text: str, expected: ParsedReference) -> None:
    assert parse_reference(text) == expected


def test_own_base_is_local() -> None:
    base = "https://telehub.example/fhir"
    assert parse_reference(f"{base}/Patient/9", base) == ParsedReference("Patient", "9", None)
    assert parse_reference(f"{base}/Patient/9/_history/2", base + "/") == ParsedReference(
        "Patient", "9", None
    )
    assert parse_reference("https://elsewhere/fhir/Patient/9", base) == ParsedReference(
        "Patient", None, "https://elsewhere/fhir/Patient/9"
    )


def test_contained_and_empty() -> None:
    assert parse_reference("#a2") is None
    assert parse_reference("   ") is None


def test_reference_type() -> None:
    assert reference_type({"reference": "Patient/1"}) == "Patient"
    assert reference_type({"reference": "urn:uuid:1", "type": "Device"}) == "Device"
    assert reference_type({"identifier": {"value": "x"}, "type": "Patient"}) == "Patient"
    assert reference_type({"reference": "#a2"}) is None
    assert reference_type({"reference": 7, "type": ["Patient"]}) is None  # hostile JSON types
    assert reference_type({"type": "not a type"}) is None
