"""Hand-written XDS test submissions (Danish-profile metadata) shared by the XDS unit and integration tests.

Values follow DANISH-STANDARDS.md §2.3 (CPR patient ids, classCode 001, LOINC typeCode 53576-5, MedCom PHMR
formatCode, SNOMED CT facility/practice codes, confidentiality N, da-DK).  Every call gives fresh uniqueIds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid

from xds import (
    CX,
    Association,
    AssociationType,
    Author,
    AvailabilityStatus,
    Code,
    DocumentEntry,
    Folder,
    InternationalString,
    RegistryObjectList,
    SubmissionSet,
    SubmissionSetStatus,
    SubmitObjectsRequest,
)

CPR_OID = "1.2.208.176.1.2"
PATIENT = "2512489996"
OTHER_PATIENT = "0101010101"
CLASS_001 = Code.of("001", "1.2.208.184.100.9", "Klinisk rapport")
CLASS_002 = Code.of("002", "1.2.208.184.100.9", "Summary")
TYPE_PHMR = Code.of("53576-5", "2.16.840.1.113883.6.1", "Personal Health Monitoring Report")
FORMAT_PHMR = Code.of("urn:ad:dk:medcom:phmr-v1.3:full", "1.2.208.184.100.10", "DK PHMR schema")
FACILITY = Code.of("550621000005101", "2.16.840.1.113883.6.96", "hjemmesygeplejeenhed")
PRACTICE = Code.of("408443003", "2.16.840.1.113883.6.96", "almen medicin")
CONFIDENTIAL_N = Code.of("N", "2.16.840.1.113883.5.25", "Normal")
EVENT_ALAL21 = Code.of("ALAL21", "1.2.208.176.2.4", "KOL")
AUTHOR = Author(
    person="^Jensen^Jens^^^^^^^&ISO",
    institutions=("Odense Universitetshospital^^^^^&1.2.208.176.1.1&ISO^^^^8071000016009",),
)
REPOSITORY_ID = "1.2.208.176.43210.8.10.1"


def new_oid() -> str:
    return f"2.25.{uuid.uuid4().int}"


def patient_cx(cpr: str = PATIENT) -> CX:
    return CX(cpr, CPR_OID)


def document_entry(
    entry_id: str = "Document01",
    *,
    cpr: str = PATIENT,
    content: bytes | None = None,
    class_code: Code = CLASS_001,
    creation_time: str = "20240312081500",
    author: Author = AUTHOR,
    unique_id: str | None = None,
) -> DocumentEntry:
    """A complete DocumentEntry; with ``content`` the hash and size (ITI-42) are set from it."""
    return DocumentEntry(
        entry_uuid=entry_id,
        mime_type="text/xml",
        unique_id=unique_id or new_oid(),
        patient_id=patient_cx(cpr),
        source_patient_id=patient_cx(cpr),
        source_patient_info=("PID-5|Berggren^Nancy^Ann^^", "PID-7|19481225", "PID-8|F"),
        class_code=class_code,
        type_code=TYPE_PHMR,
        format_code=FORMAT_PHMR,
        confidentiality_codes=(CONFIDENTIAL_N,),
        healthcare_facility_type_code=FACILITY,
        practice_setting_code=PRACTICE,
        event_codes=(EVENT_ALAL21,),
        language_code="da-DK",
        title=InternationalString.of("Hjemmemonitorering", "da-DK"),
        creation_time=creation_time,
        service_start_time="20240301000000",
        service_stop_time="20240311235959",
        legal_authenticator="^Andersen^Anders^^^^^^^^&ISO",
        authors=(author,),
        hash=hashlib.sha1(content, usedforsecurity=False).hexdigest() if content is not None else None,
        size=len(content) if content is not None else None,
        repository_unique_id=REPOSITORY_ID if content is not None else None,
    )


def submission_set(set_id: str = "SubmissionSet01", *, cpr: str = PATIENT) -> SubmissionSet:
    return SubmissionSet(
        entry_uuid=set_id,
        unique_id=new_oid(),
        source_id="1.2.208.176.43210.8.10.99",
        patient_id=patient_cx(cpr),
        submission_time="20240312090000",
        content_type_code=TYPE_PHMR,
        authors=(AUTHOR,),
    )


def has_member(source: str, target: str, assoc_id: str, *, original: bool = True) -> Association:
    return Association(
        entry_uuid=assoc_id,
        association_type=AssociationType.HAS_MEMBER,
        source=source,
        target=target,
        submission_set_status=(SubmissionSetStatus.ORIGINAL if original else SubmissionSetStatus.REFERENCE),
    )


def relation(kind: AssociationType, source: str, target: str, assoc_id: str) -> Association:
    return Association(entry_uuid=assoc_id, association_type=kind, source=source, target=target)


def status_update(
    target: str,
    new: AvailabilityStatus = AvailabilityStatus.DEPRECATED,
    *,
    original: AvailabilityStatus = AvailabilityStatus.APPROVED,
) -> SubmitObjectsRequest:
    """An ITI-57 UpdateAvailabilityStatus of ``target`` (an entryUUID) in a submission set of its own."""
    sset = submission_set()
    change = Association(
        entry_uuid="StatusChange01",
        association_type=AssociationType.UPDATE_AVAILABILITY_STATUS,
        source=sset.entry_uuid,
        target=target,
        original_status=original,
        new_status=new,
    )
    return SubmitObjectsRequest(RegistryObjectList(submission_sets=(sset,), associations=(change,)))


def folder(folder_id: str = "Folder01", *, cpr: str = PATIENT) -> Folder:
    return Folder(
        entry_uuid=folder_id,
        unique_id=new_oid(),
        patient_id=patient_cx(cpr),
        codes=(EVENT_ALAL21,),
        title=InternationalString.of("KOL-forløb", "da-DK"),
    )


def submission(
    *entries: DocumentEntry,
    cpr: str = PATIENT,
    extra: tuple[Association, ...] = (),
    folders: tuple[Folder, ...] = (),
) -> SubmitObjectsRequest:
    """A SubmissionSet with HasMember associations to every entry and folder, plus ``extra``."""
    chosen = entries or (document_entry(cpr=cpr),)
    sset = submission_set(cpr=cpr)
    members = [
        has_member(sset.entry_uuid, obj.entry_uuid, f"SSMember{i:02d}")
        for i, obj in enumerate((*chosen, *folders), start=1)
    ]
    return SubmitObjectsRequest(
        objects=RegistryObjectList(
            document_entries=tuple(chosen),
            submission_sets=(sset,),
            folders=folders,
            associations=(*members, *extra),
        )
    )


def with_entry(request: SubmitObjectsRequest, **changes: object) -> SubmitObjectsRequest:
    """The request with its first DocumentEntry changed."""
    objects = request.objects
    first = dataclasses.replace(objects.document_entries[0], **changes)  # type: ignore[arg-type]
    entries = (first, *objects.document_entries[1:])
    return dataclasses.replace(request, objects=dataclasses.replace(objects, document_entries=entries))


def cda_document(cpr: str = PATIENT, note: str = "") -> bytes:
    """A tiny well-formed XML document (not a PHMR: processors are not involved)."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3">'
        f'<recordTarget><patientRole><id root="{CPR_OID}" extension="{cpr}"/></patientRole></recordTarget>'
        f"<note>{note or uuid.uuid4()}</note></ClinicalDocument>"
    ).encode()
