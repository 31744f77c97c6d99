"""Stored-query specs (``xds.stored_queries``) -> storage filters (``hub.core.registry_query``).

ITI TF-2a 3.18.4.1.2.3.7: the semantics of every parameter are fixed by the spec classes' ``matches``
methods; this module only changes representation (enums to stored strings, DTM bounds to start keys,
patient ids to patient keys), so storage reproduces them in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.core.registry_query import (
    CodeCondition,
    EntryCodeField,
    EntryCodeList,
    EntryFilter,
    FolderFilter,
    KeyRange,
    Selection,
    SubmissionSetFilter,
)
from xds.codes import AvailabilityStatus, DocumentEntryType
from xds.services.registry_rows import OBJECT_TYPES, patient_key, status_value
from xds.stored_queries import (
    CodeFilter,
    DocumentFilters,
    FindDocumentsQuery,
    FindFoldersQuery,
    FindSubmissionSetsQuery,
    LikePatterns,
    ObjectSelector,
    TimeRange,
)


def statuses(values: Iterable[AvailabilityStatus]) -> tuple[str, ...]:
    return tuple(sorted(status_value(s) for s in values))


def object_types(values: Iterable[DocumentEntryType]) -> tuple[str, ...]:
    return tuple(sorted(OBJECT_TYPES[t] for t in values))


def codes(condition: CodeFilter | None) -> CodeCondition | None:
    if condition is None:
        return None
    return CodeCondition(tuple(tuple((q.code, q.scheme) for q in group) for group in condition.groups))


def key_range(bounds: TimeRange | None) -> KeyRange | None:
    return KeyRange(bounds.from_key, bounds.to_key) if bounds is not None else None


def patterns(condition: LikePatterns | None) -> tuple[str, ...]:
    return condition.patterns if condition is not None else ()


def selection(selector: ObjectSelector) -> Selection:
    return Selection(selector.entry_uuids, selector.unique_ids, selector.logical_ids)


def find_documents_filter(query: FindDocumentsQuery, *, latest_only: bool = False) -> EntryFilter:
    single = (
        (EntryCodeField.CLASS, query.class_codes),
        (EntryCodeField.TYPE, query.type_codes),
        (EntryCodeField.PRACTICE, query.practice_setting_codes),
        (EntryCodeField.FACILITY, query.healthcare_facility_type_codes),
        (EntryCodeField.FORMAT, query.format_codes),
    )
    lists = (
        (EntryCodeList.EVENT, query.event_codes),
        (EntryCodeList.CONFIDENTIALITY, query.confidentiality_codes),
    )
    return EntryFilter(
        patient_key=patient_key(query.patient_id),
        statuses=statuses(query.statuses),
        object_types=object_types(query.object_types),
        codes=tuple((f, c) for f, q in single if (c := codes(q)) is not None),
        code_lists=tuple((k, c) for k, q in lists if (c := codes(q)) is not None),
        creation=key_range(query.creation_time),
        service_start=key_range(query.service_start_time),
        service_stop=key_range(query.service_stop_time),
        author_patterns=patterns(query.author_persons),
        reference_ids=query.reference_ids.groups if query.reference_ids is not None else (),
        latest_only=latest_only,
    )


def member_filter(
    documents: DocumentFilters,
    *,
    entry_uuids: tuple[str, ...],
    patient: str | None,
    latest_only: bool = False,
) -> EntryFilter:
    """The DocumentEntry half of GetAll / GetSubmissionSetAndContents / GetFolderAndContents."""
    fmt = codes(documents.format_codes)
    conf = codes(documents.confidentiality_codes)
    return EntryFilter(
        patient_key=patient,
        object_types=object_types(documents.object_types),
        codes=((EntryCodeField.FORMAT, fmt),) if fmt is not None else (),
        code_lists=((EntryCodeList.CONFIDENTIALITY, conf),) if conf is not None else (),
        selection=Selection(entry_uuids=entry_uuids),
        latest_only=latest_only,
    )


def find_submission_sets_filter(
    query: FindSubmissionSetsQuery, *, latest_only: bool = False
) -> SubmissionSetFilter:
    return SubmissionSetFilter(
        patient_key=patient_key(query.patient_id),
        statuses=statuses(query.statuses),
        source_ids=query.source_ids,
        submission_time=key_range(query.submission_time),
        author_patterns=patterns(query.author_person),
        content_types=codes(query.content_type_codes),
        latest_only=latest_only,
    )


def find_folders_filter(query: FindFoldersQuery, *, latest_only: bool = False) -> FolderFilter:
    return FolderFilter(
        patient_key=patient_key(query.patient_id),
        statuses=statuses(query.statuses),
        last_update=key_range(query.last_update_time),
        codes=codes(query.codes),
        latest_only=latest_only,
    )
