"""A document-only submission: the FHIR-native ``$submit-document`` door (issue 4) and any caller that has
a document but no XDS metadata.

The document processors derive the DocumentEntry (for a MedCom PHMR: from the CDA header, DK XDS metadata
profile §2.3); the hub adds a SubmissionSet (uniqueId ``2.25.<uuid>``, sourceId = this repository,
contentTypeCode = the entry's typeCode, authors of the entry) and the HasMember association, then runs
exactly the ITI-41 pipeline (IHE ITI TF-2b 3.41.4.1.3) - one transaction, same rules, same audit.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

from security import AuditAction
from xds.codes import AssociationType, SubmissionSetStatus
from xds.dtm import dtm_from_datetime
from xds.errors import RegistryError, XdsError, XdsErrorCode
from xds.messages import ProvideAndRegisterRequest
from xds.model import Association, DocumentEntry, RegistryObjectList, SubmissionSet, SubmitObjectsRequest
from xds.mtom import MimePart
from xds.services.processing import SubmittedDocument
from xds.services.provide_and_register import provide_and_register
from xds.services.runtime import MAX_PROCESSED_BYTES, Caller, XdsRuntime
from xds.services.submission import ProcessedItem, SubmissionResult

DOCUMENT_ID = "Document01"
SUBMISSION_SET_ID = "SubmissionSet01"


def new_oid() -> str:
    """A fresh OID under the UUID arc ``2.25`` (ITI TF-3 4.2.3.1.4: uniqueIds are OIDs)."""
    return f"2.25.{uuid.uuid4().int}"


def submission_for(entry: DocumentEntry, source_id: str, submission_time: str) -> RegistryObjectList:
    """``entry`` (given the symbolic id) with a SubmissionSet and its HasMember association."""
    document = dataclasses.replace(entry, entry_uuid=DOCUMENT_ID, logical_id=None, version=None)
    submission_set = SubmissionSet(
        entry_uuid=SUBMISSION_SET_ID,
        unique_id=new_oid(),
        source_id=source_id,
        patient_id=entry.patient_id,
        submission_time=submission_time,
        content_type_code=entry.type_code,
        authors=entry.authors,
        title=entry.title,
    )
    membership = Association(
        entry_uuid="Association01",
        association_type=AssociationType.HAS_MEMBER,
        source=SUBMISSION_SET_ID,
        target=DOCUMENT_ID,
        submission_set_status=SubmissionSetStatus.ORIGINAL,
    )
    return RegistryObjectList(
        document_entries=(document,), submission_sets=(submission_set,), associations=(membership,)
    )


async def submit_document(
    rt: XdsRuntime,
    caller: Caller,
    data: bytes,
    mime_type: str,
    *,
    entry: DocumentEntry | None = None,
) -> SubmissionResult:
    """Process, register and store one document; ``entry`` (submitted metadata) is cross-checked by the
    processor when given, and derived by it when not."""
    document = SubmittedDocument(DOCUMENT_ID, mime_type, data, entry)
    outcome = rt.processors.process(document) if len(data) <= MAX_PROCESSED_BYTES else None
    items: list[ProcessedItem] = []
    findings: list[RegistryError] = []
    if outcome is not None:
        processor, processed = outcome
        items.append(ProcessedItem(DOCUMENT_ID, processor, processed))
        findings.extend((*processed.errors, *processed.warnings))
        if processed.errors:
            raise XdsError("the document was rejected", findings)
        entry = entry or processed.derived_entry
    if entry is None:
        raise XdsError.single(
            XdsErrorCode.XDS_MISSING_DOCUMENT_METADATA,
            f"no metadata was submitted and no processor can derive it from this {mime_type} document "
            "(metadata is derived from MedCom CDA documents: PHMR, QRD, QFDD, APD); send other documents "
            "with their metadata (ITI-41, MHD ITI-65)",
            DOCUMENT_ID,
        )
    entry = dataclasses.replace(entry, mime_type=entry.mime_type or mime_type)
    now = dtm_from_datetime(datetime.now(UTC))
    objects = submission_for(entry, rt.settings.xds.repository_unique_id, now)
    part = MimePart.from_bytes(None, data, mime_type)
    try:
        request = ProvideAndRegisterRequest(SubmitObjectsRequest(objects=objects), {DOCUMENT_ID: part})
        return await provide_and_register(
            rt, caller, request, processed_already=(items, findings), action=AuditAction.ITI_41
        )
    finally:
        part.close()
