"""MHD ITI-65 Provide Document Bundle, Document Recipient grouped with the hub's own XDS registry and
repository ("XDS on FHIR": https://profiles.ihe.net/ITI/MHD/ITI-65.html).

The bundle is read (:mod:`xds.mhd.bundle`), its List and DocumentReferences become a SubmissionSet, its
DocumentEntries and their HasMember / relatesTo associations (:mod:`xds.mhd.metadata`), and the documents
run exactly the ITI-41 pipeline (:func:`xds.services.provide_and_register.provide_and_register`): the
document processors (PHMR: CDA validation, DK rules, Observations), the registry rules, and ONE transaction
for bytes, registry objects, Observations and the audit record (action ITI-65).  Nothing is stored when
anything fails; the answer is then a 4xx OperationOutcome.

Minimal metadata is completed from the document: for a document a processor understands (a MedCom PHMR),
every attribute the DocumentReference leaves out (facility type, practice setting, event codes, authors ...)
is taken from the metadata derived from its header, and the attributes it does give are cross-checked
against the header (mismatches of patient, uniqueId, creationTime, type or format are errors).  A
SubmissionSet without ``ihe-designationType`` or author gets the first document's typeCode and authors.
A DocumentReference without an OID-identified source patient gets its patientId as sourcePatientId.
Codings without ``display`` get the name a known source gives the code (:mod:`xds.mhd.displays`).

The answer is the transaction-response Bundle of ``IHE.MHD.ProvideDocumentBundleResponse``: one entry per
request entry, in order, ``201 Created`` with the location of the stored view (``List/<id>``,
``DocumentReference/<id>``, ``Binary/<id>``: the ITI-68 address of the document), and ``200 OK`` with
``Patient/<id>`` for a Patient entry (read, never created: :mod:`xds.mhd.bundle`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from hub.core.errors import GoneError, NotFoundError
from hub.core.instants import fhir_instant, now_us, to_datetime
from hub.core.issues import operation_outcome
from hub.fhir import FhirService, RequestContext, own_key, read
from security import Action, AuditAction
from xds.codes import AssociationType, SubmissionSetStatus
from xds.dtm import dtm_from_datetime
from xds.hl7v2 import CX
from xds.messages import ProvideAndRegisterRequest
from xds.mhd.bundle import ProvideBundle, read_provide_bundle
from xds.mhd.displays import with_displays
from xds.mhd.fhir_values import MhdInputError
from xds.mhd.list_metadata import folder, submission_set
from xds.mhd.metadata import document_entry, entry_uuid, literal_patient, relations
from xds.model import Association, DocumentEntry, Folder, RegistryObjectList, SubmitObjectsRequest
from xds.mtom import MimePart
from xds.phmr.document_reference import CPR_OID, UUID_PREFIX, resource_id
from xds.services.provide_and_register import provide_and_register, run_processors
from xds.services.runtime import Caller, XdsRuntime
from xds.services.submission import SubmissionResult

PatientResolver = Callable[[str], Awaitable[CX | None]]
RESPONSE_PROFILE = (
    "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.ProvideDocumentBundleResponse"
)
SUBMISSION_SET_ID = "SubmissionSet01"
DEFAULT_MIME_TYPE = "application/octet-stream"
# attributes a processor's derived entry fills when the DocumentReference leaves them out
_COMPLETED = (
    "unique_id",
    "patient_id",
    "source_patient_id",
    "source_patient_info",
    "class_code",
    "type_code",
    "format_code",
    "confidentiality_codes",
    "healthcare_facility_type_code",
    "practice_setting_code",
    "event_codes",
    "language_code",
    "title",
    "creation_time",
    "service_start_time",
    "service_stop_time",
    "legal_authenticator",
    "authors",
)


@dataclasses.dataclass(frozen=True, slots=True)
class ProvideOutcome:
    """The stored submission and the ids of the request's entries (for the response)."""

    result: SubmissionResult
    locations: tuple[str, ...]  # "List/<id>", "DocumentReference/<id>", "Binary/<id>" per request entry
    last_modified: str
    read_index: int | None = None  # the Patient entry, read (200), not created (201)


def patient_resolver(fhir: FhirService, ctx: RequestContext) -> PatientResolver:
    """``Patient/<id>`` -> the CX of the hub Patient's CPR identifier, read with the caller's own rights
    (an unknown or deleted Patient, or one without a CPR, resolves to None)."""

    async def resolve(patient_id: str) -> CX | None:
        try:
            stored = await read(fhir, ctx, "Patient", patient_id)
        except (NotFoundError, GoneError):
            return None
        cpr = own_key(orjson.loads(stored.data)) if stored.data else None  # the hub's own patient-key rule
        return CX(id=cpr, assigning_authority=CPR_OID) if cpr is not None else None

    return resolve


def complete(entry: DocumentEntry, derived: DocumentEntry | None) -> DocumentEntry:
    """``entry`` with every attribute it leaves empty taken from ``derived`` (see the module docstring)."""
    if derived is None:
        return entry
    missing = {
        name: getattr(derived, name)
        for name in _COMPLETED
        if getattr(entry, name) in (None, (), "") and getattr(derived, name) not in (None, (), "")
    }
    return dataclasses.replace(entry, **missing) if missing else entry


async def _patients(provided: ProvideBundle, resolve: PatientResolver) -> dict[str, CX]:
    """The CX of every ``Patient/<id>`` the bundle names, and of its Patient read under its ``fullUrl``."""
    found: dict[str, CX] = {}
    read = provided.patient
    if read is not None:
        cx = await resolve(read.patient_id)
        if cx is None:
            raise MhdInputError(
                f"Bundle.entry[{read.index}] reads Patient/{read.patient_id}, which this hub does not know "
                "or which has no CPR identifier",
                f"Bundle.entry[{read.index}].request.url",
            )
        stated = own_key(read.resource)
        if stated is not None and stated != cx.id:
            raise MhdInputError(
                f"Bundle.entry[{read.index}].resource names the CPR identifier of another patient than "
                f"Patient/{read.patient_id}",
                f"Bundle.entry[{read.index}].resource.identifier",
            )
        found[read.full_url] = cx
    subjects = [
        provided.submission_set.get("subject"),
        *(f.resource.get("subject") for f in provided.folders),
    ]
    for document in provided.documents:
        context = document.resource.get("context")
        source = context.get("sourcePatientInfo") if isinstance(context, dict) else None
        subjects.extend((document.resource.get("subject"), source))
    bundled = read.full_url if read is not None else None
    wanted = {
        literal_patient(s) for s in subjects if not (isinstance(s, dict) and s.get("reference") == bundled)
    }
    for literal in sorted(w for w in wanted if w is not None):
        cx = await resolve(literal)
        if cx is not None:
            found[literal] = cx
    return found


async def provide_document_bundle(
    rt: XdsRuntime, caller: Caller, bundle: dict[str, Any], resolve_patient: PatientResolver
) -> ProvideOutcome:
    """Register and store an ITI-65 bundle; any problem raises before anything is stored."""
    provided = read_provide_bundle(bundle)
    # may the caller submit at all? (before patient lookups and document processing; per patient later)
    rt.authorize(caller, Action.SUBMIT_DOCUMENTS, AuditAction.ITI_65)
    patients = await _patients(provided, resolve_patient)
    now = now_us()
    set_where = f"Bundle.entry[{provided.submission_set_index}].resource"
    set_id = entry_uuid(provided.submission_set, set_where) or SUBMISSION_SET_ID
    entries: list[DocumentEntry] = []
    associations: list[Association] = []
    parts: dict[str, MimePart] = {}
    try:
        for number, document in enumerate(provided.documents, 1):
            where = f"Bundle.entry[{document.index}].resource"
            entry_id = entry_uuid(document.resource, where) or f"Document{number:02d}"
            entry = document_entry(document.resource, entry_id, where, patients)
            if entry.mime_type is None and document.content_type:
                entry = dataclasses.replace(entry, mime_type=document.content_type)
            if entry.source_patient_id is None:  # the source knows the patient by the affinity domain's id
                entry = dataclasses.replace(entry, source_patient_id=entry.patient_id)
            entries.append(entry)
            associations.append(
                Association(
                    entry_uuid=f"HasMember{number:02d}",
                    association_type=AssociationType.HAS_MEMBER,
                    source=set_id,
                    target=entry_id,
                    submission_set_status=SubmissionSetStatus.ORIGINAL,
                )
            )
            associations.extend(relations(document.resource, entry_id, where))
            parts[entry_id] = MimePart.from_bytes(None, document.data, entry.mime_type or DEFAULT_MIME_TYPE)
        items, findings = run_processors(
            rt.processors, RegistryObjectList(document_entries=tuple(entries)), parts
        )
        derived = {item.document_id: item.processed.derived_entry for item in items}
        entries = [
            with_displays(complete(e, derived.get(e.entry_uuid)), derived.get(e.entry_uuid)) for e in entries
        ]
        the_set = submission_set(
            provided.submission_set, set_id, set_where, patients, dtm_from_datetime(to_datetime(now))
        )
        the_set = dataclasses.replace(
            the_set,
            content_type_code=the_set.content_type_code or entries[0].type_code,
            authors=the_set.authors or entries[0].authors,
        )
        document_ids = {d.full_url: e.entry_uuid for d, e in zip(provided.documents, entries, strict=True)}
        folders, links = _folders(provided, set_id, document_ids, patients)
        objects = RegistryObjectList(
            document_entries=tuple(entries),
            submission_sets=(the_set,),
            folders=tuple(folders),
            associations=(*associations, *links),
        )
        request = ProvideAndRegisterRequest(SubmitObjectsRequest(objects=objects), parts)
        result = await provide_and_register(
            rt, caller, request, processed_already=(items, findings), action=AuditAction.ITI_65
        )
    finally:
        for part in parts.values():
            part.close()
    folder_ids = tuple(f.entry_uuid for f in folders)
    return ProvideOutcome(
        result,
        _locations(provided, set_id, entries, folder_ids, result),
        fhir_instant(now),
        provided.patient.index if provided.patient is not None else None,
    )


def _folders(
    provided: ProvideBundle, set_id: str, document_ids: dict[str, str], patients: dict[str, CX]
) -> tuple[list[Folder], list[Association]]:
    """The bundle's new Folders, each a HasMember of the SubmissionSet, with a HasMember to each of its
    documents (each such association itself a member of the SubmissionSet, ITI TF-3 4.1.9)."""
    folders: list[Folder] = []
    links: list[Association] = []
    for number, listed in enumerate(provided.folders, 1):
        where = f"Bundle.entry[{listed.index}].resource"
        folder_id = entry_uuid(listed.resource, where) or f"Folder{number:02d}"
        folders.append(folder(listed.resource, folder_id, where, patients))
        links.append(_member(f"Folder{number:02d}InSet", set_id, folder_id))
        for position, member in enumerate(listed.members, 1):
            target = document_ids.get(member) or UUID_PREFIX + member.removeprefix("DocumentReference/")
            link_id = f"Folder{number:02d}Member{position:02d}"
            links.append(_member(link_id, folder_id, target))
            links.append(_member(f"{link_id}InSet", set_id, link_id))
    return folders, links


def _member(link_id: str, source: str, target: str) -> Association:
    return Association(
        entry_uuid=link_id, association_type=AssociationType.HAS_MEMBER, source=source, target=target
    )


def _locations(
    provided: ProvideBundle,
    set_id: str,
    entries: list[DocumentEntry],
    folder_ids: tuple[str, ...],
    result: SubmissionResult,
) -> tuple[str, ...]:
    def final(symbolic: str) -> str:
        return resource_id(result.mapping.get(symbolic, symbolic))

    locations = [""] * provided.entry_count
    locations[provided.submission_set_index] = f"List/{final(set_id)}"
    for document, entry in zip(provided.documents, entries, strict=True):
        locations[document.index] = f"DocumentReference/{final(entry.entry_uuid)}"
        if document.binary_index is not None:
            locations[document.binary_index] = f"Binary/{final(entry.entry_uuid)}"
    for listed, folder_id in zip(provided.folders, folder_ids, strict=True):
        locations[listed.index] = f"List/{final(folder_id)}"
    if provided.patient is not None:
        locations[provided.patient.index] = f"Patient/{provided.patient.patient_id}"
    return tuple(locations)


def response_bundle(outcome: ProvideOutcome) -> dict[str, Any]:
    """The ITI-65 response (``IHE.MHD.ProvideDocumentBundleResponse``); registry warnings ride on entry 1."""
    entries: list[dict[str, Any]] = [
        {
            "response": {
                "status": "200 OK" if index == outcome.read_index else "201 Created",
                "location": location,
                "lastModified": outcome.last_modified,
            }
        }
        for index, location in enumerate(outcome.locations)
    ]
    warnings = [w.to_issue() for w in outcome.result.warnings]
    if warnings and entries:
        entries[0]["response"]["outcome"] = operation_outcome(warnings)
    return {
        "resourceType": "Bundle",
        "meta": {"profile": [RESPONSE_PROFILE]},
        "type": "transaction-response",
        "entry": entries,
    }


__all__ = [
    "PatientResolver",
    "ProvideOutcome",
    "complete",
    "patient_resolver",
    "provide_document_bundle",
    "response_bundle",
]
