"""Storage-independent specifications of the fourteen XDS stored queries (ITI TF-2a 3.18.4.1.2.3.7).

Each class holds the parsed, validated parameters of one query.  ``hub.storage`` compiles them to SQL; the
``matches`` methods are the reference semantics (and serve in-memory stores and tests).  Conventions:

- A filter field that is ``None`` (or an empty tuple) does not restrict the result.
- ``statuses`` are the availabilityStatus values to return (OR).
- ``object_types`` defaults to stable only when ``$XDSDocumentEntryType`` is absent (ITI TF-2a
  3.18.4.1.2.3.6.2: on-demand entries are returned only when asked for).
- ``association_statuses`` (ITI-57 ``$XDSAssociationStatus``) defaults to Approved only.
- ``metadata_level`` is ``$MetadataLevel`` (1 = XDS, 2 = with ITI-57 metadata update); when 1, only the
  latest version of each logical object is visible.
- Get* queries that return several objects must answer XDSResultNotSinglePatient when the objects
  found belong to more than one patient (ITI TF-2a 3.18.4.1.3); only the storage layer can check that.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xds.codes import AssociationType, AvailabilityStatus, DocumentEntryType
from xds.hl7v2 import CX
from xds.model import Author, Code, DocumentEntry, Folder, SubmissionSet
from xds.stored_queries.ids import ReturnType, StoredQueryId
from xds.stored_queries.values import CodeFilter, LikePatterns, TimeRange, ValueFilter

APPROVED_ONLY = frozenset({AvailabilityStatus.APPROVED})
STABLE_ONLY = frozenset({DocumentEntryType.STABLE})


def _same_patient(value: CX | None, wanted: CX) -> bool:
    """Patient ids match on CX.1 and the CX.4 OID (ITI TF-3 4.2.3.1.7 allows nothing else)."""
    return value is not None and (value.id, value.assigning_authority) == (
        wanted.id,
        wanted.assigning_authority,
    )


def _codes_ok(condition: CodeFilter | None, codes: Iterable[Code | None]) -> bool:
    return condition is None or condition.matches(codes)


def _time_ok(condition: TimeRange | None, value: str | None) -> bool:
    return condition is None or condition.matches(value)


def _authors_ok(condition: LikePatterns | None, authors: Iterable[Author]) -> bool:
    return condition is None or condition.matches(a.person for a in authors)


@dataclass(frozen=True, slots=True)
class DocumentFilters:
    """The DocumentEntry filters shared by GetAll, GetSubmissionSetAndContents and GetFolderAndContents:
    ``$XDSDocumentEntryFormatCode``, ``$XDSDocumentEntryConfidentialityCode``, ``$XDSDocumentEntryType``."""

    format_codes: CodeFilter | None = None
    confidentiality_codes: CodeFilter | None = None
    object_types: frozenset[DocumentEntryType] = STABLE_ONLY

    def matches(self, entry: DocumentEntry) -> bool:
        return (
            entry.object_type in self.object_types
            and _codes_ok(self.format_codes, [entry.format_code])
            and _codes_ok(self.confidentiality_codes, entry.confidentiality_codes)
        )


@dataclass(frozen=True, slots=True)
class FindDocumentsQuery:
    """FindDocuments (3.18.4.1.2.3.7.1) and, with ``reference_ids``, FindDocumentsByReferenceId (…7.14).

    An entry matches when its patientId equals ``patient_id`` (CX.1 and CX.4 OID), its status is in
    ``statuses``, its objectType in ``object_types``, and every given filter matches: single-valued codes
    (class, type, practice setting, facility type, format) and multi-valued codes (event, confidentiality)
    through :class:`CodeFilter`; creation/service times through :class:`TimeRange`; ``author_persons``
    against every author's authorPerson through :class:`LikePatterns`; ``reference_ids`` against the
    referenceIdList values.
    """

    patient_id: CX
    statuses: frozenset[AvailabilityStatus]
    object_types: frozenset[DocumentEntryType] = STABLE_ONLY
    class_codes: CodeFilter | None = None
    type_codes: CodeFilter | None = None
    practice_setting_codes: CodeFilter | None = None
    healthcare_facility_type_codes: CodeFilter | None = None
    event_codes: CodeFilter | None = None
    confidentiality_codes: CodeFilter | None = None
    format_codes: CodeFilter | None = None
    creation_time: TimeRange | None = None
    service_start_time: TimeRange | None = None
    service_stop_time: TimeRange | None = None
    author_persons: LikePatterns | None = None
    reference_ids: ValueFilter | None = None

    def matches(self, entry: DocumentEntry) -> bool:
        if not _same_patient(entry.patient_id, self.patient_id):
            return False
        if entry.availability_status not in self.statuses or entry.object_type not in self.object_types:
            return False
        codes = (
            (self.class_codes, [entry.class_code]),
            (self.type_codes, [entry.type_code]),
            (self.practice_setting_codes, [entry.practice_setting_code]),
            (self.healthcare_facility_type_codes, [entry.healthcare_facility_type_code]),
            (self.format_codes, [entry.format_code]),
            (self.event_codes, entry.event_codes),
            (self.confidentiality_codes, entry.confidentiality_codes),
        )
        times = (
            (self.creation_time, entry.creation_time),
            (self.service_start_time, entry.service_start_time),
            (self.service_stop_time, entry.service_stop_time),
        )
        return (
            all(_codes_ok(f, c) for f, c in codes)
            and all(_time_ok(r, v) for r, v in times)
            and _authors_ok(self.author_persons, entry.authors)
            and (self.reference_ids is None or self.reference_ids.matches(entry.reference_ids))
        )


@dataclass(frozen=True, slots=True)
class FindSubmissionSetsQuery:
    """FindSubmissionSets (3.18.4.1.2.3.7.2): patient, status, sourceId (OR), submissionTime range,
    authorPerson LIKE pattern, contentTypeCode."""

    patient_id: CX
    statuses: frozenset[AvailabilityStatus]
    source_ids: tuple[str, ...] = ()
    submission_time: TimeRange | None = None
    author_person: LikePatterns | None = None
    content_type_codes: CodeFilter | None = None

    def matches(self, submission_set: SubmissionSet) -> bool:
        return (
            _same_patient(submission_set.patient_id, self.patient_id)
            and submission_set.availability_status in self.statuses
            and (not self.source_ids or submission_set.source_id in self.source_ids)
            and _time_ok(self.submission_time, submission_set.submission_time)
            and _authors_ok(self.author_person, submission_set.authors)
            and _codes_ok(self.content_type_codes, [submission_set.content_type_code])
        )


@dataclass(frozen=True, slots=True)
class FindFoldersQuery:
    """FindFolders (3.18.4.1.2.3.7.3): patient, status, lastUpdateTime range, codeList (AND/OR)."""

    patient_id: CX
    statuses: frozenset[AvailabilityStatus]
    last_update_time: TimeRange | None = None
    codes: CodeFilter | None = None

    def matches(self, folder: Folder) -> bool:
        return (
            _same_patient(folder.patient_id, self.patient_id)
            and folder.availability_status in self.statuses
            and _time_ok(self.last_update_time, folder.last_update_time)
            and _codes_ok(self.codes, folder.codes)
        )


@dataclass(frozen=True, slots=True)
class GetAllQuery:
    """GetAll (3.18.4.1.2.3.7.4): every DocumentEntry, SubmissionSet and Folder of the patient with the
    given statuses, filtered by ``documents``, plus the Associations between returned objects."""

    patient_id: CX
    document_statuses: frozenset[AvailabilityStatus]
    submission_set_statuses: frozenset[AvailabilityStatus]
    folder_statuses: frozenset[AvailabilityStatus]
    documents: DocumentFilters = DocumentFilters()
    association_statuses: frozenset[AvailabilityStatus] = APPROVED_ONLY


@dataclass(frozen=True, slots=True)
class ObjectSelector:
    """Which objects a Get* query names: entryUUIDs, uniqueIds or logicalIds (exactly one is non-empty)."""

    entry_uuids: tuple[str, ...] = ()
    unique_ids: tuple[str, ...] = ()
    logical_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GetDocumentsQuery:
    """GetDocuments (3.18.4.1.2.3.7.5): DocumentEntries by ``selector``; with ``and_associations``,
    GetDocumentsAndAssociations (…7.8): also every Association whose source or target is one of them."""

    selector: ObjectSelector
    and_associations: bool = False
    association_statuses: frozenset[AvailabilityStatus] = APPROVED_ONLY


@dataclass(frozen=True, slots=True)
class GetFoldersQuery:
    """GetFolders (3.18.4.1.2.3.7.6): Folders by ``selector``."""

    selector: ObjectSelector


@dataclass(frozen=True, slots=True)
class GetAssociationsQuery:
    """GetAssociations (3.18.4.1.2.3.7.7): Associations whose source or target is in ``uuids``."""

    uuids: tuple[str, ...]
    association_statuses: frozenset[AvailabilityStatus] = APPROVED_ONLY


@dataclass(frozen=True, slots=True)
class GetSubmissionSetsQuery:
    """GetSubmissionSets (3.18.4.1.2.3.7.9): the SubmissionSets that have a HasMember Association to any
    object in ``uuids``, plus those Associations."""

    uuids: tuple[str, ...]
    association_statuses: frozenset[AvailabilityStatus] = APPROVED_ONLY


@dataclass(frozen=True, slots=True)
class GetSubmissionSetAndContentsQuery:
    """GetSubmissionSetAndContents (3.18.4.1.2.3.7.10): one SubmissionSet, its member DocumentEntries
    (filtered by ``documents``) and Folders, and the HasMember Associations between them."""

    selector: ObjectSelector
    documents: DocumentFilters = DocumentFilters()
    association_statuses: frozenset[AvailabilityStatus] = APPROVED_ONLY


@dataclass(frozen=True, slots=True)
class GetFolderAndContentsQuery:
    """GetFolderAndContents (3.18.4.1.2.3.7.11): one Folder, its member DocumentEntries (filtered by
    ``documents``) and the HasMember Associations from the Folder to them."""

    selector: ObjectSelector
    documents: DocumentFilters = DocumentFilters()
    association_statuses: frozenset[AvailabilityStatus] = APPROVED_ONLY


@dataclass(frozen=True, slots=True)
class GetFoldersForDocumentQuery:
    """GetFoldersForDocument (3.18.4.1.2.3.7.12): the Folders that hold the one named DocumentEntry."""

    selector: ObjectSelector
    association_statuses: frozenset[AvailabilityStatus] = APPROVED_ONLY


@dataclass(frozen=True, slots=True)
class GetRelatedDocumentsQuery:
    """GetRelatedDocuments (3.18.4.1.2.3.7.13): the Associations of ``association_types`` with the named
    DocumentEntry as source or target, and the DocumentEntries at their other ends (of ``object_types``);
    the named entry itself is returned too when at least one related document is found."""

    selector: ObjectSelector
    association_types: frozenset[AssociationType]
    object_types: frozenset[DocumentEntryType] = STABLE_ONLY
    association_statuses: frozenset[AvailabilityStatus] = APPROVED_ONLY


StoredQuery = (
    FindDocumentsQuery
    | FindSubmissionSetsQuery
    | FindFoldersQuery
    | GetAllQuery
    | GetDocumentsQuery
    | GetFoldersQuery
    | GetAssociationsQuery
    | GetSubmissionSetsQuery
    | GetSubmissionSetAndContentsQuery
    | GetFolderAndContentsQuery
    | GetFoldersForDocumentQuery
    | GetRelatedDocumentsQuery
)


@dataclass(frozen=True, slots=True)
class StoredQueryRequest:
    """A whole ITI-18 request: which query, its spec, the return type and the routing values."""

    query_id: StoredQueryId
    query: StoredQuery
    return_type: ReturnType = ReturnType.OBJECT_REF
    home_community_id: str | None = None
    metadata_level: int = 1
