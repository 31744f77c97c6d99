"""ITI-18 ``query:AdhocQueryRequest`` <-> :class:`StoredQueryRequest` (ITI TF-2a 3.18.4.1.2).

:func:`parse_adhoc_query_request` reads the query id, ``ResponseOption/@returnType`` and every parameter,
collecting all findings; it raises :class:`xds.errors.XdsStoredQueryError` (XDSUnknownStoredQuery,
XDSStoredQueryMissingParam, XDSStoredQueryParamNumber, XDSRegistryError) with all of them at once.
:func:`adhoc_query_request_element` builds a request (for clients, the conformance runner and tests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from lxml import etree

from xds.errors import RegistryError, XdsErrorCode, XdsStoredQueryError
from xds.hl7v2 import CX
from xds.namespaces import QUERY, RIM, query, rim
from xds.stored_queries.ids import ReturnType, StoredQueryId
from xds.stored_queries.params import QueryParams
from xds.stored_queries.spec import (
    DocumentFilters,
    FindDocumentsQuery,
    FindFoldersQuery,
    FindSubmissionSetsQuery,
    GetAllQuery,
    GetAssociationsQuery,
    GetDocumentsQuery,
    GetFolderAndContentsQuery,
    GetFoldersForDocumentQuery,
    GetFoldersQuery,
    GetRelatedDocumentsQuery,
    GetSubmissionSetAndContentsQuery,
    GetSubmissionSetsQuery,
    StoredQuery,
    StoredQueryRequest,
)

_DE = "$XDSDocumentEntry"


# Stands in for a patient id that failed to parse: the finding is recorded and the spec is discarded.
_NO_PATIENT = CX("-", "0")


def _find_documents(p: QueryParams, *, by_reference: bool) -> StoredQuery | None:
    patient = p.patient(f"{_DE}PatientId")
    spec = FindDocumentsQuery(
        patient_id=patient or _NO_PATIENT,
        statuses=p.statuses(f"{_DE}Status"),
        object_types=p.object_types(),
        class_codes=p.codes(f"{_DE}ClassCode"),
        type_codes=p.codes(f"{_DE}TypeCode"),
        practice_setting_codes=p.codes(f"{_DE}PracticeSettingCode"),
        healthcare_facility_type_codes=p.codes(f"{_DE}HealthcareFacilityTypeCode"),
        event_codes=p.codes(f"{_DE}EventCodeList"),
        confidentiality_codes=p.codes(f"{_DE}ConfidentialityCode"),
        format_codes=p.codes(f"{_DE}FormatCode"),
        creation_time=p.time_range(f"{_DE}CreationTime"),
        service_start_time=p.time_range(f"{_DE}ServiceStartTime"),
        service_stop_time=p.time_range(f"{_DE}ServiceStopTime"),
        author_persons=p.like(f"{_DE}AuthorPerson"),
        reference_ids=p.value_filter(f"{_DE}ReferenceIdList", required=True) if by_reference else None,
    )
    return spec if patient is not None else None


def _find_submission_sets(p: QueryParams) -> StoredQuery | None:
    patient = p.patient("$XDSSubmissionSetPatientId")
    spec = FindSubmissionSetsQuery(
        patient_id=patient or _NO_PATIENT,
        statuses=p.statuses("$XDSSubmissionSetStatus"),
        source_ids=p.multi("$XDSSubmissionSetSourceId"),
        submission_time=p.time_range("$XDSSubmissionSetSubmissionTime"),
        author_person=p.like("$XDSSubmissionSetAuthorPerson", single=True),
        content_type_codes=p.codes("$XDSSubmissionSetContentType"),
    )
    return spec if patient is not None else None


def _find_folders(p: QueryParams) -> StoredQuery | None:
    patient = p.patient("$XDSFolderPatientId")
    spec = FindFoldersQuery(
        patient_id=patient or _NO_PATIENT,
        statuses=p.statuses("$XDSFolderStatus"),
        last_update_time=p.time_range("$XDSFolderLastUpdateTime"),
        codes=p.codes("$XDSFolderCodeList"),
    )
    return spec if patient is not None else None


def _document_filters(p: QueryParams) -> DocumentFilters:
    return DocumentFilters(
        format_codes=p.codes(f"{_DE}FormatCode"),
        confidentiality_codes=p.codes(f"{_DE}ConfidentialityCode"),
        object_types=p.object_types(),
    )


def _get_all(p: QueryParams) -> StoredQuery | None:
    patient = p.patient("$patientId")
    spec = GetAllQuery(
        patient_id=patient or _NO_PATIENT,
        document_statuses=p.statuses(f"{_DE}Status"),
        submission_set_statuses=p.statuses("$XDSSubmissionSetStatus"),
        folder_statuses=p.statuses("$XDSFolderStatus"),
        documents=_document_filters(p),
        association_statuses=p.association_statuses(),
    )
    return spec if patient is not None else None


_BUILDERS: dict[StoredQueryId, Callable[[QueryParams], StoredQuery | None]] = {
    StoredQueryId.FIND_DOCUMENTS: lambda p: _find_documents(p, by_reference=False),
    StoredQueryId.FIND_DOCUMENTS_BY_REFERENCE_ID: lambda p: _find_documents(p, by_reference=True),
    StoredQueryId.FIND_SUBMISSION_SETS: _find_submission_sets,
    StoredQueryId.FIND_FOLDERS: _find_folders,
    StoredQueryId.GET_ALL: _get_all,
    StoredQueryId.GET_DOCUMENTS: lambda p: GetDocumentsQuery(
        p.selector(f"{_DE}EntryUUID", f"{_DE}UniqueId", f"{_DE}LogicalID", one=False)
    ),
    StoredQueryId.GET_DOCUMENTS_AND_ASSOCIATIONS: lambda p: GetDocumentsQuery(
        p.selector(f"{_DE}EntryUUID", f"{_DE}UniqueId", f"{_DE}LogicalID", one=False),
        and_associations=True,
        association_statuses=p.association_statuses(),
    ),
    StoredQueryId.GET_FOLDERS: lambda p: GetFoldersQuery(
        p.selector("$XDSFolderEntryUUID", "$XDSFolderUniqueId", "$XDSFolderLogicalID", one=False)
    ),
    StoredQueryId.GET_ASSOCIATIONS: lambda p: GetAssociationsQuery(
        p.multi("$uuid", required=True), p.association_statuses()
    ),
    StoredQueryId.GET_SUBMISSION_SETS: lambda p: GetSubmissionSetsQuery(
        p.multi("$uuid", required=True), p.association_statuses()
    ),
    StoredQueryId.GET_SUBMISSION_SET_AND_CONTENTS: lambda p: GetSubmissionSetAndContentsQuery(
        p.selector("$XDSSubmissionSetEntryUUID", "$XDSSubmissionSetUniqueId", one=True),
        _document_filters(p),
        p.association_statuses(),
    ),
    StoredQueryId.GET_FOLDER_AND_CONTENTS: lambda p: GetFolderAndContentsQuery(
        p.selector("$XDSFolderEntryUUID", "$XDSFolderUniqueId", one=True),
        _document_filters(p),
        p.association_statuses(),
    ),
    StoredQueryId.GET_FOLDERS_FOR_DOCUMENT: lambda p: GetFoldersForDocumentQuery(
        p.selector(f"{_DE}EntryUUID", f"{_DE}UniqueId", one=True), p.association_statuses()
    ),
    StoredQueryId.GET_RELATED_DOCUMENTS: lambda p: GetRelatedDocumentsQuery(
        p.selector(f"{_DE}EntryUUID", f"{_DE}UniqueId", one=True),
        p.association_types("$AssociationTypes"),
        p.object_types(),
        p.association_statuses(),
    ),
}


def parse_adhoc_query_request(element: etree._Element) -> StoredQueryRequest:
    """Read a ``query:AdhocQueryRequest`` into a validated :class:`StoredQueryRequest`."""
    if element.tag != query("AdhocQueryRequest"):
        raise XdsStoredQueryError.single(
            XdsErrorCode.XDS_REGISTRY_ERROR,
            f"expected query:AdhocQueryRequest ({QUERY}), found {element.tag}",
        )
    adhoc = element.find(rim("AdhocQuery"))
    raw_id = adhoc.get("id") if adhoc is not None else None
    try:
        query_id = StoredQueryId(raw_id)
    except ValueError:
        raise XdsStoredQueryError.single(
            XdsErrorCode.XDS_UNKNOWN_STORED_QUERY, f"unknown stored query id {raw_id!r}", raw_id
        ) from None
    assert adhoc is not None  # a known id implies the element exists
    params = QueryParams(adhoc)
    errors: list[RegistryError] = []
    option = element.find(query("ResponseOption"))
    raw_type = option.get("returnType", ReturnType.OBJECT_REF.value) if option is not None else "ObjectRef"
    try:
        return_type = ReturnType(raw_type)
    except ValueError:
        errors.append(
            RegistryError(
                XdsErrorCode.XDS_REGISTRY_ERROR, f"returnType {raw_type!r} is not supported", "returnType"
            )
        )
        return_type = ReturnType.OBJECT_REF
    spec = _BUILDERS[query_id](params)
    metadata_level = params.metadata_level()
    home = params.single("$homeCommunityId") or adhoc.get("home")
    errors.extend(params.errors)
    if errors or spec is None:
        raise XdsStoredQueryError(f"{query_id.spec_name}: {len(errors)} parameter error(s)", errors)
    return StoredQueryRequest(query_id, spec, return_type, home, metadata_level)


def adhoc_query_request_element(
    query_id: StoredQueryId,
    parameters: Mapping[str, Sequence[str]],
    *,
    return_type: ReturnType = ReturnType.OBJECT_REF,
) -> etree._Element:
    """An AdhocQueryRequest; ``parameters`` maps a slot name to its raw ``rim:Value`` texts (already in
    stored-query syntax, see :func:`xds.stored_queries.values.format_value`)."""
    root = etree.Element(query("AdhocQueryRequest"), nsmap={"query": QUERY, "rim": RIM})
    etree.SubElement(
        root, query("ResponseOption"), returnComposedObjects="true", returnType=return_type.value
    )
    adhoc = etree.SubElement(root, rim("AdhocQuery"), id=query_id.value)
    for name, values in parameters.items():
        slot = etree.SubElement(adhoc, rim("Slot"), name=name)
        value_list = etree.SubElement(slot, rim("ValueList"))
        for value in values:
            etree.SubElement(value_list, rim("Value")).text = value
    return root
