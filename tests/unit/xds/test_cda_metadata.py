"""DocumentEntry derived from the CDA header, and the cross-check of submitted metadata (xds.cda_metadata)."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest
from lxml import etree

from hub.core.issues import IssueSeverity
from hub.core.xml_safety import parse_xml
from tests.conftest import testdata_path
from tests.unit.profiles.cda.phmr_builder import build_phmr, first, mutate
from xds.cda_metadata import CLASS_CODE, cross_check, derive_document_entry
from xds.model import CX, Author, Code, DocumentEntry, InternationalString


def _derive(document: bytes, **kwargs: object) -> DocumentEntry:
    options: dict[str, object] = {"facility_type": "550621000005101", "practice_setting": "408443003"}
    options.update(kwargs)
    return derive_document_entry(parse_xml(document), document, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def phmr() -> bytes:
    return build_phmr(5)


@pytest.fixture(scope="module")
def entry(phmr: bytes) -> DocumentEntry:
    return _derive(phmr, repository_unique_id="1.2.3.4", home_community_id="urn:oid:1.2.208.176.8.1")


def test_identity_and_patient(entry: DocumentEntry) -> None:
    assert entry.unique_id == "1.2.208.184^5a0c1f3e-9d2b-4c77-8e61-2f4b9a7d0c11"
    assert entry.patient_id == CX(id="2512484916", assigning_authority="1.2.208.176.1.2")
    assert entry.patient_id is not None and entry.patient_id.format() == "2512484916^^^&1.2.208.176.1.2&ISO"
    assert entry.source_patient_id == entry.patient_id
    assert entry.source_patient_info == ("PID-5|Berggren^Nancy^Ann^^", "PID-7|19481225", "PID-8|F")
    assert entry.entry_uuid.startswith("urn:uuid:")
    assert entry.repository_unique_id == "1.2.3.4"
    assert entry.home_community_id == "urn:oid:1.2.208.176.8.1"


def test_codes(entry: DocumentEntry) -> None:
    assert entry.class_code == CLASS_CODE
    assert entry.class_code is not None and entry.class_code.key == ("001", "1.2.208.184.100.9")
    assert entry.type_code is not None and entry.type_code.key == ("53576-5", "2.16.840.1.113883.6.1")
    assert entry.type_code.display_text == "Personal Health Monitoring Report"
    assert entry.format_code is not None
    assert entry.format_code.key == ("urn:ad:dk:medcom:phmr-v1.3:full", "1.2.208.184.100.10")
    assert entry.format_code.display_text == "DK PHMR schema"
    assert [c.key for c in entry.confidentiality_codes] == [("N", "2.16.840.1.113883.5.25")]
    assert entry.healthcare_facility_type_code == Code.of("550621000005101", "2.16.840.1.113883.6.96")
    assert entry.practice_setting_code == Code.of("408443003", "2.16.840.1.113883.6.96")
    assert [c.key for c in entry.event_codes] == [
        ("NPU03804", "1.2.208.176.2.1"),
        ("DNK05472", "1.2.208.176.2.1"),
        ("DNK05473", "1.2.208.176.2.1"),
        ("NPU21692", "1.2.208.176.2.1"),
        ("NPU03011", "1.2.208.176.2.1"),
    ]


def test_times_are_utc(entry: DocumentEntry) -> None:
    # the generated document is in +0200: 08:00 local is 06:00 UTC
    assert entry.service_start_time == "20240301060000"
    assert entry.service_stop_time == "20240301062800"
    assert entry.creation_time == "20240301072800"


def test_document_facts(entry: DocumentEntry, phmr: bytes) -> None:
    assert entry.hash == hashlib.sha1(phmr).hexdigest()
    assert entry.size == len(phmr)
    assert entry.mime_type == "text/xml"
    assert entry.language_code == "da-DK"
    assert entry.title == InternationalString.of("Hjemmemonitorering for 2512484916")


def test_authors_and_legal_authenticator(entry: DocumentEntry) -> None:
    assert entry.authors == (
        Author(
            person="^Andersen^Anders",
            institutions=("Lungemedicinsk afdeling^^^^^&1.2.208.176.1.1&ISO^^^^368061000016003",),
        ),
    )
    assert entry.legal_authenticator == "^Olsen^Lars^Ole"


def test_entry_uuid_is_deterministic_and_overridable(phmr: bytes, entry: DocumentEntry) -> None:
    assert _derive(phmr).entry_uuid == entry.entry_uuid
    assert _derive(build_phmr(5, document_id="other")).entry_uuid != entry.entry_uuid
    assert _derive(phmr, entry_uuid="urn:uuid:1").entry_uuid == "urn:uuid:1"


def test_configured_codes_may_be_full_codes(phmr: bytes) -> None:
    facility = Code.of("22232009", "2.16.840.1.113883.6.96", "hospital")
    assert _derive(phmr, facility_type=facility).healthcare_facility_type_code == facility


def test_fut_citizen_author_uses_the_custodian_institution() -> None:
    document = testdata_path(
        "dk", "fut", "decoded-examples", "POST_transform-to-PHMR.response.PHMR.xml"
    ).read_bytes()
    entry = _derive(document)
    assert entry.unique_id == "1.2.208.184^IdentifierValue1"
    assert entry.creation_time == "20250205121436"
    assert entry.authors[0].person == "^Family1^Given1^Given1"
    assert entry.authors[0].institutions == ("OrgName^^^^^&1.2.208.176.1.1&ISO^^^^OrgIdentifierValue",)
    assert [c.code for c in entry.event_codes] == ["NPU03794", "NPU03011"]


def test_fut_example_with_offset_converts_to_utc() -> None:
    document = testdata_path("dk", "fut", "decoded-examples", "POST_transform-from-PHMR.request.PHMR.xml")
    entry = _derive(document.read_bytes())
    assert (entry.creation_time, entry.service_start_time, entry.service_stop_time) == (
        "20190409125010",
        "20190409101010",
        "20190409103010",
    )
    # author org has no name: the custodian (same SOR) has none either, so XON.1 repeats the SOR code
    assert entry.authors[0].institutions == ("368061000016003^^^^^&1.2.208.176.1.1&ISO^^^^368061000016003",)


def test_qrd_format_code() -> None:
    document = testdata_path(
        "dk", "medcom-cda", "test", "resources", "QRD", "QRD_KOL_Example_1_MaTIS_with_external_references.xml"
    ).read_bytes()
    entry = _derive(document)
    assert entry.format_code is not None and entry.format_code.code == "urn:ad:dk:medcom:qrd-v1.3:full"
    assert entry.type_code is not None and entry.type_code.code == "74465-6"


def test_sparse_header_gives_sparse_entry() -> None:
    document = (
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget><patientRole>'
        b'<id root="1.2.3" extension="p1"/></patientRole></recordTarget></ClinicalDocument>'
    )
    entry = _derive(document)
    assert entry.unique_id is None and entry.type_code is None and entry.format_code is None
    assert entry.patient_id == CX(id="p1", assigning_authority="1.2.3")
    assert entry.creation_time is None and entry.authors == () and entry.source_patient_info == ()


# ------------------------------------------------------------------ cross-check


def test_identical_metadata_gives_no_issues(entry: DocumentEntry) -> None:
    assert cross_check(entry, entry) == []


def test_empty_submitted_fields_are_not_compared(entry: DocumentEntry) -> None:
    submitted = DocumentEntry(entry_uuid="urn:uuid:x", unique_id=entry.unique_id)
    assert cross_check(entry, submitted) == []


@pytest.mark.parametrize(
    ("field", "value", "name"),
    [
        ("patient_id", CX(id="0101010001", assigning_authority="1.2.208.176.1.2"), "patientId"),
        ("unique_id", "1.2.208.184^other", "uniqueId"),
        ("creation_time", "20240301092800", "creationTime"),  # local time submitted as if it were UTC
        ("type_code", Code.of("74465-6", "2.16.840.1.113883.6.1"), "typeCode"),
        ("format_code", Code.of("urn:ad:dk:medcom:phmr-v2.1:full", "1.2.208.184.100.10"), "formatCode"),
    ],
)
def test_mismatch_on_key_fields_is_an_error_with_both_values(
    entry: DocumentEntry, field: str, value: Any, name: str
) -> None:
    issues = cross_check(entry, dataclasses.replace(entry, **{field: value}))
    assert len(issues) == 1
    issue = issues[0]
    assert issue.severity is IssueSeverity.ERROR
    assert issue.expression == (f"DocumentEntry.{name}",)
    assert issue.message_id == f"XDS-CDA-{name}"
    extra = dict(issue.extra)
    assert extra["submitted"] != extra["derived"]
    assert "submitted" in issue.diagnostics and "document says" in issue.diagnostics


@pytest.mark.parametrize(
    ("field", "value", "name"),
    [
        ("class_code", Code.of("002", "1.2.208.184.100.9"), "classCode"),
        ("title", InternationalString.of("Other title"), "title"),
        ("language_code", "en-US", "languageCode"),
        ("service_start_time", "20240101", "serviceStartTime"),
        ("event_codes", (Code.of("ALAL21", "1.2.208.176.2.4"),), "eventCodeList"),
        ("confidentiality_codes", (Code.of("R", "2.16.840.1.113883.5.25"),), "confidentialityCode"),
        ("hash", "0" * 40, "hash"),
        ("size", 1, "size"),
        ("mime_type", "application/pdf", "mimeType"),
        (
            "authors",
            (Author(institutions=("X^^^^^&1.2.208.176.1.1&ISO^^^^999",)),),
            "author.authorInstitution",
        ),
    ],
)
def test_mismatch_on_other_fields_is_a_warning(
    entry: DocumentEntry, field: str, value: Any, name: str
) -> None:
    issues = cross_check(entry, dataclasses.replace(entry, **{field: value}))
    assert [(i.severity, i.message_id) for i in issues] == [(IssueSeverity.WARNING, f"XDS-CDA-{name}")]


def test_time_precision_and_case_differences_are_tolerated(entry: DocumentEntry) -> None:
    assert entry.creation_time is not None and entry.hash is not None
    submitted = dataclasses.replace(
        entry, creation_time=entry.creation_time[:12], hash=entry.hash.upper(), language_code="DA-dk"
    )
    assert cross_check(entry, submitted) == []


def test_all_mismatches_are_reported_together(entry: DocumentEntry) -> None:
    submitted = dataclasses.replace(
        entry, unique_id="x", creation_time="1999", title=InternationalString.of("t")
    )
    assert [i.message_id for i in cross_check(entry, submitted)] == [
        "XDS-CDA-uniqueId",
        "XDS-CDA-creationTime",
        "XDS-CDA-title",
    ]


def test_malformed_submitted_time_is_compared_literally(entry: DocumentEntry) -> None:
    issues = cross_check(entry, dataclasses.replace(entry, creation_time="2024-03-01"))
    assert [i.message_id for i in issues] == ["XDS-CDA-creationTime"]


def test_derive_reuses_parsed_parts(phmr: bytes, entry: DocumentEntry) -> None:
    from profiles.cda import detect_document_type, read_header

    root = parse_xml(phmr)
    reused = derive_document_entry(
        root,
        phmr,
        facility_type="550621000005101",
        practice_setting="408443003",
        detected=detect_document_type(root),
        header=read_header(root),
        repository_unique_id="1.2.3.4",
        home_community_id="urn:oid:1.2.208.176.8.1",
    )
    assert reused == entry


def test_changed_header_changes_the_entry(phmr: bytes, entry: DocumentEntry) -> None:
    def retitle(root: etree._Element) -> None:
        first(root, "h:title").text = "Hjemmemålinger"

    changed = _derive(mutate(phmr, retitle))
    assert changed.title == InternationalString.of("Hjemmemålinger")
    assert changed.format_code == entry.format_code  # the version marker still says 1.3
