"""The FHIR face of an XDS SubmissionSet or Folder: a ``List`` built from the registry, never stored (ITI-66).

The inverse of :mod:`xds.mhd.metadata` (what ITI-65 reads): ``id`` = entryUUID without ``urn:uuid:``,
``code`` ``submissionset`` / ``folder`` (MHDlistTypes), ``identifier`` entryUUID (official, typed
``entryUUID``) and uniqueId (usual, typed ``uniqueId``), ``status`` current (Approved) or retired
(Deprecated), ``mode`` working, ``subject`` the CPR patient, ``date`` submissionTime / lastUpdateTime,
``title``, ``note`` (comments), the extensions ``ihe-sourceId`` and ``ihe-designationType``
(contentTypeCode; a Folder's codeList), ``source`` the SubmissionSet's author person (display), and one
``entry`` per member the reader may see: ``DocumentReference/<id>`` or, for a SubmissionSet, ``List/<id>``
of a Folder it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.core.instants import fhir_instant
from xds.codes import AvailabilityStatus
from xds.mhd.bundle import LIST_TYPES
from xds.mhd.metadata import IDENTIFIER_TYPES, MHD_EXT
from xds.model import Code, Folder, InternationalString, SubmissionSet
from xds.phmr.document_reference import (
    OID_PREFIX,
    URI_SYSTEM,
    concept,
    fhir_time,
    master_identifier,
    patient_reference,
    person_name,
    resource_id,
)

RESOURCE = "List"


def _identifiers(entry_uuid: str, unique_id: str | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        {
            "use": "official",
            "type": {"coding": [{"system": IDENTIFIER_TYPES, "code": "entryUUID"}]},
            "system": URI_SYSTEM,
            "value": entry_uuid,
        }
    ]
    if unique_id:
        typed = {"use": "usual", "type": {"coding": [{"system": IDENTIFIER_TYPES, "code": "uniqueId"}]}}
        found.append({**typed, **master_identifier(unique_id)})
    return found


def _designations(codes: Sequence[Code]) -> list[dict[str, Any]]:
    return [{"url": MHD_EXT + "ihe-designationType", "valueCodeableConcept": concept(c)} for c in codes]


def _text(value: InternationalString | None) -> str | None:
    return value.text if value is not None and value.text else None


def _common(
    kind: str,
    entry_uuid: str,
    unique_id: str | None,
    status: AvailabilityStatus | None,
    members: Sequence[str],
    last_updated_us: int | None,
) -> dict[str, Any]:
    meta = {"versionId": "1"}
    if last_updated_us is not None:
        meta["lastUpdated"] = fhir_instant(last_updated_us)
    return {
        "resourceType": RESOURCE,
        "id": resource_id(entry_uuid),
        "meta": meta,
        "identifier": _identifiers(entry_uuid, unique_id),
        "status": "retired" if status is AvailabilityStatus.DEPRECATED else "current",
        "mode": "working",
        "code": {"coding": [{"system": LIST_TYPES, "code": kind}]},
        "entry": [{"item": {"reference": m}} for m in members],
    }


def _finish(
    resource: dict[str, Any], title: InternationalString | None, comments: InternationalString | None
) -> None:
    if _text(title):
        resource["title"] = _text(title)
    if _text(comments):
        resource["note"] = [{"text": _text(comments)}]
    if not resource["entry"]:
        del resource["entry"]
        resource["emptyReason"] = {"text": "no member the reader may see"}


def submission_set_list(
    submission_set: SubmissionSet, members: Sequence[str], *, last_updated_us: int | None = None
) -> dict[str, Any]:
    """The List of a SubmissionSet; ``members`` are the references of its visible members;
    ``last_updated_us`` (when the registry object last changed) becomes ``meta.lastUpdated``."""
    resource = _common(
        "submissionset",
        submission_set.entry_uuid,
        submission_set.unique_id,
        submission_set.availability_status,
        members,
        last_updated_us,
    )
    extensions: list[dict[str, Any]] = []
    if submission_set.source_id:
        value = submission_set.source_id
        extensions.append(
            {
                "url": MHD_EXT + "ihe-sourceId",
                "valueIdentifier": {"value": value if value.startswith("urn:") else f"{OID_PREFIX}{value}"},
            }
        )
    if submission_set.content_type_code is not None:
        extensions.extend(_designations([submission_set.content_type_code]))
    if extensions:
        resource["extension"] = extensions
    if submission_set.patient_id is not None:
        resource["subject"] = patient_reference(submission_set.patient_id)
    date = fhir_time(submission_set.submission_time)
    if date:
        resource["date"] = date
    person = next((person_name(a.person) for a in submission_set.authors if a.person), None)
    if person:
        resource["source"] = {"type": "Practitioner", "display": person}
    _finish(resource, submission_set.title, submission_set.comments)
    return resource


def folder_list(
    folder: Folder, members: Sequence[str], *, last_updated_us: int | None = None
) -> dict[str, Any]:
    """The List of a Folder; ``members`` are the references of its visible documents."""
    resource = _common(
        "folder", folder.entry_uuid, folder.unique_id, folder.availability_status, members, last_updated_us
    )
    if folder.codes:
        resource["extension"] = _designations(folder.codes)
    if folder.patient_id is not None:
        resource["subject"] = patient_reference(folder.patient_id)
    date = fhir_time(folder.last_update_time)
    if date:
        resource["date"] = date
    _finish(resource, folder.title, folder.comments)
    return resource


__all__ = ["RESOURCE", "folder_list", "submission_set_list"]
