"""Required attributes and formats per object type (ITI TF-3 4.2.3.2-4.2.3.4)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from xds.hl7v2 import CX
from xds.model import Code, InternationalString, RegistryObjectList
from xds.registry_rules.required import check_required, is_oid


def _entry_findings(dk_objects: RegistryObjectList, **changes: Any) -> list[str]:
    entry = dataclasses.replace(dk_objects.document_entries[0], **changes)
    objects = dataclasses.replace(dk_objects, document_entries=(entry,))
    return [f"{f.rule_id}: {f.code_context}" for f in check_required(objects)]


def test_sample_is_complete(dk_objects: RegistryObjectList) -> None:
    assert check_required(dk_objects) == []


@pytest.mark.parametrize(
    ("field", "attribute"),
    [
        ("class_code", "classCode"),
        ("type_code", "typeCode"),
        ("format_code", "formatCode"),
        ("healthcare_facility_type_code", "healthcareFacilityTypeCode"),
        ("practice_setting_code", "practiceSettingCode"),
        ("creation_time", "creationTime"),
        ("patient_id", "patientId"),
        ("source_patient_id", "sourcePatientId"),
        ("language_code", "languageCode"),
        ("mime_type", "mimeType"),
        ("unique_id", "uniqueId"),
        ("hash", "hash"),
        ("size", "size"),
        ("repository_unique_id", "repositoryUniqueId"),
    ],
)
def test_each_required_document_attribute(dk_objects: RegistryObjectList, field: str, attribute: str) -> None:
    assert _entry_findings(dk_objects, **{field: None}) == [
        f"XDS-REQ-01: [XDS-REQ-01] {attribute} is required"
    ]


def test_missing_confidentiality_code(dk_objects: RegistryObjectList) -> None:
    assert _entry_findings(dk_objects, confidentiality_codes=()) == [
        "XDS-REQ-01: [XDS-REQ-01] confidentialityCode is required"
    ]


def test_repository_computes_hash_size_and_repository_id(dk_objects: RegistryObjectList) -> None:
    entry = dataclasses.replace(
        dk_objects.document_entries[0], hash=None, size=None, repository_unique_id=None
    )
    objects = dataclasses.replace(dk_objects, document_entries=(entry,))
    assert check_required(objects, for_repository=True) == []
    assert len(check_required(objects)) == 3


def test_code_triple(dk_objects: RegistryObjectList) -> None:
    findings = _entry_findings(
        dk_objects, class_code=Code("001", None), event_codes=(Code("", "1.2", InternationalString.of("x")),)
    )
    assert findings == [
        "XDS-REQ-02: [XDS-REQ-02] classCode '001' lacks codingScheme, display name",
        "XDS-REQ-02: [XDS-REQ-02] eventCodeList '' lacks code",
    ]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"hash": "xyz"}, "not a SHA-1"),
        ({"creation_time": "2024-03-12"}, "creationTime '2024-03-12' is not a DTM"),
        ({"service_start_time": "20241399"}, "serviceStartTime"),
        ({"language_code": "dansk sprog"}, "RFC 3066"),
        ({"mime_type": "textxml"}, "type/subtype"),
        ({"unique_id": "1.2 3"}, "too long or has spaces"),
        ({"unique_id": "1." * 80}, "too long or has spaces"),
        ({"repository_unique_id": "repo"}, "not an OID"),
        ({"patient_id": CX("1", "1.2", other=((4, "PI"),))}, "only CX.1 and CX.4"),
        ({"limited_metadata": True}, "limitedMetadata"),
        ({"entry_uuid": "urn:uuid:not-a-uuid"}, "not a valid UUID URN"),
    ],
)
def test_formats(dk_objects: RegistryObjectList, changes: dict[str, Any], fragment: str) -> None:
    findings = _entry_findings(dk_objects, **changes)
    assert any(fragment in f for f in findings), findings


def test_submission_set_and_folder_requirements(dk_objects: RegistryObjectList) -> None:
    ss = dataclasses.replace(
        dk_objects.submission_sets[0],
        content_type_code=None,
        submission_time=None,
        source_id="not-an-oid",
        unique_id=None,
        patient_id=None,
        limited_metadata=True,
    )
    folder = dataclasses.replace(
        dk_objects.folders[0], codes=(), unique_id="x", last_update_time="yesterday", limited_metadata=True
    )
    findings = [
        f.code_context
        for f in check_required(dataclasses.replace(dk_objects, submission_sets=(ss,), folders=(folder,)))
    ]
    for fragment in (
        "contentTypeCode is required",
        "submissionTime is required",
        "sourceId 'not-an-oid' is not an OID",
        "uniqueId is required",
        "patientId is required",
        "SubmissionSet is flagged limitedMetadata",
        "codeList is required",
        "Folder uniqueId 'x' is not an OID",
        "lastUpdateTime 'yesterday'",
        "Folder is flagged limitedMetadata",
    ):
        assert any(fragment in f for f in findings), fragment


def test_an_oid_over_64_characters_is_named_as_such(dk_objects: RegistryObjectList) -> None:
    long_oid = "1.2.840.113556.1.8000.2554.58783.21864.3474.19410.44358.58254.41281.46346"
    ss = dataclasses.replace(dk_objects.submission_sets[0], unique_id=long_oid)
    findings = [
        f.code_context for f in check_required(dataclasses.replace(dk_objects, submission_sets=(ss,)))
    ]
    expected = (
        f"SubmissionSet uniqueId {long_oid!r} is an OID of {len(long_oid)} characters (at most 64 allowed)"
    )
    assert any(f.endswith(expected) for f in findings), findings


def test_empty_entry_uuid(dk_objects: RegistryObjectList) -> None:
    assert any("entryUUID" in f for f in _entry_findings(dk_objects, entry_uuid=""))


def test_oid_syntax() -> None:
    assert is_oid("1.2.208.176.1.2") and is_oid("2.16.840.1.113883.6.96")
    assert not is_oid("1.02.3") and not is_oid("3.1") and not is_oid("1") and not is_oid("1.2." + "1" * 70)
