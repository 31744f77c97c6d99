"""Danish metadata profile checks ("XDS Metadata for Document Sharing – Danish profile" v1.0.1/v2.0.0,
DANISH-STANDARDS.md §2.1 Table 5/6 and §2.3), on top of the IHE rules.

Strictness comes from ``Settings.xds.danish_profile_strictness``: ``error`` rejects the submission,
``warning`` reports the same findings with severity Warning and accepts it.  Checked:

- value sets: classCode, typeCode, formatCode, confidentialityCode (exactly one, ``N``), languageCode
  (``da-DK``/``da``), mimeType; healthcareFacilityTypeCode and practiceSettingCode are SNOMED CT ids;
- required by DK but optional in IHE: title, sourcePatientInfo, authorInstitution (DK R),
  SubmissionSet author institution;
- identifiers: patientId/sourcePatientId use the CPR OID and a CPR-shaped id; authorInstitution is an XON
  with the SOR OID in XON.6.2 and the SOR code in XON.10;
- creationTime, serviceStartTime and serviceStopTime are UTC to the second (14 digits).
"""

from __future__ import annotations

from collections.abc import Iterator

from hub.core.settings import Strictness
from xds.danish_valuesets import (
    CLASS_CODES,
    CONFIDENTIALITY_CODES,
    FORMAT_CODES,
    LANGUAGE_CODES,
    MIME_TYPES,
    TYPE_CODES,
    DanishOid,
    DanishValueSet,
    is_cpr,
    is_sctid,
)
from xds.errors import RegistryError, RegistryErrorSeverity
from xds.hl7v2 import CX, XON, Hl7FormatError
from xds.model import Author, Code, DocumentEntry, RegistryObjectList
from xds.registry_rules import catalogue as rules
from xds.registry_rules.catalogue import Rule


class _Reporter:
    def __init__(self, strictness: Strictness) -> None:
        self.severity = (
            RegistryErrorSeverity.ERROR if strictness is Strictness.ERROR else RegistryErrorSeverity.WARNING
        )
        self.findings: list[RegistryError] = []

    def add(self, rule: Rule, context: str, location: str) -> None:
        self.findings.append(rule.finding(context, location, self.severity))


def check_danish_profile(objects: RegistryObjectList, strictness: Strictness) -> list[RegistryError]:
    report = _Reporter(strictness)
    for entry in objects.document_entries:
        _document_entry(entry, report)
    for submission_set in objects.submission_sets:
        where = submission_set.entry_uuid
        _patient(submission_set.patient_id, "SubmissionSet.patientId", where, report)
        if not any(a.institutions for a in submission_set.authors):
            report.add(rules.DK_REQUIRED, "SubmissionSet author.authorInstitution is required", where)
        for author in submission_set.authors:
            _institutions(author, where, report)
    for folder in objects.folders:
        _patient(folder.patient_id, "Folder.patientId", folder.entry_uuid, report)
    return report.findings


def _in_set(
    value_set: DanishValueSet, code: Code | None, attribute: str, where: str, report: _Reporter
) -> None:
    if code is not None and not value_set.contains(code.scheme, code.code):
        report.add(
            rules.DK_VALUE_SET,
            f"{attribute} {code.code}^^{code.scheme} is not in the {value_set.name} set",
            where,
        )


def _snomed(code: Code | None, attribute: str, where: str, report: _Reporter) -> None:
    if code is None:
        return
    if code.scheme != DanishOid.SNOMED_CT.value or not is_sctid(code.code):
        report.add(
            rules.DK_VALUE_SET, f"{attribute} {code.code}^^{code.scheme} is not a SNOMED CT concept", where
        )


def _document_entry(entry: DocumentEntry, report: _Reporter) -> None:
    where = entry.entry_uuid
    _in_set(CLASS_CODES, entry.class_code, "classCode", where, report)
    _in_set(TYPE_CODES, entry.type_code, "typeCode", where, report)
    _in_set(FORMAT_CODES, entry.format_code, "formatCode", where, report)
    _snomed(entry.healthcare_facility_type_code, "healthcareFacilityTypeCode", where, report)
    _snomed(entry.practice_setting_code, "practiceSettingCode", where, report)
    if len(entry.confidentiality_codes) != 1:
        report.add(rules.DK_VALUE_SET, "exactly one confidentialityCode is required", where)
    for code in entry.confidentiality_codes:
        _in_set(CONFIDENTIALITY_CODES, code, "confidentialityCode", where, report)
    if entry.language_code is not None and entry.language_code not in LANGUAGE_CODES:
        report.add(rules.DK_VALUE_SET, f"languageCode {entry.language_code!r} is not da-DK or da", where)
    if entry.mime_type is not None and entry.mime_type not in MIME_TYPES:
        report.add(rules.DK_VALUE_SET, f"mimeType {entry.mime_type!r} is not in the Danish value set", where)
    if entry.title is None or not entry.title.text:
        report.add(rules.DK_REQUIRED, "title is required", where)
    if not entry.source_patient_info:
        report.add(rules.DK_REQUIRED, "sourcePatientInfo is required", where)
    if not any(a.institutions for a in entry.authors):
        report.add(rules.DK_REQUIRED, "author.authorInstitution is required", where)
    for author in entry.authors:
        _institutions(author, where, report)
    _patient(entry.patient_id, "patientId", where, report)
    _patient(entry.source_patient_id, "sourcePatientId", where, report)
    for attribute, value in (
        ("creationTime", entry.creation_time),
        ("serviceStartTime", entry.service_start_time),
        ("serviceStopTime", entry.service_stop_time),
    ):
        if value is not None and len(value) != 14:
            report.add(rules.DK_TIME_PRECISION, f"{attribute} {value!r} is not given to the second", where)


def _patient(patient: CX | None, attribute: str, where: str, report: _Reporter) -> None:
    if patient is None:
        return
    if patient.assigning_authority != DanishOid.CPR.value:
        report.add(rules.DK_IDENTIFIERS, f"{attribute} {patient.format()} is not assigned by CPR", where)
    elif not is_cpr(patient.id):
        report.add(rules.DK_IDENTIFIERS, f"{attribute} {patient.id!r} is not a CPR number", where)


def _institutions(author: Author, where: str, report: _Reporter) -> None:
    for value in author.institutions:
        for problem in _xon_problems(value):
            report.add(rules.DK_IDENTIFIERS, f"authorInstitution {value!r}: {problem}", where)


def _xon_problems(value: str) -> Iterator[str]:
    try:
        xon = XON.parse(value)
    except Hl7FormatError as exc:
        yield str(exc)
        return
    if xon.assigning_authority != DanishOid.SOR.value:
        yield "XON.6.2 must be the SOR OID 1.2.208.176.1.1"
    if not xon.identifier.isdigit():
        yield "XON.10 must hold the SOR code"
