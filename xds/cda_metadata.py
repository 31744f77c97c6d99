"""Derive an XDS DocumentEntry from a CDA header, and cross-check submitted metadata against it.

DK "XDS Metadata for Document Sharing" v2.0.0 §2.2 / Appendix 1 (attributes with source "CDA"),
DANISH-STANDARDS.md §2.3; IHE ITI TF-3 4.2.3.2 (DocumentEntry attributes):

* patientId = sourcePatientId = ``CPR^^^&1.2.208.176.1.2&ISO``; sourcePatientInfo PID-5, PID-7, PID-8;
* uniqueId = ``ClinicalDocument/id/@root^@extension``; title; languageCode; confidentialityCode;
* classCode ``001`` (``1.2.208.184.100.9``); typeCode = ``ClinicalDocument/code``; formatCode from the
  detected profile version (``urn:ad:dk:medcom:phmr-v1.3:full`` ...; ``1.2.208.184.100.10``);
* creationTime / serviceStartTime / serviceStopTime = effectiveTime and the serviceEvent period, in UTC DTM;
* authorPerson (XCN, names only - the DK profile does not use personal ids) and authorInstitution (XON
  with the SOR code in XON.10); legalAuthenticator (XCN);
* eventCodeList = the ``documentationOf/serviceEvent/code`` values (CONF-PHMR-DK-35);
* hash (SHA-1), size and mimeType ``text/xml``; facility type and practice setting come from the caller
  (configuration or submission), as the DK profile assigns them outside the document.

Pure functions: no storage, no clock.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from hub.core.issues import Issue, IssueSeverity, IssueType
from profiles.cda import (
    CdaHeader,
    DetectedDocument,
    DocumentFamily,
    Oid,
    Participant,
    PersonName,
    detect_document_type,
    read_header,
)
from xds.dtm import DtmFormatError, dtm_start_key
from xds.hl7v2 import XCN, XON
from xds.model import CX, Author, Code, DocumentEntry, InternationalString

MIME_TYPE = "text/xml"
SNOMED_CT = Oid.SNOMED_CT.value
CLASS_CODE = Code.of("001", Oid.DK_CLASS_CODES.value, "Klinisk rapport")
_FORMAT_DISPLAYS = {
    DocumentFamily.PHMR: "DK PHMR schema",
    DocumentFamily.QRD: "DK QRD schema",
    DocumentFamily.QFDD: "DK QFDD schema",
    DocumentFamily.APD: "DK APD schema",
}
_CONFIDENTIALITY_DISPLAYS = {"N": "Normal", "R": "Restricted", "V": "Very restricted"}
_V2_SEX = {"F": "F", "M": "M", "UN": "U"}
ENTRY_UUID_NAMESPACE = uuid.UUID("6d1c5d8e-2f0e-4b5e-9d0a-7e1f3c2b9a41")
"""Namespace of the default, deterministic entryUUID (uuid5 of the document uniqueId)."""


def _code(value: Code | str) -> Code:
    """A configured facility-type / practice-setting value: a Code, or a bare SNOMED CT code."""
    return value if isinstance(value, Code) else Code.of(value, SNOMED_CT)


def _xcn(person: PersonName | None) -> str | None:
    if person is None or not person.family:
        return None
    further = "&".join(person.given[1:])
    return XCN(
        family=person.family, given=person.given[0] if person.given else "", further_given=further
    ).format()


def _xon(participant: Participant, header: CdaHeader) -> str | None:
    sor = participant.sor
    name = participant.organization.name if participant.organization else None
    custodian = header.custodian
    if participant.is_citizen and custodian is not None:
        # a citizen author has no institution of his own: the custodian organisation represents the source
        sor, name = custodian.sor, custodian.name
    if not name and custodian is not None and custodian.sor == sor:
        name = custodian.name
    if not sor:
        return None
    return XON(name=name or sor, assigning_authority=Oid.SOR.value, identifier=sor).format()


def _authors(header: CdaHeader) -> tuple[Author, ...]:
    authors = []
    for participant in header.authors:
        institution = _xon(participant, header)
        authors.append(
            Author(person=_xcn(participant.person), institutions=(institution,) if institution else ())
        )
    return tuple(authors)


def _source_patient_info(header: CdaHeader) -> tuple[str, ...]:
    info: list[str] = []
    name = header.patient_name
    if name and name.family:
        given = name.given[0] if name.given else ""
        info.append(f"PID-5|{name.family}^{given}^{'&'.join(name.given[1:])}^^")
    if header.birth_time and len(header.birth_time) >= 8 and header.birth_time[:8].isdigit():
        info.append(f"PID-7|{header.birth_time[:8]}")
    if header.gender in _V2_SEX:
        info.append(f"PID-8|{_V2_SEX[header.gender]}")
    return tuple(info)


def _patient(header: CdaHeader) -> CX | None:
    cpr = header.cpr
    if cpr:
        return CX(id=cpr, assigning_authority=Oid.CPR.value)
    first = next((i for i in header.patient_ids if i.root and i.extension), None)
    return CX(id=first.extension or "", assigning_authority=first.root) if first else None


def derive_document_entry(
    root: etree._Element,
    raw: bytes,
    *,
    facility_type: Code | str,
    practice_setting: Code | str,
    repository_unique_id: str | None = None,
    home_community_id: str | None = None,
    entry_uuid: str | None = None,
    detected: DetectedDocument | None = None,
    header: CdaHeader | None = None,
) -> DocumentEntry:
    """The DocumentEntry the CDA document ``root`` (parsed from ``raw``) describes.

    ``facility_type`` / ``practice_setting`` are Codes or bare SNOMED CT codes.  ``entry_uuid`` defaults to
    a uuid5 of the uniqueId, so deriving twice gives the same entry.  ``detected`` and ``header`` reuse
    earlier readings of the same tree.
    """
    header = header or read_header(root)
    detected = detected or detect_document_type(root)
    unique_id = header.unique_id
    patient = _patient(header)
    if entry_uuid is None:
        seed = unique_id or hashlib.sha256(raw).hexdigest()
        entry_uuid = f"urn:uuid:{uuid.uuid5(ENTRY_UUID_NAMESPACE, seed)}"
    format_display = _FORMAT_DISPLAYS.get(detected.document_type.family)
    legal = header.legal_authenticator
    confidentiality = header.confidentiality
    return DocumentEntry(
        entry_uuid=entry_uuid,
        home_community_id=home_community_id,
        unique_id=unique_id,
        patient_id=patient,
        source_patient_id=patient,
        source_patient_info=_source_patient_info(header),
        class_code=CLASS_CODE,
        type_code=Code.of(header.code.code, header.code.system, header.code.display) if header.code else None,
        format_code=(
            Code.of(detected.format_code, Oid.DK_FORMAT_CODES.value, format_display)
            if detected.format_code
            else None
        ),
        confidentiality_codes=(
            (
                Code.of(
                    confidentiality.code,
                    confidentiality.system,
                    confidentiality.display or _CONFIDENTIALITY_DISPLAYS.get(confidentiality.code),
                ),
            )
            if confidentiality
            else ()
        ),
        healthcare_facility_type_code=_code(facility_type),
        practice_setting_code=_code(practice_setting),
        event_codes=tuple(dict.fromkeys(Code.of(c.code, c.system, c.display) for c in header.event_codes)),
        language_code=header.language,
        mime_type=MIME_TYPE,
        title=InternationalString.of(header.title) if header.title else None,
        creation_time=header.effective_time.to_utc_dtm() if header.effective_time else None,
        service_start_time=header.service_start.to_utc_dtm() if header.service_start else None,
        service_stop_time=header.service_stop.to_utc_dtm() if header.service_stop else None,
        hash=hashlib.sha1(raw).hexdigest(),
        size=len(raw),
        repository_unique_id=repository_unique_id,
        legal_authenticator=_xcn(legal.person) if legal else None,
        authors=_authors(header),
    )


# ------------------------------------------------------------------ cross-check


def _same_time(derived: object, submitted: object) -> bool:
    """Equal instants at the coarser of the two precisions (both are UTC DTM)."""
    if not isinstance(derived, str) or not isinstance(submitted, str):
        return derived == submitted
    try:
        dtm_start_key(derived)
        dtm_start_key(submitted)
    except DtmFormatError:
        return derived == submitted
    width = min(len(derived), len(submitted))
    return derived[:width] == submitted[:width]


def _code_key(value: object) -> object:
    return value.key if isinstance(value, Code) else value


def _same_code(derived: object, submitted: object) -> bool:
    return _code_key(derived) == _code_key(submitted)


def _same_codes(derived: object, submitted: object) -> bool:
    def keys(values: object) -> frozenset[object]:
        return frozenset(_code_key(v) for v in values) if isinstance(values, tuple) else frozenset()

    return keys(derived) == keys(submitted)


def _same_cx(derived: object, submitted: object) -> bool:
    def key(value: object) -> object:
        return (value.id, value.assigning_authority) if isinstance(value, CX) else value

    return key(derived) == key(submitted)


def _same_text(derived: object, submitted: object) -> bool:
    def text(value: object) -> object:
        return value.text if isinstance(value, InternationalString) else value

    return text(derived) == text(submitted)


def _same_folded(derived: object, submitted: object) -> bool:
    return str(derived or "").lower() == str(submitted or "").lower()


def _institution_sors(authors: object) -> tuple[str, ...]:
    if not isinstance(authors, tuple):
        return ()
    return tuple(
        sorted({xon.rsplit("^", 1)[-1] for a in authors if isinstance(a, Author) for xon in a.institutions})
    )


def _shares_institution(derived: object, submitted: object) -> bool:
    return bool(set(_institution_sors(derived)) & set(_institution_sors(submitted)))


def _equal(derived: object, submitted: object) -> bool:
    return derived == submitted


@dataclass(frozen=True, slots=True)
class _Check:
    """One compared attribute: ITI TF-3 name, severity of a mismatch, model field and comparison."""

    name: str
    severity: IssueSeverity
    attribute: str
    same: Callable[[object, object], bool]


_ERROR, _WARNING = IssueSeverity.ERROR, IssueSeverity.WARNING
_CHECKS = (
    _Check("patientId", _ERROR, "patient_id", _same_cx),
    _Check("uniqueId", _ERROR, "unique_id", _equal),
    _Check("creationTime", _ERROR, "creation_time", _same_time),
    _Check("typeCode", _ERROR, "type_code", _same_code),
    _Check("formatCode", _ERROR, "format_code", _same_code),
    _Check("sourcePatientId", _WARNING, "source_patient_id", _same_cx),
    _Check("classCode", _WARNING, "class_code", _same_code),
    _Check("confidentialityCode", _WARNING, "confidentiality_codes", _same_codes),
    _Check("eventCodeList", _WARNING, "event_codes", _same_codes),
    _Check("languageCode", _WARNING, "language_code", _same_folded),
    _Check("title", _WARNING, "title", _same_text),
    _Check("serviceStartTime", _WARNING, "service_start_time", _same_time),
    _Check("serviceStopTime", _WARNING, "service_stop_time", _same_time),
    _Check("mimeType", _WARNING, "mime_type", _equal),
    _Check("hash", _WARNING, "hash", _same_folded),
    _Check("size", _WARNING, "size", _equal),
    _Check("author.authorInstitution", _WARNING, "authors", _shares_institution),
)


def _show(value: object) -> str:
    if isinstance(value, Code):
        return f"{value.code} ({value.scheme})"
    if isinstance(value, CX):
        return value.format()
    if isinstance(value, InternationalString):
        return repr(value.text)
    if isinstance(value, Author):
        return repr(value.institutions)
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


def cross_check(derived: DocumentEntry, submitted: DocumentEntry) -> list[Issue]:
    """Compare submitted metadata (ITI-41 / MHD) with the header-derived entry, field by field.

    A mismatch of patientId, uniqueId, creationTime, typeCode or formatCode is an ERROR reporting both
    values; other fields give WARNINGs.  A field the submitter left empty is not compared; times are
    compared at the coarser precision; authors match when they share an institution (SOR code).
    """
    issues: list[Issue] = []
    for check in _CHECKS:
        theirs = getattr(submitted, check.attribute)
        if theirs in (None, (), ""):
            continue
        mine = getattr(derived, check.attribute)
        if check.same(mine, theirs):
            continue
        issues.append(
            Issue(
                severity=check.severity,
                code=IssueType.BUSINESS_RULE,
                diagnostics=(
                    f"DocumentEntry.{check.name} does not match the CDA header: submitted {_show(theirs)}, "
                    f"document says {_show(mine)}"
                ),
                expression=(f"DocumentEntry.{check.name}",),
                message_id=f"XDS-CDA-{check.name}",
                extra=(("submitted", _show(theirs)), ("derived", _show(mine))),
            )
        )
    return issues


__all__ = ["CLASS_CODE", "ENTRY_UUID_NAMESPACE", "MIME_TYPE", "cross_check", "derive_document_entry"]
