"""The FHIR R4 face of an XDS DocumentEntry: a DocumentReference built from the registry row, never stored.

ARCHITECTURE.md: one native registry, MHD is a view.  Mapping after IHE MHD (ITI TF-3 Appendix Z.9 /
https://profiles.ihe.net/ITI/MHD/, DocumentReference) and MedCom's XDS-metadata-in-FHIR profile
``medcom-contained-documentreference`` (DANISH-STANDARDS.md §4.2, §4.4):

============================  ==========================================================================
DocumentReference             DocumentEntry
============================  ==========================================================================
id                            entryUUID without ``urn:uuid:``
masterIdentifier              uniqueId: an OID as ``urn:ietf:rfc:3986|urn:oid:<OID>``, a DK
                              ``root^extension`` as ``urn:oid:<root>|<extension>``
identifier (official)         entryUUID (``urn:ietf:rfc:3986``)
status                        availabilityStatus: Approved -> ``current``, Deprecated -> ``superseded``
type / category               typeCode / classCode
subject                       patientId (CPR as ``urn:oid:1.2.208.176.1.2`` identifier, type Patient)
date                          creationTime (an instant, when the DTM has seconds)
author                        authorInstitution (SOR identifier) and authorPerson (display)
authenticator                 legalAuthenticator (display)
description                   comments
securityLabel                 confidentialityCode
content.attachment            mimeType, languageCode, size, hash (base64 SHA-1), title, creationTime
content.format                formatCode
context.event / .period       eventCodeList / serviceStartTime..serviceStopTime
context.facilityType          healthcareFacilityTypeCode
context.practiceSetting       practiceSettingCode
context.sourcePatientInfo     sourcePatientId (identifier only)
context.related               referenceIdList (CXi: ``value^^^&root&ISO`` as an identifier)
relatesTo                     RPLC / XFRM / APND / XFRM_RPLC / signs associations from this entry
============================  ==========================================================================

Code systems given as OIDs become ``urn:oid:`` URIs except the few with an HL7 canonical URL (LOINC, SNOMED
CT, v3 Confidentiality); :func:`code_system_oid` is the way back for searches.  Pure functions.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any

from hub.core.instants import fhir_instant
from xds.codes import AssociationType, AvailabilityStatus
from xds.dtm import is_dtm
from xds.hl7v2 import CX, XCN, XON, Hl7FormatError
from xds.model import Author, Code, DocumentEntry

UUID_PREFIX = "urn:uuid:"
OID_PREFIX = "urn:oid:"
URI_SYSTEM = "urn:ietf:rfc:3986"
CPR_OID = "1.2.208.176.1.2"
SOR_OID = "1.2.208.176.1.1"
# OID <-> canonical URL for the code systems FHIR names by URL (https://hl7.org/fhir/R4/terminologies-systems.html)
_CANONICAL = {
    "2.16.840.1.113883.6.1": "http://loinc.org",
    "2.16.840.1.113883.6.96": "http://snomed.info/sct",
    "2.16.840.1.113883.5.25": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
}
_OID_OF_CANONICAL = {url: oid for oid, url in _CANONICAL.items()}
_STATUS = {
    AvailabilityStatus.APPROVED: "current",
    AvailabilityStatus.DEPRECATED: "superseded",
}
# DocumentReference.relatesTo.code for an association from this entry (MHD: "replaces", "transforms", ...)
RELATION_CODES = {
    AssociationType.RPLC: "replaces",
    AssociationType.XFRM_RPLC: "replaces",
    AssociationType.XFRM: "transforms",
    AssociationType.APND: "appends",
    AssociationType.SIGNS: "signs",
}


def resource_id(entry_uuid: str) -> str:
    """The DocumentReference id of an entryUUID (``urn:uuid:`` dropped)."""
    return entry_uuid[len(UUID_PREFIX) :] if entry_uuid.lower().startswith(UUID_PREFIX) else entry_uuid


def entry_uuid_of(resource_id_: str) -> str:
    """The entryUUID a DocumentReference id names."""
    return f"{UUID_PREFIX}{resource_id_}"


def code_system_url(oid: str | None) -> str | None:
    """The FHIR system of a coding scheme OID (``urn:oid:`` unless FHIR has a canonical URL)."""
    if not oid:
        return None
    if oid.startswith(("http://", "https://", "urn:")):
        return oid
    return _CANONICAL.get(oid, f"{OID_PREFIX}{oid}")


def code_system_oid(system: str) -> str:
    """The coding scheme OID behind a FHIR system (inverse of :func:`code_system_url`)."""
    if system in _OID_OF_CANONICAL:
        return _OID_OF_CANONICAL[system]
    return system[len(OID_PREFIX) :] if system.startswith(OID_PREFIX) else system


def _coding(code: Code) -> dict[str, Any]:
    coding: dict[str, Any] = {}
    system = code_system_url(code.scheme)
    if system:
        coding["system"] = system
    coding["code"] = code.code
    if code.display_text:
        coding["display"] = code.display_text
    return coding


def concept(code: Code) -> dict[str, Any]:
    """A CodeableConcept of one XDS code."""
    out: dict[str, Any] = {"coding": [_coding(code)]}
    if code.display_text:
        out["text"] = code.display_text
    return out


def fhir_time(dtm: str | None) -> str | None:
    """An XDS DTM (UTC) as a FHIR dateTime (``Z``), keeping its precision; None when it is not a DTM."""
    if not dtm or not is_dtm(dtm):
        return None
    date = "-".join(part for part in (dtm[0:4], dtm[4:6], dtm[6:8]) if part)
    if len(dtm) <= 8:
        return date
    hours, minutes, seconds = dtm[8:10], dtm[10:12] or "00", dtm[12:14] or "00"
    return f"{date}T{hours}:{minutes}:{seconds}Z"


def master_identifier(unique_id: str) -> dict[str, str]:
    """``masterIdentifier`` of a uniqueId (see the module table)."""
    root, sep, extension = unique_id.partition("^")
    if sep and extension and _is_oid(root):
        return {"system": f"{OID_PREFIX}{root}", "value": extension}
    if _is_oid(unique_id):
        return {"system": URI_SYSTEM, "value": f"{OID_PREFIX}{unique_id}"}
    return {"system": URI_SYSTEM, "value": unique_id}


def unique_id_of(system: str | None, value: str) -> str:
    """The uniqueId a ``masterIdentifier`` (or an ``identifier`` search token) names."""
    if system and system.startswith(OID_PREFIX) and system != URI_SYSTEM:
        return f"{system[len(OID_PREFIX) :]}^{value}"
    if value.startswith(OID_PREFIX):
        return value[len(OID_PREFIX) :]
    return value


def _is_oid(text: str) -> bool:
    parts = text.split(".")
    return len(parts) > 1 and all(p.isdigit() for p in parts)


def patient_reference(patient: CX) -> dict[str, Any]:
    """A Reference to the patient by identifier (CPR, or the CX assigning authority)."""
    return {
        "type": "Patient",
        "identifier": {"system": f"{OID_PREFIX}{patient.assigning_authority}", "value": patient.id},
    }


def person_name(xcn: str) -> str | None:
    """The display name of an XCN (prefix, given, further given, family; else its id)."""
    try:
        person = XCN.parse(xcn)
    except Hl7FormatError:
        return xcn or None
    names = [person.prefix, person.given, person.further_given.replace("&", " "), person.family]
    text = " ".join(n for n in names if n)
    return text or person.id or None


def _authors(authors: Iterable[Author]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for author in authors:
        for institution in author.institutions:
            try:
                xon = XON.parse(institution)
            except Hl7FormatError:
                out.append({"type": "Organization", "display": institution})
                continue
            ref: dict[str, Any] = {"type": "Organization"}
            if xon.identifier:
                system = xon.assigning_authority or SOR_OID
                ref["identifier"] = {"system": f"{OID_PREFIX}{system}", "value": xon.identifier}
            if xon.name:
                ref["display"] = xon.name
            out.append(ref)
        name = person_name(author.person) if author.person else None
        if name:
            out.append({"type": "Practitioner", "display": name})
    return out


def _hash(sha1_hex: str) -> str | None:
    try:
        return base64.b64encode(bytes.fromhex(sha1_hex)).decode("ascii")
    except (ValueError, binascii.Error):
        return None


def _related(reference_ids: Iterable[str]) -> list[dict[str, Any]]:
    related = []
    for value in reference_ids:
        try:
            cx = CX.parse(value)
        except Hl7FormatError:
            related.append({"identifier": {"value": value}})
            continue
        identifier: dict[str, str] = {"value": cx.id}
        if cx.assigning_authority:
            identifier["system"] = f"{OID_PREFIX}{cx.assigning_authority}"
        related.append({"identifier": identifier})
    return related


def _attachment(entry: DocumentEntry) -> dict[str, Any]:
    attachment: dict[str, Any] = {}
    if entry.mime_type:
        attachment["contentType"] = entry.mime_type
    if entry.language_code:
        attachment["language"] = entry.language_code
    if entry.size is not None:
        attachment["size"] = entry.size
    digest = _hash(entry.hash) if entry.hash else None
    if digest:
        attachment["hash"] = digest
    if entry.title and entry.title.text:
        attachment["title"] = entry.title.text
    creation = fhir_time(entry.creation_time)
    if creation:
        attachment["creation"] = creation
    return attachment


def _context(entry: DocumentEntry) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if entry.event_codes:
        context["event"] = [concept(c) for c in entry.event_codes]
    period = {
        k: v
        for k, v in (
            ("start", fhir_time(entry.service_start_time)),
            ("end", fhir_time(entry.service_stop_time)),
        )
        if v
    }
    if period:
        context["period"] = period
    if entry.healthcare_facility_type_code:
        context["facilityType"] = concept(entry.healthcare_facility_type_code)
    if entry.practice_setting_code:
        context["practiceSetting"] = concept(entry.practice_setting_code)
    if entry.source_patient_id:
        context["sourcePatientInfo"] = patient_reference(entry.source_patient_id)
    if entry.reference_ids:
        context["related"] = _related(entry.reference_ids)
    return context


def document_reference(
    entry: DocumentEntry,
    relations: Iterable[tuple[AssociationType, str]] = (),
    *,
    base_url: str | None = None,
    last_updated_us: int | None = None,
) -> dict[str, Any]:
    """The DocumentReference of ``entry``; ``relations`` are (association type, target entryUUID) pairs
    of associations whose source is this entry.  With the FHIR ``base_url``, ``content.attachment.url`` names
    where MHD ITI-68 retrieves the document: ``[base]/Binary/<id>``; ``last_updated_us`` (when the registry
    entry last changed) becomes ``meta.lastUpdated``."""
    meta = {"versionId": entry.version or "1"}
    if last_updated_us is not None:
        meta["lastUpdated"] = fhir_instant(last_updated_us)
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": resource_id(entry.entry_uuid),
        "meta": meta,
    }
    if entry.unique_id:
        resource["masterIdentifier"] = master_identifier(entry.unique_id)
    resource["identifier"] = [{"use": "official", "system": URI_SYSTEM, "value": entry.entry_uuid}]
    resource["status"] = _STATUS.get(entry.availability_status or AvailabilityStatus.APPROVED, "current")
    if entry.type_code:
        resource["type"] = concept(entry.type_code)
    if entry.class_code:
        resource["category"] = [concept(entry.class_code)]
    if entry.patient_id:
        resource["subject"] = patient_reference(entry.patient_id)
    creation = fhir_time(entry.creation_time)
    if creation and len(creation) == len("2024-01-01T00:00:00Z"):
        resource["date"] = creation  # an instant needs seconds and a zone
    authors = _authors(entry.authors)
    if authors:
        resource["author"] = authors
    if entry.legal_authenticator:
        name = person_name(entry.legal_authenticator)
        if name:
            resource["authenticator"] = {"type": "Practitioner", "display": name}
    relates = [
        {"code": RELATION_CODES[kind], "target": {"reference": f"DocumentReference/{resource_id(target)}"}}
        for kind, target in relations
        if kind in RELATION_CODES
    ]
    if relates:
        resource["relatesTo"] = relates
    if entry.comments and entry.comments.text:
        resource["description"] = entry.comments.text
    if entry.confidentiality_codes:
        resource["securityLabel"] = [concept(c) for c in entry.confidentiality_codes]
    attachment = _attachment(entry)
    if base_url is not None:
        attachment["url"] = f"{base_url}/Binary/{resource['id']}"
    content: dict[str, Any] = {"attachment": attachment}
    if entry.format_code:
        content["format"] = _coding(entry.format_code)
    resource["content"] = [content]
    context = _context(entry)
    if context:
        resource["context"] = context
    return resource


__all__ = [
    "CPR_OID",
    "OID_PREFIX",
    "RELATION_CODES",
    "URI_SYSTEM",
    "code_system_oid",
    "code_system_url",
    "concept",
    "document_reference",
    "entry_uuid_of",
    "fhir_time",
    "master_identifier",
    "patient_reference",
    "person_name",
    "resource_id",
    "unique_id_of",
]
