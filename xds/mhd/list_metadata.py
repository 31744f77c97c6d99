"""MHD SubmissionSet and Folder Lists read back into XDS metadata (what ITI-65 submits).

The SubmissionSet List (https://profiles.ihe.net/ITI/MHD/StructureDefinition-IHE.MHD.Minimal.SubmissionSet.html)
gives uniqueId (identifier typed ``uniqueId``), entryUUID (identifier typed ``entryUUID``), sourceId
(extension ``ihe-sourceId``), contentTypeCode (``ihe-designationType``), intendedRecipient, submissionTime
(``date``), title, comments (``note``) and the author (``source`` and its ``ihe-authorOrg`` extension).
A Folder List gives uniqueId and entryUUID the same way, codeList (``ihe-designationType``, one or more),
patientId (``subject``), title and comments (``note``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xds.codes import AvailabilityStatus
from xds.hl7v2 import CX
from xds.mhd import fhir_values as fv
from xds.mhd.fhir_values import MhdInputError
from xds.mhd.metadata import MHD_EXT, authors, json_object, referenced, subject, typed_identifier
from xds.model import Folder, InternationalString, SubmissionSet


def _extension(resource: dict[str, Any], name: str) -> dict[str, Any] | None:
    for extension in resource.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == MHD_EXT + name:
            return extension
    return None


def _unique_id(resource: dict[str, Any], where: str) -> str | None:
    unique = typed_identifier(resource, "uniqueId") or next(
        (i for i in resource.get("identifier") or [] if isinstance(i, dict) and i.get("use") == "usual"), None
    )
    if unique is None:
        raise MhdInputError(
            f"{where}.identifier needs the uniqueId (identifier type uniqueId)", f"{where}.identifier"
        )
    return fv.unique_id(unique, f"{where}.identifier")


def _notes(resource: dict[str, Any], where: str) -> InternationalString | None:
    notes = [
        str(n["text"])
        for n in resource.get("note") or []
        if isinstance(n, dict) and isinstance(n.get("text"), str)
    ]
    return fv.localized("\n".join(notes), f"{where}.note") if notes else None


def folder(resource: dict[str, Any], folder_id: str, where: str, patients: Mapping[str, CX]) -> Folder:
    """The Folder of a folder List (see the module docstring)."""
    designations = [
        e.get("valueCodeableConcept")
        for e in resource.get("extension") or []
        if isinstance(e, dict) and e.get("url") == MHD_EXT + "ihe-designationType"
    ]
    return Folder(
        entry_uuid=folder_id,
        availability_status=AvailabilityStatus.APPROVED,
        unique_id=_unique_id(resource, where),
        patient_id=subject(resource.get("subject"), f"{where}.subject", patients),
        codes=fv.codes(designations, f"{where}.extension(ihe-designationType)"),
        title=fv.localized(resource.get("title"), f"{where}.title"),
        comments=_notes(resource, where),
    )


def submission_set(
    resource: dict[str, Any], set_id: str, where: str, patients: Mapping[str, CX], submission_time: str
) -> SubmissionSet:
    """The SubmissionSet of the List (module docstring); ``submission_time`` when ``date`` is absent."""
    unique_id = _unique_id(resource, where)
    source = _extension(resource, "ihe-sourceId")
    source_value = (source or {}).get("valueIdentifier", {}).get("value")
    if not isinstance(source_value, str) or not source_value:
        raise MhdInputError(
            f"{where} needs the extension ihe-sourceId (the source's OID)", f"{where}.extension"
        )
    designation = _extension(resource, "ihe-designationType")
    recipients = [
        e.get("valueReference")
        for e in resource.get("extension") or []
        if isinstance(e, dict) and e.get("url") == MHD_EXT + "ihe-intendedRecipient"
    ]
    source_ref = json_object(resource.get("source"))
    # ihe-authorOrg sits on List.source (MHD 4.x) or, in older bundles, on the List itself
    author_org = _extension(source_ref, "ihe-authorOrg") or _extension(resource, "ihe-authorOrg") or {}
    author_refs = [r for r in (source_ref, author_org.get("valueReference")) if r]
    return SubmissionSet(
        entry_uuid=set_id,
        availability_status=AvailabilityStatus.APPROVED,
        unique_id=unique_id,
        source_id=source_value.removeprefix("urn:oid:"),
        patient_id=subject(resource.get("subject"), f"{where}.subject", patients),
        submission_time=fv.dtm(resource.get("date"), f"{where}.date") or submission_time,
        content_type_code=fv.code((designation or {}).get("valueCodeableConcept"), f"{where}.extension"),
        authors=authors(resource, author_refs, f"{where}.source"),
        intended_recipients=tuple(_recipient(resource, r) for r in recipients if _recipient(resource, r)),
        title=fv.localized(resource.get("title"), f"{where}.title"),
        comments=_notes(resource, where),
    )


def _recipient(resource: dict[str, Any], reference: object) -> str:
    """intendedRecipient as XON (organisation) or ``|XCN`` (person), ITI TF-3 4.2.3.3.5."""
    target = referenced(resource, reference)
    if target.get("resourceType") == "Organization":
        xon = fv.organisation(target)
        return xon.format() if xon else ""
    xcn = fv.person(target)
    return f"|{xcn.format()}" if xcn else ""


__all__ = ["folder", "submission_set"]
