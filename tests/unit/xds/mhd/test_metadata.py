"""An ITI-65 bundle's shape, and its List / DocumentReference read back into XDS metadata."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from hub.core.errors import InvalidInputError
from xds.codes import AssociationType, AvailabilityStatus
from xds.hl7v2 import CX
from xds.mhd import MhdInputError, is_provide_bundle, read_provide_bundle
from xds.mhd.displays import with_displays
from xds.mhd.list_metadata import folder, submission_set
from xds.mhd.metadata import document_entry, relations
from xds.mhd.provide import complete
from xds.model import Code, DocumentEntry, InternationalString

MHD = "https://profiles.ihe.net/ITI/MHD/"
CPR = CX(id="2512484916", assigning_authority="1.2.208.176.1.2")
SUBJECT = {"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": "2512484916"}}


def _entry(full_url: str, resource: dict[str, Any]) -> dict[str, Any]:
    kind = resource["resourceType"]
    return {"fullUrl": full_url, "resource": resource, "request": {"method": "POST", "url": kind}}


def _list(code: str, *items: str) -> dict[str, Any]:
    return {
        "resourceType": "List",
        "code": {"coding": [{"system": MHD + "CodeSystem/MHDlistTypes", "code": code}]},
        "entry": [{"item": {"reference": i}} for i in items],
    }


def _reference(url: str | None = "urn:uuid:b1", **attachment: Any) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "content": [{"attachment": {"url": url, **attachment} if url else attachment}],
    }


def _binary(data: bytes = b"hello") -> dict[str, Any]:
    return {"resourceType": "Binary", "contentType": "text/plain", "data": base64.b64encode(data).decode()}


def _bundle(*entries: dict[str, Any], kind: str = "transaction") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def test_a_provide_bundle_is_recognised_by_profile_or_by_its_submission_set() -> None:
    plain = _bundle(_entry("urn:uuid:p", {"resourceType": "Patient"}))
    assert not is_provide_bundle(plain)
    assert is_provide_bundle(_bundle(_entry("urn:uuid:s", _list("submissionset"))))
    claimed = {**plain, "meta": {"profile": [MHD + "StructureDefinition/IHE.MHD.Minimal.ProvideBundle"]}}
    assert is_provide_bundle(claimed)
    assert not is_provide_bundle({"resourceType": "Patient"})


def test_documents_are_paired_with_their_binaries_in_submission_set_order() -> None:
    bundle = _bundle(
        _entry("urn:uuid:b2", _binary(b"second")),
        _entry("urn:uuid:d2", _reference("urn:uuid:b2")),
        _entry("urn:uuid:s", _list("submissionset", "urn:uuid:d1", "urn:uuid:d2")),
        _entry(
            "urn:uuid:d1", _reference(None, data=base64.b64encode(b"inline").decode(), contentType="text/x")
        ),
    )
    provided = read_provide_bundle(bundle)
    assert provided.submission_set_index == 2 and provided.entry_count == 4
    assert [(d.full_url, d.data, d.binary_index) for d in provided.documents] == [
        ("urn:uuid:d1", b"inline", None),
        ("urn:uuid:d2", b"second", 0),
    ]
    assert provided.documents[0].content_type == "text/x"
    same = _bundle(
        _entry("urn:uuid:s", _list("submissionset", "urn:uuid:d1")),
        _entry("urn:uuid:d1", _reference(contentType="TEXT/plain; charset=UTF-8")),
        _entry("urn:uuid:b1", _binary()),
    )
    assert read_provide_bundle(same).documents[0].content_type == "text/plain"  # parameters and case aside


@pytest.mark.parametrize(
    ("entries", "words"),
    [
        ([], "no entries"),
        ([_entry("urn:uuid:s", _list("other"))], "'submissionset' or 'folder'"),
        (
            [_entry("urn:uuid:s", _list("submissionset")), _entry("urn:uuid:t", _list("submissionset"))],
            "found 2",
        ),
        ([_entry("urn:uuid:s", _list("submissionset"))], "no DocumentReference"),
        (
            [
                _entry("urn:uuid:s", _list("submissionset", "urn:uuid:d1", "urn:uuid:d2")),
                _entry("urn:uuid:d1", _reference()),
                _entry("urn:uuid:d2", _reference()),
                _entry("urn:uuid:b1", _binary()),
            ],
            "content of two DocumentReferences",
        ),
        (
            [
                _entry("urn:uuid:s", _list("submissionset", "urn:uuid:d1", "urn:uuid:d1")),
                _entry("urn:uuid:d1", _reference()),
                _entry("urn:uuid:b1", _binary()),
            ],
            "twice",
        ),
    ],
)
def test_malformed_bundles_name_their_problem(entries: list[dict[str, Any]], words: str) -> None:
    with pytest.raises((MhdInputError, InvalidInputError), match=words):
        read_provide_bundle(_bundle(*entries))


def test_entries_must_be_posts_with_full_urls() -> None:
    entry = _entry("urn:uuid:s", _list("submissionset"))
    with pytest.raises(InvalidInputError, match="POST List"):
        read_provide_bundle(_bundle({**entry, "request": {"method": "PUT", "url": "List/1"}}))
    with pytest.raises(InvalidInputError, match="fullUrl"):
        read_provide_bundle(_bundle({k: v for k, v in entry.items() if k != "fullUrl"}))
    with pytest.raises(InvalidInputError, match="'transaction'"):
        read_provide_bundle(_bundle(entry, kind="batch"))


def _comprehensive() -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.208.184.1.2.3"},
        "contained": [
            {
                "resourceType": "Patient",
                "id": "src",
                "identifier": [{"system": "urn:oid:1.2.208.176.1.2", "value": "2512484916"}],
                "name": [{"family": "Berggren", "given": ["Nancy", "Ann"]}],
                "birthDate": "1948-12-25",
                "gender": "female",
            },
            {"resourceType": "Practitioner", "id": "doc", "name": [{"family": "Hansen", "given": ["Anne"]}]},
            {"resourceType": "Organization", "id": "org", "name": "Aarhus Kommune"},
            {
                "resourceType": "PractitionerRole",
                "id": "role",
                "practitioner": {"reference": "#doc"},
                "organization": {"reference": "#org"},
            },
        ],
        "subject": SUBJECT,
        "type": {"coding": [{"system": "http://loinc.org", "code": "53576-5", "display": "PHMR"}]},
        "category": [{"coding": [{"system": "urn:oid:1.2.208.184.100.9", "code": "001"}]}],
        "securityLabel": [{"coding": [{"system": "urn:oid:2.16.840.1.113883.5.25", "code": "N"}]}],
        "author": [{"reference": "#role"}],
        "authenticator": {"reference": "#doc"},
        "description": "hjemmemålinger",
        "date": "2024-03-02T00:00:00Z",
        "content": [
            {
                "attachment": {
                    "contentType": "text/xml",
                    "language": "da-DK",
                    "title": "Målinger",
                    "creation": "2024-03-01T10:15:00+01:00",
                    "size": 5,
                },
                "format": {"system": "urn:oid:1.2.208.184.100.10", "code": "urn:ad:dk:medcom:phmr:full"},
            }
        ],
        "context": {
            "sourcePatientInfo": {"reference": "#src"},
            "period": {"start": "2024-02-01", "end": "2024-02-29T23:00:00Z"},
            "event": [{"coding": [{"system": "urn:oid:1.2.208.176.2.1", "code": "NPU03804"}]}],
            "facilityType": {"coding": [{"system": "http://snomed.info/sct", "code": "22232009"}]},
            "related": [{"identifier": {"system": "urn:oid:1.2.208.176.43210", "value": "order-7"}}],
        },
        "relatesTo": [{"code": "replaces", "target": {"reference": "DocumentReference/abc"}}],
    }


def test_a_comprehensive_document_reference_becomes_a_document_entry() -> None:
    entry = document_entry(_comprehensive(), "Document01", "DocumentReference", {})
    assert entry.unique_id == "1.2.208.184.1.2.3"
    assert entry.availability_status is AvailabilityStatus.APPROVED
    assert entry.patient_id == CPR and entry.source_patient_id == CPR
    assert entry.source_patient_info == (
        "PID-3|2512484916^^^&1.2.208.176.1.2&ISO",
        "PID-5|Berggren^Nancy^Ann",
        "PID-7|19481225",
        "PID-8|F",
    )
    assert entry.type_code == Code.of("53576-5", "2.16.840.1.113883.6.1", "PHMR")
    assert entry.class_code == Code.of("001", "1.2.208.184.100.9")
    assert entry.creation_time == "20240301091500"  # attachment.creation wins over date, in UTC
    assert (entry.service_start_time, entry.service_stop_time) == ("20240201", "20240229230000")
    assert entry.language_code == "da-DK" and entry.mime_type == "text/xml" and entry.size == 5
    assert entry.title == InternationalString.of("Målinger")
    assert entry.comments == InternationalString.of("hjemmemålinger")
    assert entry.legal_authenticator == "^Hansen^Anne"
    assert [(a.person, a.institutions) for a in entry.authors] == [("^Hansen^Anne", ("Aarhus Kommune",))]
    assert entry.reference_ids == ("order-7^^^&1.2.208.176.43210&ISO",)
    assert [c.code for c in entry.event_codes] == ["NPU03804"]
    [relation] = relations(_comprehensive(), "Document01", "DocumentReference")
    assert (relation.association_type, relation.source, relation.target) == (
        AssociationType.RPLC,
        "Document01",
        "urn:uuid:abc",
    )


def test_a_literal_patient_reference_uses_the_resolved_cpr() -> None:
    resource = {**_comprehensive(), "subject": {"reference": "http://hub/fhir/Patient/p1"}}
    assert document_entry(resource, "D", "DocumentReference", {"p1": CPR}).patient_id == CPR
    with pytest.raises(MhdInputError, match="Patient/p1 has no CPR identifier"):
        document_entry(resource, "D", "DocumentReference", {})


def test_unknown_relations_are_refused() -> None:
    resource = {
        **_comprehensive(),
        "relatesTo": [{"code": "succeeds", "target": {"reference": "DocumentReference/a"}}],
    }
    with pytest.raises(MhdInputError, match="replaces, transforms, appends, signs"):
        relations(resource, "D", "DocumentReference")
    resource["relatesTo"] = [{"code": "appends", "target": {"reference": "Binary/a"}}]
    with pytest.raises(MhdInputError, match="DocumentReference/<id>"):
        relations(resource, "D", "DocumentReference")


def _submission_set(**changes: Any) -> dict[str, Any]:
    resource = {
        **_list("submissionset"),
        "extension": [
            {
                "url": MHD + "StructureDefinition/ihe-sourceId",
                "valueIdentifier": {"value": "urn:oid:1.2.208.176.9"},
            },
            {
                "url": MHD + "StructureDefinition/ihe-intendedRecipient",
                "valueReference": {"reference": "#gp"},
            },
        ],
        "contained": [
            {"resourceType": "Organization", "id": "gp", "name": "Lægehuset"},
            {
                "resourceType": "Practitioner",
                "id": "me",
                "name": [{"family": "Holm"}],
                "telecom": [
                    {"system": "email", "value": "holm@example.dk"},
                    {"system": "phone", "value": "+4512345678"},
                ],
            },
            {"resourceType": "Organization", "id": "home", "name": "Hjemmeplejen"},
        ],
        "source": {
            "reference": "#me",
            "extension": [
                {"url": MHD + "StructureDefinition/ihe-authorOrg", "valueReference": {"reference": "#home"}}
            ],
        },
        "identifier": [
            {
                "type": {
                    "coding": [{"system": MHD + "CodeSystem/IHE.MHD.MHDIdentifierType", "code": "uniqueId"}]
                },
                "value": "urn:oid:2.25.42",
            }
        ],
        "subject": SUBJECT,
        "date": "2024-03-01T12:00:00+01:00",
        "note": [{"text": "first"}, {"text": "second"}],
    }
    resource.update(changes)
    return resource


def test_the_submission_set_list_becomes_a_submission_set() -> None:
    the_set = submission_set(_submission_set(), "SubmissionSet01", "List", {}, "20990101000000")
    assert (the_set.unique_id, the_set.source_id, the_set.patient_id) == ("2.25.42", "1.2.208.176.9", CPR)
    assert the_set.submission_time == "20240301110000"
    assert the_set.intended_recipients == ("Lægehuset",)
    [author] = the_set.authors
    assert author.person == "^Holm" and author.institutions == ("Hjemmeplejen",)
    assert author.telecoms == ("^^Internet^holm@example.dk", "+4512345678")
    assert the_set.comments == InternationalString.of("first\nsecond")
    undated = submission_set(_submission_set(date=None), "S", "List", {}, "20990101000000")
    assert undated.submission_time == "20990101000000"
    with pytest.raises(MhdInputError, match="ihe-sourceId"):
        submission_set(_submission_set(extension=[]), "S", "List", {}, "20990101000000")


def test_a_folder_list_becomes_a_folder() -> None:
    designation = {
        "coding": [{"system": "urn:oid:1.2.208.184.100.9", "code": "001", "display": "Klinisk rapport"}]
    }
    resource = _submission_set(
        extension=[
            {"url": MHD + "StructureDefinition/ihe-designationType", "valueCodeableConcept": designation}
        ],
        title="Mappe",
    )
    made = folder(resource, "Folder01", "List", {})
    assert (made.unique_id, made.patient_id, made.title) == ("2.25.42", CPR, InternationalString.of("Mappe"))
    assert made.codes == (Code.of("001", "1.2.208.184.100.9", "Klinisk rapport"),)


def test_completion_fills_only_what_was_left_out_and_names_known_codes() -> None:
    submitted = DocumentEntry(
        entry_uuid="Document01",
        type_code=Code.of("53576-5", "2.16.840.1.113883.6.1"),
        class_code=Code.of("001", "1.2.208.184.100.9"),
        healthcare_facility_type_code=Code.of("999999", "2.16.840.1.113883.6.96"),
    )
    derived = DocumentEntry(
        entry_uuid="x",
        unique_id="1.2.208.184^abc",
        type_code=Code.of("53576-5", "2.16.840.1.113883.6.1", "Personal health monitoring report"),
        practice_setting_code=Code.of("408443003", "2.16.840.1.113883.6.96", "almen medicin"),
    )
    done = with_displays(complete(submitted, derived), derived)
    assert done.entry_uuid == "Document01" and done.unique_id == "1.2.208.184^abc"
    assert done.practice_setting_code == derived.practice_setting_code
    assert done.type_code is not None and done.type_code.display_text == "Personal health monitoring report"
    assert done.class_code is not None and done.class_code.display_text == "Klinisk rapport"  # DK value set
    assert done.healthcare_facility_type_code is not None
    assert done.healthcare_facility_type_code.display_text is None  # nobody names it: never invented
    assert complete(submitted, None) is submitted
