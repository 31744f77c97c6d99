"""Submission structure, patient, uniqueness and association rules (ITI TF-3 4.1.4, 4.2.2, 4.2.4)."""

from __future__ import annotations

import asyncio
import dataclasses

from tests.unit.xds.registry_rules.conftest import (
    OPTIONS,
    InMemoryRegistry,
    document_only,
    has_member,
    registered,
    relationship,
    rename,
    with_status,
)
from xds.codes import AssociationType, AvailabilityStatus, SubmissionSetStatus
from xds.errors import RegistryError, XdsErrorCode
from xds.hl7v2 import CX
from xds.model import RegistryObjectList
from xds.registry_rules import RegistryState, check_register, gather_registry_state

E = XdsErrorCode


def _check(
    objects: RegistryObjectList, registry: InMemoryRegistry | None = None, *, patients: bool = False
) -> list[RegistryError]:
    registry = registry or InMemoryRegistry()
    state = asyncio.run(gather_registry_state(objects, registry, check_patients=patients))
    return check_register(objects, state, OPTIONS)


def _codes(findings: list[RegistryError]) -> set[XdsErrorCode]:
    return {f.error_code for f in findings}


def test_valid_danish_submission_has_no_findings(dk_objects: RegistryObjectList) -> None:
    assert _check(dk_objects) == []


def test_submission_set_count_and_membership(dk_objects: RegistryObjectList) -> None:
    none = dataclasses.replace(dk_objects, submission_sets=())
    assert any("found 0 SubmissionSets" in f.code_context for f in _check(none))
    two = dataclasses.replace(dk_objects, submission_sets=dk_objects.submission_sets * 2)
    assert any(
        "found 2 SubmissionSets" in f.code_context for f in check_register(two, RegistryState(), OPTIONS)
    )
    orphan = dataclasses.replace(dk_objects, associations=dk_objects.associations[1:])
    findings = _check(orphan)
    assert [f.location for f in findings if f.rule_id == "XDS-SUB-02"] == ["Document01"]


def test_patient_must_match_the_submission_set(dk_objects: RegistryObjectList) -> None:
    other = CX("0101010101", "1.2.208.176.1.2")
    entry = dataclasses.replace(dk_objects.document_entries[0], patient_id=other)
    findings = _check(dataclasses.replace(dk_objects, document_entries=(entry,)))
    assert E.XDS_PATIENT_ID_DOES_NOT_MATCH in _codes(findings)
    assert any(f.location == "Document01" and "0101010101" in f.code_context for f in findings)


def test_unknown_patient_only_with_a_patient_registry(dk_objects: RegistryObjectList) -> None:
    assert _check(dk_objects, patients=False) == []
    findings = _check(dk_objects, patients=True)
    assert _codes(findings) == {E.XDS_UNKNOWN_PATIENT_ID}
    known = InMemoryRegistry(patients=[CX("2512489996", "1.2.208.176.1.2")])
    assert _check(dk_objects, known, patients=True) == []


def test_unique_ids_in_message(dk_objects: RegistryObjectList) -> None:
    folder = dataclasses.replace(dk_objects.folders[0], unique_id=dk_objects.submission_sets[0].unique_id)
    findings = _check(dataclasses.replace(dk_objects, folders=(folder,)))
    assert E.XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE in _codes(findings)


def test_duplicate_entry_uuid_in_message_and_registry(dk_objects: RegistryObjectList) -> None:
    clash = dataclasses.replace(dk_objects.folders[0], entry_uuid="Document01")
    assert any(f.rule_id == "XDS-SUB-03" for f in _check(dataclasses.replace(dk_objects, folders=(clash,))))
    stored = registered(dk_objects)
    again = dataclasses.replace(stored, folders=(), associations=stored.associations[:1])
    findings = _check(again, InMemoryRegistry(stored.objects()))
    assert any("already registered" in f.code_context and f.rule_id == "XDS-SUB-03" for f in findings)


def test_resubmission_needs_identical_hash_and_size(dk_objects: RegistryObjectList) -> None:
    stored = registered(dk_objects)
    registry = InMemoryRegistry(stored.objects())
    second = rename(document_only(dk_objects), 2)
    same_doc = dataclasses.replace(
        second.document_entries[0], unique_id=dk_objects.document_entries[0].unique_id
    )
    assert _check(dataclasses.replace(second, document_entries=(same_doc,)), registry) == []
    changed = dataclasses.replace(same_doc, hash="0" * 40, size=5)
    findings = _check(dataclasses.replace(second, document_entries=(changed,)), registry)
    assert _codes(findings) == {E.XDS_NON_IDENTICAL_HASH, E.XDS_NON_IDENTICAL_SIZE}


def test_package_unique_id_already_registered(dk_objects: RegistryObjectList) -> None:
    registry = InMemoryRegistry(registered(dk_objects).objects())
    second = rename(dk_objects, 2)
    ss = dataclasses.replace(second.submission_sets[0], unique_id=dk_objects.submission_sets[0].unique_id)
    findings = _check(dataclasses.replace(second, submission_sets=(ss,)), registry)
    assert _codes(findings) == {E.XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY}


def test_unresolved_association_ends(dk_objects: RegistryObjectList) -> None:
    extra = has_member(
        "SubmissionSet01",
        "urn:uuid:00000000-0000-4000-8000-00000000dead",
        "AssocX",
        SubmissionSetStatus.REFERENCE,
    )
    findings = _check(dataclasses.replace(dk_objects, associations=(*dk_objects.associations, extra)))
    assert [f.rule_id for f in findings] == ["XDS-ASC-01"]


def test_has_member_shapes_and_submission_set_status(dk_objects: RegistryObjectList) -> None:
    bad = [
        has_member("Document01", "Folder01", "A1"),
        has_member("Folder01", "SubmissionSet01", "A2"),
    ]
    findings = _check(dataclasses.replace(dk_objects, associations=(*dk_objects.associations, *bad)))
    assert sum(f.rule_id == "XDS-ASC-02" for f in findings) == 2
    first = dataclasses.replace(
        dk_objects.associations[0], submission_set_status=SubmissionSetStatus.REFERENCE
    )
    findings = _check(dataclasses.replace(dk_objects, associations=(first, *dk_objects.associations[1:])))
    assert [f.rule_id for f in findings] == ["XDS-ASC-03"]
    missing = dataclasses.replace(dk_objects.associations[0], submission_set_status=None)
    findings = _check(dataclasses.replace(dk_objects, associations=(missing, *dk_objects.associations[1:])))
    assert [f.rule_id for f in findings] == ["XDS-ASC-03"]


def test_reference_to_a_registered_document(dk_objects: RegistryObjectList) -> None:
    stored = registered(document_only(dk_objects))
    registry = InMemoryRegistry(stored.objects())
    second = rename(dk_objects, 2)
    doc_uuid = stored.document_entries[0].entry_uuid
    reference = has_member(
        second.submission_sets[0].entry_uuid, doc_uuid, "Ref", SubmissionSetStatus.REFERENCE
    )
    folder_link = has_member(second.folders[0].entry_uuid, doc_uuid, "FolderLink")
    objects = dataclasses.replace(second, associations=(*second.associations, reference, folder_link))
    assert _check(objects, registry) == []


def test_folder_of_another_patient_nist_12002(dk_objects: RegistryObjectList) -> None:
    other = CX("0101010101", "1.2.208.176.1.2")
    stored = registered(dk_objects)
    folder = dataclasses.replace(stored.folders[0], patient_id=other)
    registry = InMemoryRegistry((*stored.objects(), folder))
    second = rename(document_only(dk_objects), 2)
    link = has_member(folder.entry_uuid, second.document_entries[0].entry_uuid, "Add")
    findings = _check(dataclasses.replace(second, associations=(*second.associations, link)), registry)
    assert E.XDS_PATIENT_ID_DOES_NOT_MATCH in _codes(findings)


def _replacement(
    dk_objects: RegistryObjectList, kind: AssociationType
) -> tuple[RegistryObjectList, RegistryObjectList]:
    stored = registered(document_only(dk_objects))
    second = rename(document_only(dk_objects), 2)
    link = relationship(second.document_entries[0].entry_uuid, stored.document_entries[0].entry_uuid, kind)
    return stored, dataclasses.replace(second, associations=(*second.associations, link))


def test_replace_append_transform_of_an_approved_document(dk_objects: RegistryObjectList) -> None:
    for kind in (AssociationType.RPLC, AssociationType.APND, AssociationType.XFRM, AssociationType.XFRM_RPLC):
        stored, submission = _replacement(dk_objects, kind)
        assert _check(submission, InMemoryRegistry(stored.objects())) == [], kind


def test_append_to_a_deprecated_document_nist_11993(dk_objects: RegistryObjectList) -> None:
    stored, submission = _replacement(dk_objects, AssociationType.APND)
    deprecated = with_status(stored.document_entries[0], AvailabilityStatus.DEPRECATED)
    findings = _check(submission, InMemoryRegistry((*stored.objects(), deprecated)))
    assert _codes(findings) == {E.XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR}


def test_replace_with_another_patient_nist_11998(dk_objects: RegistryObjectList) -> None:
    stored, submission = _replacement(dk_objects, AssociationType.RPLC)
    other = CX("0101010101", "1.2.208.176.1.2")
    moved = RegistryObjectList(
        document_entries=(dataclasses.replace(submission.document_entries[0], patient_id=other),),
        submission_sets=(dataclasses.replace(submission.submission_sets[0], patient_id=other),),
        associations=submission.associations,
    )
    findings = _check(moved, InMemoryRegistry(stored.objects()))
    assert _codes(findings) == {E.XDS_PATIENT_ID_DOES_NOT_MATCH}


def test_relationship_errors(dk_objects: RegistryObjectList) -> None:
    stored, submission = _replacement(dk_objects, AssociationType.RPLC)
    registry = InMemoryRegistry(stored.objects())
    twice = relationship(
        submission.document_entries[0].entry_uuid,
        stored.document_entries[0].entry_uuid,
        AssociationType.RPLC,
        "Rel02",
    )
    findings = _check(
        dataclasses.replace(submission, associations=(*submission.associations, twice)), registry
    )
    assert E.XDS_REPLACE_FAILED in _codes(findings)
    in_message = relationship("Document01", "Document01", AssociationType.RPLC, "Self")
    findings = _check(
        dataclasses.replace(
            document_only(dk_objects), associations=(*document_only(dk_objects).associations, in_message)
        )
    )
    assert any(f.rule_id == "XDS-REL-01" for f in findings)
    from_registered = relationship(
        stored.document_entries[0].entry_uuid,
        submission.document_entries[0].entry_uuid,
        AssociationType.APND,
        "Back",
    )
    findings = _check(
        dataclasses.replace(submission, associations=(*submission.associations[:1], from_registered)),
        registry,
    )
    assert any(f.rule_id == "XDS-ASC-02" for f in findings)
    to_package = relationship(
        submission.document_entries[0].entry_uuid,
        submission.submission_sets[0].entry_uuid,
        AssociationType.XFRM,
        "Pkg",
    )
    findings = _check(
        dataclasses.replace(submission, associations=(*submission.associations[:1], to_package)), registry
    )
    assert any(f.rule_id == "XDS-REL-01" for f in findings)


def test_signs_may_target_a_document_of_the_same_submission(dk_objects: RegistryObjectList) -> None:
    objects = document_only(dk_objects)
    second_doc = dataclasses.replace(
        objects.document_entries[0], entry_uuid="Signature", unique_id="1.2.208.184^sig"
    )
    signs = relationship("Signature", "Document01", AssociationType.SIGNS)
    member = has_member("SubmissionSet01", "Signature", "A9", SubmissionSetStatus.ORIGINAL)
    submission = dataclasses.replace(
        objects,
        document_entries=(*objects.document_entries, second_doc),
        associations=(*objects.associations, member, signs),
    )
    assert _check(submission) == []
