"""The XDS model <-> the registry's storage rows (``hub.core.registry_query``), and the registry form bytes.

Every object is stored with its registry-form ebRIM 3.0 XML (ITI TF-3 4.2.3: identities assigned, status,
lid and version set), serialised once when it is accepted and rewritten when the registry changes it
(status, Folder lastUpdateTime).  Queries return those bytes as they are; the model is rebuilt from them
only where logic needs it (rules, FHIR views).  Indexed columns are extracted here: DTM start keys for
times, the single-valued codes as columns, the multi-valued ones as code rows, author persons and
referenceIdList values.

``patient_key`` (the hub-wide distribution/consent key) is the CPR number - CX.1 of a patientId whose
assigning authority is CPR (``1.2.208.176.1.2``) - and otherwise the canonical CX string ``id^^^&oid&ISO``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lxml import etree

from hub.core.errors import StorageError
from hub.core.registry_query import (
    AssociationRow,
    EntryCodeField,
    EntryCodeList,
    EntryRow,
    FolderRow,
    ObjectHeader,
    ObjectKind,
    RegistryWrite,
    StoredObject,
    SubmissionSetRow,
)
from hub.core.xml_safety import parse_xml
from xds.codes import AvailabilityStatus, DocumentEntryType
from xds.dtm import DtmFormatError, dtm_start_key
from xds.ebrim_parse import parse_registry_object_list
from xds.ebrim_write import (
    association_element,
    document_entry_element,
    folder_element,
    submission_set_element,
)
from xds.errors import XdsError
from xds.hl7v2 import CX
from xds.model import Association, DocumentEntry, Folder, RegistryObject, RegistryObjectList, SubmissionSet
from xds.namespaces import RIM

CPR_OID = "1.2.208.176.1.2"
_LIST_OPEN = f'<rim:RegistryObjectList xmlns:rim="{RIM}">'.encode()
_LIST_CLOSE = b"</rim:RegistryObjectList>"

OBJECT_TYPES = {DocumentEntryType.STABLE: "stable", DocumentEntryType.ON_DEMAND: "on-demand"}


def patient_key(patient: CX | None) -> str | None:
    """The hub's patient key of an XDS patient id (see the module docstring)."""
    if patient is None:
        return None
    if patient.assigning_authority == CPR_OID:
        return patient.id
    return f"{patient.id}^^^&{patient.assigning_authority}&ISO"


def status_value(status: AvailabilityStatus | None) -> str:
    """``Approved`` / ``Deprecated`` / … (the last segment of the status URN)."""
    return (status or AvailabilityStatus.APPROVED).value.rsplit(":", 1)[-1]


STATUS_BY_VALUE = {status_value(s): s for s in AvailabilityStatus}


def time_key(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return dtm_start_key(value)
    except DtmFormatError:
        return None  # a malformed time was already reported by the rules; it never matches a range


def _version(obj: RegistryObject) -> int:
    return int(obj.version) if obj.version and obj.version.isdigit() else 1


def encode(obj: RegistryObject) -> bytes:
    """The registry form ebRIM bytes of one object (no XML declaration; namespaces declared on it)."""
    if isinstance(obj, DocumentEntry):
        element = document_entry_element(obj)
    elif isinstance(obj, SubmissionSet):
        element = submission_set_element(obj)
    elif isinstance(obj, Folder):
        element = folder_element(obj)
    elif isinstance(obj, Association):
        element = association_element(obj)
    else:  # pragma: no cover - the model has exactly these four kinds
        raise TypeError(type(obj).__name__)
    return bytes(etree.tostring(element, encoding="UTF-8", xml_declaration=False))


def header(obj: RegistryObject, patient: CX | None) -> ObjectHeader:
    return ObjectHeader(
        entry_uuid=obj.entry_uuid,
        logical_id=obj.logical_id or obj.entry_uuid,
        version=_version(obj),
        status=status_value(obj.availability_status),
        patient_key=patient_key(patient),
        ebrim=encode(obj),
    )


def entry_row(entry: DocumentEntry) -> EntryRow:
    single = (
        (EntryCodeField.CLASS, entry.class_code),
        (EntryCodeField.TYPE, entry.type_code),
        (EntryCodeField.FORMAT, entry.format_code),
        (EntryCodeField.FACILITY, entry.healthcare_facility_type_code),
        (EntryCodeField.PRACTICE, entry.practice_setting_code),
    )
    lists = [(EntryCodeList.EVENT, c) for c in entry.event_codes] + [
        (EntryCodeList.CONFIDENTIALITY, c) for c in entry.confidentiality_codes
    ]
    return EntryRow(
        header=header(entry, entry.patient_id),
        unique_id=entry.unique_id or "",
        object_type=OBJECT_TYPES[entry.object_type],
        codes=tuple((f, c.code, c.scheme or "") for f, c in single if c is not None),
        code_lists=tuple((k, c.code, c.scheme or "") for k, c in lists),
        creation_key=time_key(entry.creation_time),
        service_start_key=time_key(entry.service_start_time),
        service_stop_key=time_key(entry.service_stop_time),
        mime_type=entry.mime_type,
        hash=entry.hash,
        size=entry.size,
        repository_unique_id=entry.repository_unique_id,
        authors=tuple(a.person for a in entry.authors if a.person),
        reference_ids=entry.reference_ids,
    )


def submission_set_row(submission_set: SubmissionSet) -> SubmissionSetRow:
    code = submission_set.content_type_code
    return SubmissionSetRow(
        header=header(submission_set, submission_set.patient_id),
        unique_id=submission_set.unique_id or "",
        source_id=submission_set.source_id,
        submission_key=time_key(submission_set.submission_time),
        content_type=(code.code, code.scheme or "") if code is not None else None,
        authors=tuple(a.person for a in submission_set.authors if a.person),
    )


def folder_row(folder: Folder) -> FolderRow:
    return FolderRow(
        header=header(folder, folder.patient_id),
        unique_id=folder.unique_id or "",
        last_update_key=time_key(folder.last_update_time),
        codes=tuple((c.code, c.scheme or "") for c in folder.codes),
    )


def association_row(association: Association, patients: dict[str, str | None]) -> AssociationRow:
    """``patients`` maps entryUUIDs to patient keys, so an association carries its objects' patient."""
    key = patients.get(association.source) or patients.get(association.target)
    row_header = header(association, None)
    return AssociationRow(
        header=ObjectHeader(
            row_header.entry_uuid,
            row_header.logical_id,
            row_header.version,
            row_header.status,
            key,
            row_header.ebrim,
        ),
        association_type=association.association_type.value,
        source=association.source,
        target=association.target,
    )


def registry_write(objects: RegistryObjectList, known_patients: dict[str, str | None]) -> RegistryWrite:
    """The rows of every object of an accepted, identity-assigned submission."""
    entries = tuple(entry_row(e) for e in objects.document_entries)
    sets = tuple(submission_set_row(s) for s in objects.submission_sets)
    folders = tuple(folder_row(f) for f in objects.folders)
    patients = dict(known_patients)
    headers = [r.header for r in entries] + [r.header for r in sets] + [r.header for r in folders]
    for row_header in headers:
        patients[row_header.entry_uuid] = row_header.patient_key
    associations = tuple(association_row(a, patients) for a in objects.associations)
    return RegistryWrite(entries, sets, folders, associations)


def object_elements(stored: Iterable[StoredObject]) -> list[etree._Element]:
    """The stored objects' ebRIM as elements (one parse for the batch), in order."""
    items = list(stored)
    if not items:
        return []
    root = parse_xml(_LIST_OPEN + b"".join(s.header.ebrim for s in items) + _LIST_CLOSE)
    return [child for child in root if isinstance(child.tag, str)]


def decode(stored: Sequence[StoredObject]) -> list[RegistryObject]:
    """Model objects rebuilt from stored registry form bytes (order kept within each kind)."""
    if not stored:
        return []
    root = parse_xml(_LIST_OPEN + b"".join(s.header.ebrim for s in stored) + _LIST_CLOSE)
    try:
        objects = parse_registry_object_list(root)
    except XdsError as exc:  # stored bytes were written by telehub: unreadable means corruption
        raise StorageError(f"stored registry objects are unreadable: {exc}") from exc
    by_id = {o.entry_uuid: o for o in objects.objects()}
    return [by_id[s.entry_uuid] for s in stored if s.entry_uuid in by_id]


def decode_stamped(stored: Sequence[StoredObject]) -> list[tuple[RegistryObject, int | None]]:
    """:func:`decode`, each object with when its stored row last changed (epoch µs; MHD meta.lastUpdated)."""
    times = {s.entry_uuid: s.header.updated_us for s in stored}
    return [(o, times.get(o.entry_uuid)) for o in decode(stored)]


def kind_of(obj: RegistryObject) -> ObjectKind:
    if isinstance(obj, DocumentEntry):
        return ObjectKind.DOCUMENT_ENTRY
    if isinstance(obj, SubmissionSet):
        return ObjectKind.SUBMISSION_SET
    if isinstance(obj, Folder):
        return ObjectKind.FOLDER
    return ObjectKind.ASSOCIATION
