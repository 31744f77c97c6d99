"""DocumentEntry -> DocumentReference (the MHD / MedCom mapping table in xds.phmr.document_reference)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib

import pytest

from tests import xds_builders as b
from xds import AssociationType, AvailabilityStatus, DocumentEntry, InternationalString
from xds.phmr import document_reference
from xds.phmr.document_reference import (
    code_system_oid,
    code_system_url,
    entry_uuid_of,
    fhir_time,
    master_identifier,
    resource_id,
    unique_id_of,
)

UUID = "urn:uuid:7d1f9e0a-3c2b-4a55-8e1d-0b9c8a7f6e5d"


@pytest.fixture
def entry() -> DocumentEntry:
    content = b.cda_document()
    return dataclasses.replace(
        b.document_entry(content=content, unique_id="1.2.208.184^5a0c1f3e-9d2b"),
        entry_uuid=UUID,
        availability_status=AvailabilityStatus.APPROVED,
        comments=InternationalString.of("målinger fra uge 10"),
        reference_ids=("REF-1^^^&1.2.208.176.1.1&ISO^urn:ihe:iti:xds:2013:referral",),
    )


def test_identity_status_and_codes(entry: DocumentEntry) -> None:
    resource = document_reference(entry)
    assert resource["resourceType"] == "DocumentReference"
    assert resource["id"] == "7d1f9e0a-3c2b-4a55-8e1d-0b9c8a7f6e5d"
    assert resource["masterIdentifier"] == {"system": "urn:oid:1.2.208.184", "value": "5a0c1f3e-9d2b"}
    assert resource["identifier"] == [{"use": "official", "system": "urn:ietf:rfc:3986", "value": UUID}]
    assert resource["status"] == "current"
    assert resource["type"]["coding"] == [
        {"system": "http://loinc.org", "code": "53576-5", "display": "Personal Health Monitoring Report"}
    ]
    assert resource["category"][0]["coding"][0] == {
        "system": "urn:oid:1.2.208.184.100.9",
        "code": "001",
        "display": "Klinisk rapport",
    }
    assert resource["subject"] == {
        "type": "Patient",
        "identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": b.PATIENT},
    }
    assert resource["securityLabel"][0]["coding"][0]["system"] == (
        "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
    )
    assert resource["description"] == "målinger fra uge 10"


def test_content_and_context(entry: DocumentEntry) -> None:
    resource = document_reference(entry)
    attachment = resource["content"][0]["attachment"]
    content = b.cda_document()
    assert attachment["contentType"] == "text/xml" and attachment["language"] == "da-DK"
    assert attachment["size"] == entry.size == len(content)
    assert base64.b64decode(attachment["hash"]).hex() == entry.hash
    assert attachment["creation"] == "2024-03-12T08:15:00Z" == resource["date"]
    assert resource["content"][0]["format"]["code"] == "urn:ad:dk:medcom:phmr-v1.3:full"
    context = resource["context"]
    assert context["period"] == {"start": "2024-03-01T00:00:00Z", "end": "2024-03-11T23:59:59Z"}
    assert context["facilityType"]["coding"][0]["system"] == "http://snomed.info/sct"
    assert context["practiceSetting"]["coding"][0]["code"] == "408443003"
    assert context["sourcePatientInfo"]["identifier"]["value"] == b.PATIENT
    assert context["related"] == [{"identifier": {"system": "urn:oid:1.2.208.176.1.1", "value": "REF-1"}}]
    assert context["event"][0]["coding"][0]["code"] == "ALAL21"
    assert resource["author"][0]["identifier"] == {
        "system": "urn:oid:1.2.208.176.1.1",
        "value": "8071000016009",
    }
    assert resource["author"][1] == {"type": "Practitioner", "display": "Jens Jensen"}
    assert resource["authenticator"]["display"] == "Anders Andersen"


def test_deprecated_entry_is_superseded_and_relations_are_listed(entry: DocumentEntry) -> None:
    old = "urn:uuid:11111111-2222-4333-8444-555555555555"
    deprecated = dataclasses.replace(entry, availability_status=AvailabilityStatus.DEPRECATED)
    resource = document_reference(
        deprecated, [(AssociationType.RPLC, old), (AssociationType.HAS_MEMBER, old)]
    )
    assert resource["status"] == "superseded"
    assert resource["relatesTo"] == [
        {
            "code": "replaces",
            "target": {"reference": "DocumentReference/11111111-2222-4333-8444-555555555555"},
        }
    ]


def test_hash_of_the_real_bytes(entry: DocumentEntry) -> None:
    digest = hashlib.sha1(b.cda_document(note="x"), usedforsecurity=False).hexdigest()
    resource = document_reference(dataclasses.replace(entry, hash=digest))
    assert base64.b64decode(resource["content"][0]["attachment"]["hash"]) == bytes.fromhex(digest)
    broken = document_reference(dataclasses.replace(entry, hash="not-hex"))
    assert "hash" not in broken["content"][0]["attachment"]


@pytest.mark.parametrize(
    ("dtm", "fhir"),
    [
        ("2024", "2024"),
        ("202403", "2024-03"),
        ("20240312", "2024-03-12"),
        ("2024031208", "2024-03-12T08:00:00Z"),
        ("202403120815", "2024-03-12T08:15:00Z"),
        ("20240312081530", "2024-03-12T08:15:30Z"),
        ("2024-03-12", None),
        ("20241312", None),
        (None, None),
    ],
)
def test_fhir_time(dtm: str | None, fhir: str | None) -> None:
    assert fhir_time(dtm) == fhir


def test_date_needs_seconds(entry: DocumentEntry) -> None:
    coarse = document_reference(dataclasses.replace(entry, creation_time="20240312"))
    assert "date" not in coarse and coarse["content"][0]["attachment"]["creation"] == "2024-03-12"


@pytest.mark.parametrize(
    "unique_id", ["1.2.208.184^5a0c1f3e", "2.25.123456789", "urn:uuid:0e0e0e0e-1111-4222-8333-444444444444"]
)
def test_master_identifier_round_trips(unique_id: str) -> None:
    identifier = master_identifier(unique_id)
    assert unique_id_of(identifier["system"], identifier["value"]) == unique_id


def test_code_systems_round_trip() -> None:
    for oid in ("2.16.840.1.113883.6.1", "2.16.840.1.113883.6.96", "1.2.208.184.100.9"):
        url = code_system_url(oid)
        assert url is not None and code_system_oid(url) == oid
    assert code_system_url(None) is None
    assert code_system_url("http://example.org/cs") == "http://example.org/cs"


def test_ids() -> None:
    assert resource_id(UUID) == UUID[9:] and entry_uuid_of(UUID[9:]) == UUID
    assert resource_id("Document01") == "Document01"
