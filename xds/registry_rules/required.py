"""Required attributes and value formats per object type (ITI TF-3 4.2.3.2-4.2.3.4, Tables 4.2.3.2-1,
4.2.3.3-1, 4.2.3.4-1, Document Source column; value formats of ITI TF-3 4.2.3.1.7).

``for_repository`` relaxes hash, size and repositoryUniqueId, which the repository computes or assigns
in ITI-41 (ITI TF-2b 3.41.4.1.3).  A registry rejects limitedMetadata objects (ITI TF-3 4.1.1).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

from xds.dtm import is_dtm
from xds.errors import RegistryError
from xds.hl7v2 import CX
from xds.model import Code, DocumentEntry, Folder, RegistryObject, RegistryObjectList, SubmissionSet
from xds.registry_rules import catalogue as rules

_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_HASH = re.compile(r"^[0-9a-fA-F]{40}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_MIME = re.compile(r"^[A-Za-z0-9][\w!#$&^.+-]*/[A-Za-z0-9][\w!#$&^.+-]*$")
MAX_UNIQUE_ID = 128


def is_oid(value: str) -> bool:
    return len(value) <= 64 and bool(_OID.match(value))


def _not_oid(value: str) -> str:
    """Why ``value`` is not an XDS OID (ITI TF-3 4.2.3.1.4: digits and dots, at most 64 characters)."""
    if _OID.match(value):
        return f"{value!r} is an OID of {len(value)} characters (at most 64 allowed)"
    return f"{value!r} is not an OID"


def check_required(objects: RegistryObjectList, *, for_repository: bool = False) -> list[RegistryError]:
    """All required-attribute and format findings of ``objects``."""
    findings: list[RegistryError] = []
    for obj in objects.objects():
        findings.extend(_entry_uuid(obj))
    for entry in objects.document_entries:
        findings.extend(_document_entry(entry, for_repository=for_repository))
    for submission_set in objects.submission_sets:
        findings.extend(_submission_set(submission_set))
    for folder in objects.folders:
        findings.extend(_folder(folder))
    return findings


def _missing(what: str, location: str) -> RegistryError:
    return rules.REQUIRED_ATTRIBUTE.finding(f"{what} is required", location)


def _entry_uuid(obj: RegistryObject) -> Iterator[RegistryError]:
    value = obj.entry_uuid
    if not value:
        yield _missing(f"{type(obj).__name__}.entryUUID (id)", "")
        return
    if value.lower().startswith("urn:uuid:"):
        try:
            uuid.UUID(value[9:])
        except ValueError:
            yield rules.ENTRY_UUID_FORMAT.finding(f"{value!r} is not a valid UUID URN", value)


def _code(
    code: Code | None, attribute: str, location: str, *, required: bool = True
) -> Iterator[RegistryError]:
    if code is None:
        if required:
            yield _missing(attribute, location)
        return
    parts = []
    if not code.code:
        parts.append("code")
    if not code.scheme:
        parts.append("codingScheme")
    if not code.display_text:
        parts.append("display name")
    if parts:
        yield rules.CODE_TRIPLE.finding(f"{attribute} {code.code!r} lacks {', '.join(parts)}", location)


def _time(value: str | None, attribute: str, location: str, *, required: bool) -> Iterator[RegistryError]:
    if value is None:
        if required:
            yield _missing(attribute, location)
    elif not is_dtm(value):
        yield rules.ATTRIBUTE_FORMAT.finding(f"{attribute} {value!r} is not a DTM time", location)


def _patient(value: CX | None, attribute: str, location: str) -> Iterator[RegistryError]:
    if value is None:
        yield _missing(attribute, location)
    elif not value.is_xds_patient_id:
        yield rules.ATTRIBUTE_FORMAT.finding(
            f"{attribute} {value.format()!r} may carry only CX.1 and CX.4 (&OID&ISO)", location
        )


def _document_entry(entry: DocumentEntry, *, for_repository: bool) -> Iterator[RegistryError]:
    where = entry.entry_uuid
    if entry.limited_metadata:
        yield rules.LIMITED_METADATA.finding("DocumentEntry is flagged limitedMetadata", where)
    yield from _code(entry.class_code, "classCode", where)
    yield from _code(entry.type_code, "typeCode", where)
    yield from _code(entry.format_code, "formatCode", where)
    yield from _code(entry.healthcare_facility_type_code, "healthcareFacilityTypeCode", where)
    yield from _code(entry.practice_setting_code, "practiceSettingCode", where)
    if not entry.confidentiality_codes:
        yield _missing("confidentialityCode", where)
    for code in entry.confidentiality_codes:
        yield from _code(code, "confidentialityCode", where)
    for code in entry.event_codes:
        yield from _code(code, "eventCodeList", where)
    yield from _time(entry.creation_time, "creationTime", where, required=True)
    yield from _time(entry.service_start_time, "serviceStartTime", where, required=False)
    yield from _time(entry.service_stop_time, "serviceStopTime", where, required=False)
    yield from _patient(entry.patient_id, "patientId", where)
    if entry.source_patient_id is None:
        yield _missing("sourcePatientId", where)
    if not entry.language_code:
        yield _missing("languageCode", where)
    elif not _LANGUAGE.match(entry.language_code):
        yield rules.ATTRIBUTE_FORMAT.finding(f"languageCode {entry.language_code!r} is not RFC 3066", where)
    if not entry.mime_type:
        yield _missing("mimeType", where)
    elif not _MIME.match(entry.mime_type):
        yield rules.ATTRIBUTE_FORMAT.finding(f"mimeType {entry.mime_type!r} is not type/subtype", where)
    if not entry.unique_id:
        yield _missing("uniqueId", where)
    elif len(entry.unique_id) > MAX_UNIQUE_ID or any(c.isspace() for c in entry.unique_id):
        yield rules.ATTRIBUTE_FORMAT.finding(f"uniqueId {entry.unique_id!r} is too long or has spaces", where)
    if entry.hash is not None and not _HASH.match(entry.hash):
        yield rules.HASH_FORMAT.finding(f"hash {entry.hash!r} is not a SHA-1 hex digest", where)
    if not for_repository:
        if entry.hash is None:
            yield _missing("hash", where)
        if entry.size is None:
            yield _missing("size", where)
        if not entry.repository_unique_id:
            yield _missing("repositoryUniqueId", where)
    if entry.repository_unique_id and not is_oid(entry.repository_unique_id):
        yield rules.ATTRIBUTE_FORMAT.finding(
            f"repositoryUniqueId {_not_oid(entry.repository_unique_id)}", where
        )


def _submission_set(submission_set: SubmissionSet) -> Iterator[RegistryError]:
    where = submission_set.entry_uuid
    if submission_set.limited_metadata:
        yield rules.LIMITED_METADATA.finding("SubmissionSet is flagged limitedMetadata", where)
    yield from _code(submission_set.content_type_code, "contentTypeCode", where)
    yield from _patient(submission_set.patient_id, "patientId", where)
    yield from _time(submission_set.submission_time, "submissionTime", where, required=True)
    for attribute, value in (("uniqueId", submission_set.unique_id), ("sourceId", submission_set.source_id)):
        if not value:
            yield _missing(attribute, where)
        elif not is_oid(value):
            yield rules.ATTRIBUTE_FORMAT.finding(f"SubmissionSet {attribute} {_not_oid(value)}", where)


def _folder(folder: Folder) -> Iterator[RegistryError]:
    where = folder.entry_uuid
    if folder.limited_metadata:
        yield rules.LIMITED_METADATA.finding("Folder is flagged limitedMetadata", where)
    yield from _patient(folder.patient_id, "patientId", where)
    if not folder.codes:
        yield _missing("codeList", where)
    for code in folder.codes:
        yield from _code(code, "codeList", where)
    if not folder.unique_id:
        yield _missing("uniqueId", where)
    elif not is_oid(folder.unique_id):
        yield rules.ATTRIBUTE_FORMAT.finding(f"Folder uniqueId {_not_oid(folder.unique_id)}", where)
    if folder.last_update_time is not None and not is_dtm(folder.last_update_time):
        yield rules.ATTRIBUTE_FORMAT.finding(
            f"lastUpdateTime {folder.last_update_time!r} is not a DTM", where
        )
