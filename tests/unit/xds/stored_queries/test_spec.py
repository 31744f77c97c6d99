"""Reference semantics of the stored-query specs (the storage layer's SQL must agree with these)."""

from __future__ import annotations

import dataclasses

from xds.codes import AvailabilityStatus, DocumentEntryType
from xds.hl7v2 import CX
from xds.model import DocumentEntry, SubmitObjectsRequest
from xds.stored_queries import (
    CodeFilter,
    DocumentFilters,
    FindDocumentsQuery,
    FindFoldersQuery,
    FindSubmissionSetsQuery,
    LikePatterns,
    QueryCode,
    TimeRange,
    ValueFilter,
)

PATIENT = CX("2512489996", "1.2.208.176.1.2")
APPROVED = frozenset({AvailabilityStatus.APPROVED})


def _entry(request: SubmitObjectsRequest) -> DocumentEntry:
    return dataclasses.replace(
        request.objects.document_entries[0], availability_status=AvailabilityStatus.APPROVED
    )


def test_find_documents_matches_the_danish_entry(dk_request: SubmitObjectsRequest) -> None:
    entry = _entry(dk_request)
    base = FindDocumentsQuery(PATIENT, APPROVED)
    assert base.matches(entry)
    hits = [
        dataclasses.replace(base, class_codes=CodeFilter(((QueryCode("001", "1.2.208.184.100.9"),),))),
        dataclasses.replace(base, type_codes=CodeFilter(((QueryCode("53576-5", "2.16.840.1.113883.6.1"),),))),
        dataclasses.replace(base, creation_time=TimeRange("20240312", "20240313")),
        dataclasses.replace(base, service_start_time=TimeRange("2024", None)),
        dataclasses.replace(base, service_stop_time=TimeRange(None, "20240312")),
        dataclasses.replace(base, author_persons=LikePatterns(("%Jensen%",))),
        dataclasses.replace(base, event_codes=CodeFilter(((QueryCode("NPU03011", "1.2.208.176.2.1"),),))),
        dataclasses.replace(
            base, confidentiality_codes=CodeFilter(((QueryCode("N", "2.16.840.1.113883.5.25"),),))
        ),
    ]
    assert all(q.matches(entry) for q in hits)
    misses = [
        FindDocumentsQuery(CX("2512489996", "9.9"), APPROVED),
        FindDocumentsQuery(PATIENT, frozenset({AvailabilityStatus.DEPRECATED})),
        dataclasses.replace(base, object_types=frozenset({DocumentEntryType.ON_DEMAND})),
        dataclasses.replace(base, class_codes=CodeFilter(((QueryCode("001", "wrong-scheme"),),))),
        dataclasses.replace(base, creation_time=TimeRange("20240313", None)),
        dataclasses.replace(base, creation_time=TimeRange(None, "20240312081500")),
        dataclasses.replace(base, author_persons=LikePatterns(("%jensen%",))),
        dataclasses.replace(
            base,
            event_codes=CodeFilter(
                ((QueryCode("NPU03011", "1.2.208.176.2.1"),), (QueryCode("X", "1.2.208.176.2.1"),))
            ),
        ),
        dataclasses.replace(base, reference_ids=ValueFilter((("r",),))),
        dataclasses.replace(
            base,
            healthcare_facility_type_codes=CodeFilter(((QueryCode("22232009", "2.16.840.1.113883.6.96"),),)),
        ),
    ]
    assert not any(q.matches(entry) for q in misses)
    assert not base.matches(dataclasses.replace(entry, patient_id=None))


def test_find_submission_sets_and_folders(dk_request: SubmitObjectsRequest) -> None:
    submission_set = dataclasses.replace(
        dk_request.objects.submission_sets[0], availability_status=AvailabilityStatus.APPROVED
    )
    query = FindSubmissionSetsQuery(
        PATIENT,
        APPROVED,
        source_ids=("1.2.208.176.43210.8.10.99",),
        submission_time=TimeRange("20240312", "20240313"),
        content_type_codes=CodeFilter(((QueryCode("53576-5", "2.16.840.1.113883.6.1"),),)),
    )
    assert query.matches(submission_set)
    assert not dataclasses.replace(query, source_ids=("9.9",)).matches(submission_set)
    assert not dataclasses.replace(query, author_person=LikePatterns(("%Jensen%",))).matches(submission_set)
    folder = dataclasses.replace(
        dk_request.objects.folders[0],
        availability_status=AvailabilityStatus.APPROVED,
        last_update_time="20240312081600",
    )
    folders = FindFoldersQuery(
        PATIENT, APPROVED, TimeRange("2024", "2025"), CodeFilter(((QueryCode("ALAL21", "1.2.208.176.2.4"),),))
    )
    assert folders.matches(folder)
    assert not dataclasses.replace(folders, last_update_time=TimeRange("2025", None)).matches(folder)


def test_document_filters(dk_request: SubmitObjectsRequest) -> None:
    entry = _entry(dk_request)
    assert DocumentFilters().matches(entry)
    assert DocumentFilters(
        format_codes=CodeFilter(((QueryCode("urn:ad:dk:medcom:phmr-v1.3:full", "1.2.208.184.100.10"),),))
    ).matches(entry)
    assert not DocumentFilters(
        confidentiality_codes=CodeFilter(((QueryCode("R", "2.16.840.1.113883.5.25"),),))
    ).matches(entry)
    assert not DocumentFilters(object_types=frozenset({DocumentEntryType.ON_DEMAND})).matches(entry)
