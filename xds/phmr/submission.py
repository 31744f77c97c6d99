"""``POST /fhir/$submit-document``: the FHIR-native door for a CDA document (issue 4), on the ITI-41 pipeline.

Input (the HTTP door chooses by Content-Type):

* the raw CDA XML (``application/xml`` / ``text/xml``), with optional query parameters
  ``facilityType`` and ``practiceSetting`` as ``[system|]code``;
* a ``Parameters`` resource (https://hl7.org/fhir/R4/parameters.html): ``document`` holds a ``Binary``
  resource (``contentType`` + base64 ``data``) or a ``valueAttachment`` with inline ``data``; optional
  ``facilityType`` / ``practiceSetting`` as ``valueCoding``, ``valueCodeableConcept`` or ``valueCode``
  (a bare code is SNOMED CT, the Danish XDS code system of both).

Processing is exactly ITI-41's (:func:`xds.services.submit_document.submit_document`: the processors
derive the DocumentEntry, then one transaction stores document, registry objects, Observations, Devices
and audit).  The PHMR processor runs as a per-request copy carrying the request's codes and a
:class:`xds.phmr.outcome.ProcessingRecord`, so the answer can name the Observations and show CDA issues
with their source lines.  Output: a ``Parameters`` resource naming ``documentReference``, each
``observation`` and ``device`` (value references) and an ``outcome`` OperationOutcome; a rejected document
is a ValidationFailedError (422) carrying every issue; a document that is not well-formed, safe XML
(malformed, a DOCTYPE, too deep) is an InvalidInputError (400) naming line and column.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.core.errors import ConfigurationError, InvalidInputError, ValidationFailedError
from hub.core.issues import Issue, IssueSeverity, IssueType, operation_outcome
from hub.core.xml_safety import REFUSED_XML_MESSAGE_IDS, parse_xml
from xds.errors import XdsError
from xds.model import Code
from xds.phmr.document_reference import code_system_oid, resource_id
from xds.phmr.outcome import ProcessingRecord, WriteResult
from xds.phmr.processor import PhmrProcessor, looks_like_processable_cda
from xds.services import Caller, ProcessorRegistry, SubmissionResult, XdsService
from xds.services.runtime import MAX_PROCESSED_BYTES
from xds.services.submit_document import submit_document

SNOMED_CT = "2.16.840.1.113883.6.96"
DEFAULT_MIME_TYPE = "text/xml"
_MESSAGE = "TH-SUBMIT-DOCUMENT"


@dataclass(frozen=True, slots=True)
class DocumentSubmission:
    """One ``$submit-document`` request, whatever its body format."""

    data: bytes
    mime_type: str = DEFAULT_MIME_TYPE
    facility_type: Code | None = None
    practice_setting: Code | None = None


@dataclass(frozen=True, slots=True)
class SubmitOutcome:
    result: SubmissionResult
    record: ProcessingRecord

    @property
    def document_reference_id(self) -> str:
        entries = self.result.objects.document_entries
        return resource_id(entries[0].entry_uuid) if entries else ""


SUBMIT_DOCUMENT_OPERATION = {
    "name": "submit-document",
    "definition": "http://telehub.dk/fhir/OperationDefinition/submit-document",
    "documentation": "POST [base]/$submit-document: a MedCom CDA document (raw XML, or "
    "Parameters.document) is validated, its XDS metadata derived from the header, and it is registered and "
    "stored as ITI-41 does; a PHMR's measurements become Observations (OperationDefinition in the built-in "
    "package telehub.dk.tm)",
}
"""The CapabilityStatement ``rest.operation`` entry of this door (its OperationDefinition is built in)."""


def _bad(message: str) -> InvalidInputError:
    return InvalidInputError(message, expression="Parameters", message_id=_MESSAGE)


def code_from_token(token: str) -> Code:
    """``[system|]code`` (a bare code is SNOMED CT)."""
    system, sep, code = token.partition("|")
    if not sep:
        system, code = "", token
    if not code:
        raise _bad(f"{token!r} is not [system|]code")
    return Code.of(code, code_system_oid(system) if system else SNOMED_CT)


def _code(parameter: Mapping[str, Any], name: str) -> Code:
    if isinstance(parameter.get("valueCode"), str):
        return code_from_token(parameter["valueCode"])
    coding = parameter.get("valueCoding")
    if coding is None and isinstance(parameter.get("valueCodeableConcept"), dict):
        codings = parameter["valueCodeableConcept"].get("coding") or []
        coding = codings[0] if codings else None
    if not isinstance(coding, dict) or not isinstance(coding.get("code"), str) or not coding["code"]:
        raise _bad(f"parameter {name!r} needs valueCoding, valueCodeableConcept or valueCode")
    system = coding.get("system")
    display = coding.get("display") if isinstance(coding.get("display"), str) else None
    scheme = code_system_oid(system) if isinstance(system, str) and system else SNOMED_CT
    return Code.of(coding["code"], scheme, display)


def inline_document(data: object, where: str, *, message_id: str = _MESSAGE) -> bytes:
    """The bytes of a document sent inline (``Binary.data``, ``Attachment.data``): a 400 naming ``where``
    when it is absent or not base64 (a url alone is never fetched)."""
    if not isinstance(data, str) or not data:
        raise InvalidInputError(
            f"{where} has no base64 data (a url alone is not fetched)",
            expression=where,
            message_id=message_id,
        )
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError(
            f"{where} is not valid base64", expression=where, message_id=message_id
        ) from exc


def _document(parameter: Mapping[str, Any]) -> tuple[bytes, str]:
    resource = parameter.get("resource")
    if isinstance(resource, dict):
        if resource.get("resourceType") != "Binary":
            raise _bad("parameter 'document' must hold a Binary resource or a valueAttachment")
        mime = resource.get("contentType")
        return inline_document(resource.get("data"), "Binary.data"), mime if isinstance(
            mime, str
        ) else DEFAULT_MIME_TYPE
    attachment = parameter.get("valueAttachment")
    if isinstance(attachment, dict):
        mime = attachment.get("contentType")
        data = inline_document(attachment.get("data"), "valueAttachment.data")
        return data, mime if isinstance(mime, str) else DEFAULT_MIME_TYPE
    raise _bad("parameter 'document' must hold a Binary resource or a valueAttachment")


def submission_from_parameters(parameters: Mapping[str, Any]) -> DocumentSubmission:
    """Read a ``Parameters`` body (see the module docstring)."""
    if parameters.get("resourceType") != "Parameters":
        raise _bad("the body must be a Parameters resource (or the CDA document itself as XML)")
    found: dict[str, Mapping[str, Any]] = {}
    for parameter in parameters.get("parameter") or []:
        name = parameter.get("name") if isinstance(parameter, dict) else None
        if name not in ("document", "facilityType", "practiceSetting"):
            raise _bad(f"unknown parameter {name!r} (document, facilityType, practiceSetting)")
        if name in found:
            raise _bad(f"parameter {name!r} is given twice")
        found[name] = parameter
    if "document" not in found:
        raise _bad("parameter 'document' is required")
    data, mime = _document(found["document"])
    facility = _code(found["facilityType"], "facilityType") if "facilityType" in found else None
    practice = _code(found["practiceSetting"], "practiceSetting") if "practiceSetting" in found else None
    return DocumentSubmission(data, mime, facility, practice)


def phmr_processor(service: XdsService) -> PhmrProcessor:
    """The PHMR processor registered with the XDS service (the composition root adds it)."""
    found = next((p for p in service.processors if isinstance(p, PhmrProcessor)), None)
    if found is None:
        raise ConfigurationError("no PHMR document processor is configured", message_id=_MESSAGE)
    return found


async def submit(service: XdsService, caller: Caller, submission: DocumentSubmission) -> SubmitOutcome:
    """Run ``$submit-document``; a rejection raises ValidationFailedError with every issue (and its line)."""
    configured = phmr_processor(service)
    mine = configured.for_request(
        facility_type=submission.facility_type, practice_setting=submission.practice_setting
    )
    assert mine.record is not None
    processors = ProcessorRegistry.of(mine if p is configured else p for p in service.processors)
    runtime = dataclasses.replace(service.runtime, processors=processors)
    _refuse_unreadable_xml(submission)
    try:
        result = await submit_document(runtime, caller, submission.data, submission.mime_type)
    except XdsError as exc:
        unreadable = [i for i in mine.record.issues if i.message_id in REFUSED_XML_MESSAGE_IDS]
        if unreadable:  # a CDA document that is not well-formed, safe XML: the request is bad (400)
            raise InvalidInputError("the document is not well-formed, safe XML", issues=unreadable) from exc
        raise ValidationFailedError(
            "the document was rejected", issues=rejection_issues(mine.record, exc)
        ) from exc
    return SubmitOutcome(result, mine.record)


def _refuse_unreadable_xml(submission: DocumentSubmission) -> None:
    """An XML document no processor takes (its header names no MedCom type) is still parsed safely once:
    malformed or hostile XML is a 400 with line and column, not "no metadata can be derived" (422).
    Processed CDA documents are parsed by their processor, whose parse errors become the same 400."""
    mime = submission.mime_type.partition(";")[0].strip().lower()
    is_xml = mime in ("application/xml", "text/xml") or mime.endswith("+xml")
    if (
        is_xml
        and len(submission.data) <= MAX_PROCESSED_BYTES
        and not looks_like_processable_cda(submission.data)
    ):
        parse_xml(submission.data)


def rejection_issues(record: ProcessingRecord, error: XdsError) -> list[Issue]:
    """The processor's own issues (CDA lines kept) when it rejected; else its warnings + the registry's."""
    if any(i.is_error for i in record.issues):
        return list(record.issues)
    # the processor passed: every error is the registry's (its warnings are already in the record)
    return [*record.issues, *(e.to_issue() for e in error.errors if e.is_error)]


def response_parameters(outcome: SubmitOutcome) -> dict[str, Any]:
    """The ``$submit-document`` answer (see the module docstring)."""
    record = outcome.record
    parameters: list[dict[str, Any]] = [
        {
            "name": "documentReference",
            "valueReference": {"reference": f"DocumentReference/{outcome.document_reference_id}"},
        }
    ]
    for rtype, name in (("Observation", "observation"), ("Device", "device")):
        parameters.extend(
            {"name": name, "valueReference": {"reference": f"{rtype}/{rid}"}}
            for rid, _ in record.written(rtype)
        )
    written = record.written("Observation")
    counts = {r: sum(1 for _, result in written if result is r) for r in WriteResult}
    summary = Issue(
        IssueSeverity.INFORMATION,
        IssueType.INFORMATIONAL,
        f"DocumentReference/{outcome.document_reference_id} registered; Observations: "
        + ", ".join(f"{counts[r]} {r.value}" for r in WriteResult),
        message_id=_MESSAGE,
    )
    kept = [i for i in record.issues if i.severity is not IssueSeverity.INFORMATION]
    parameters.append({"name": "outcome", "resource": operation_outcome([summary, *kept])})
    return {"resourceType": "Parameters", "parameter": parameters}


__all__ = [
    "DocumentSubmission",
    "SubmitOutcome",
    "code_from_token",
    "inline_document",
    "phmr_processor",
    "response_parameters",
    "submission_from_parameters",
    "submit",
]
